# Copyright (c) mmreid_text contributors. All rights reserved.
"""EEES CVSC multi-view construction (Eq. 6-7): M, the same identity and
modality, reproducible draws, train only. Each test's docstring names the
bug it catches."""
import pytest
import torch

from mmreid_text.models.necks import CrossViewFusion
from mmreid_text.models.utils import FeatureAccessRecorder, written_keys
from mmreid_text.structures import ReIDDataSample

# identity 0: vis 0, 1, 2 and ir 3; identity 1: vis 4
PIDS = [0, 0, 0, 0, 1]
MODALITIES = ['vis', 'vis', 'vis', 'ir', 'vis']
IMAGE = torch.tensor([[0., 0.], [3., 0.], [0., 6.], [9., 9.], [1., 1.]])


def _samples(pids=PIDS, modalities=MODALITIES):
    return [
        ReIDDataSample(metainfo=dict(pid=p, modality=m))
        for p, m in zip(pids, modalities)
    ]


def _fuse(neck, image=IMAGE, samples=None):
    feats = dict(proj_cls=image[:, None], caption_text=image * 10)
    return neck.train()(feats, samples or _samples())


def test_m_views_of_the_same_identity_and_modality():
    """M = 2 with two other same-modality views averages all three; the ir
    image of the identity and the other identity never enter."""
    out = _fuse(CrossViewFusion(num_views=2))
    mean = IMAGE[:3].mean(0)
    torch.testing.assert_close(out['proj_cls_mv'][:3, 0], mean.expand(3, 2))
    # no other view: the single-view feature itself
    torch.testing.assert_close(out['proj_cls_mv'][3:, 0], IMAGE[3:])
    # the text side uses the same partners
    torch.testing.assert_close(out['caption_text_mv'],
                               out['proj_cls_mv'][:, 0] * 10)


def test_m_is_used_and_zero_is_single_view():
    """M = 1 averages two views (1 / 2), M = 0 returns the input."""
    single = _fuse(CrossViewFusion(num_views=0))
    torch.testing.assert_close(single['proj_cls_mv'], IMAGE[:, None])
    neck = CrossViewFusion(num_views=1, seed=0)
    out = _fuse(neck)
    for i, partners in enumerate(neck.last_partners[:3]):
        assert len(partners) == 1 and partners[0] in {0, 1, 2} - {i}
        expected = (IMAGE[i] + IMAGE[partners[0]]) / 2
        torch.testing.assert_close(out['proj_cls_mv'][i, 0], expected)
    assert neck.last_partners[3:] == [[], []]
    matrix = CrossViewFusion.averaging_matrix(neck.last_partners)
    assert matrix.sum(1).tolist() == pytest.approx([1.0] * 5)


def test_draws_are_reproducible_and_random():
    """A seed gives the same draws; torch.manual_seed reproduces the
    global-RNG draws; the draws vary between batches."""
    first = CrossViewFusion(seed=3)
    second = CrossViewFusion(seed=3)
    draws = []
    for _ in range(6):
        _fuse(first)
        _fuse(second)
        assert first.last_partners == second.last_partners
        draws.append(tuple(map(tuple, first.last_partners)))
    assert len(set(draws)) > 1
    global_rng = CrossViewFusion()
    torch.manual_seed(7)
    _fuse(global_rng)
    again = global_rng.last_partners
    torch.manual_seed(7)
    _fuse(global_rng)
    assert global_rng.last_partners == again


def test_modality_blind_option_and_eval_is_a_no_op():
    neck = CrossViewFusion(num_views=3, same_modality=False)
    out = _fuse(neck)
    torch.testing.assert_close(out['proj_cls_mv'][0, 0], IMAGE[:4].mean(0))
    feats = dict(proj_cls=IMAGE[:, None])
    assert neck.eval()(feats, _samples()) is feats


def test_gradient_reaches_every_averaged_view():
    image = IMAGE.clone().requires_grad_()
    neck = CrossViewFusion(num_views=2)
    out = neck.train()(dict(proj_cls=image, caption_text=image), _samples())
    out['proj_cls_mv'][0].sum().backward()
    torch.testing.assert_close(image.grad[:3], torch.full((3, 2), 1 / 3))
    assert image.grad[3:].abs().sum() == 0


def test_declarations_equal_forward_and_errors():
    neck = CrossViewFusion()
    assert neck.reads == () and neck.writes == ()
    assert neck.train_reads == ('proj_cls', 'caption_text')
    assert neck.train_writes == ('proj_cls_mv', 'caption_text_mv')
    feats = FeatureAccessRecorder(
        proj_cls=IMAGE[:, None], caption_text=IMAGE, other=IMAGE)
    out = neck.train()(feats, _samples())
    assert feats.accessed == {'proj_cls', 'caption_text'}
    assert set(written_keys(feats, out)) == set(neck.train_writes)
    with pytest.raises(KeyError, match='CaptionTextEncoder'):
        neck(dict(proj_cls=IMAGE), _samples())
    with pytest.raises(ValueError, match='data samples'):
        neck(dict(proj_cls=IMAGE), None)
    with pytest.raises(ValueError, match='rows'):
        neck(dict(proj_cls=IMAGE[:2], caption_text=IMAGE), _samples())
    with pytest.raises(ValueError, match='num_views'):
        CrossViewFusion(num_views=-1)
    with pytest.raises(ValueError, match='out_keys'):
        CrossViewFusion(out_keys=('a', ))
