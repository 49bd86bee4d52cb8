# Copyright (c) mmreid_text contributors. All rights reserved.
"""EEES CVSC L_kd (Eq. 11) on hand-computed values, with the multi-view
features of CrossViewFusion (Eq. 6-7). Each test's docstring names the bug
it catches."""
import math

import pytest
import torch

from mmreid_text.models.losses import (ImageTextContrastiveLoss,
                                       MultiViewDistillationLoss)
from mmreid_text.models.necks import CrossViewFusion
from mmreid_text.structures import ReIDDataSample

MODALITIES = ('vis', 'vis', 'ir', 'ir')
# vis pair (identity 0): images [1, 0] and [3, 2] -> multi-view [2, 1]
# ir pair (identity 0): images [0, 0] and [0, 4] -> multi-view [0, 2]
IMAGE = torch.tensor([[1., 0.], [3., 2.], [0., 0.], [0., 4.]])
TEXT = torch.tensor([[0., 2.], [0., 0.], [1., 1.], [1., 1.]])
MV_IMAGE = torch.tensor([[2., 1.], [2., 1.], [0., 2.], [0., 2.]])
MV_TEXT = torch.tensor([[0., 1.], [0., 1.], [1., 1.], [1., 1.]])


def _samples(pids, modalities):
    return [
        ReIDDataSample(metainfo=dict(pid=p, modality=m))
        for p, m in zip(pids, modalities)
    ]


def test_value_by_hand_mean_and_sum_reductions():
    """Eq. 11: per modality 1/N sum_i of the squared error, image + text
    sides, summed over the modalities; 'mean' averages over the E dims."""
    # image: vis rows (1, 1) -> 1 each, ir rows (0, 2)^2 / 2 = 2 each
    # text: vis rows (0, 1)^2 / 2 = 0.5 each, ir 0
    loss = MultiViewDistillationLoss()
    value = loss(MV_IMAGE, IMAGE, MV_TEXT, TEXT, MODALITIES)
    torch.testing.assert_close(value, torch.tensor(1. + 2. + 0.5 + 0.))
    summed = MultiViewDistillationLoss(reduction='sum')
    torch.testing.assert_close(
        summed(MV_IMAGE, IMAGE, MV_TEXT, TEXT, MODALITIES),
        torch.tensor(2. + 4. + 1. + 0.))
    # without modality names the batch is one group: the mean over all 4
    torch.testing.assert_close(
        loss(MV_IMAGE, IMAGE, MV_TEXT, TEXT), torch.tensor(3.5 / 2))
    # [B, 1, E] image features with [B, E] text
    torch.testing.assert_close(
        loss(MV_IMAGE[:, None], IMAGE[:, None], MV_TEXT, TEXT, MODALITIES),
        value)


def test_fusion_builds_the_multi_view_features_of_eq_6_7():
    """CrossViewFusion averages with the same-identity, same-modality
    sample (not the other modality's)."""
    neck = CrossViewFusion(num_views=1).train()
    samples = _samples([0, 0, 0, 0], MODALITIES)
    out = neck(dict(proj_cls=IMAGE[:, None], caption_text=TEXT), samples)
    torch.testing.assert_close(out['proj_cls_mv'], MV_IMAGE[:, None])
    torch.testing.assert_close(out['caption_text_mv'], MV_TEXT)
    assert neck.last_partners == [[1], [0], [3], [2]]


@pytest.mark.parametrize('detach', ['multi_view', 'single_view', 'none'])
def test_detach_choice_decides_which_side_gets_the_gradient(detach):
    """The default 'multi_view' detaches the teacher: only the single-view
    input of the loss gets d/df = 2 (f - f_m) / (E N_g)."""
    mv = MV_IMAGE.clone().requires_grad_()
    sv = IMAGE.clone().requires_grad_()
    mv_t = MV_TEXT.clone().requires_grad_()
    sv_t = TEXT.clone().requires_grad_()
    MultiViewDistillationLoss(detach=detach)(mv, sv, mv_t, sv_t,
                                             MODALITIES).backward()
    grad = 2 * (IMAGE - MV_IMAGE) / (2 * 2)
    grad_t = 2 * (TEXT - MV_TEXT) / (2 * 2)
    if detach == 'multi_view':
        assert mv.grad is None and mv_t.grad is None
        torch.testing.assert_close(sv.grad, grad)
        torch.testing.assert_close(sv_t.grad, grad_t)
    elif detach == 'single_view':
        assert sv.grad is None and sv_t.grad is None
        torch.testing.assert_close(mv.grad, -grad)
        torch.testing.assert_close(mv_t.grad, -grad_t)
    else:
        torch.testing.assert_close(sv.grad, grad)
        torch.testing.assert_close(mv.grad, -grad)


def test_end_to_end_gradient_through_the_fusion_with_detached_teacher():
    """With the teacher detached the gradient reaches every single-view
    feature only through the student term (not through f_m)."""
    image = IMAGE.clone().requires_grad_()
    text = TEXT.clone().requires_grad_()
    neck = CrossViewFusion().train()
    out = neck(
        dict(proj_cls=image, caption_text=text), _samples([0] * 4, MODALITIES))
    MultiViewDistillationLoss()(out['proj_cls_mv'], image,
                                out['caption_text_mv'], text,
                                MODALITIES).backward()
    torch.testing.assert_close(image.grad, (IMAGE - MV_IMAGE) / 2)
    torch.testing.assert_close(text.grad, (TEXT - MV_TEXT) / 2)


def test_multi_view_contrast_is_the_contrast_of_the_fused_pairs():
    """L_con^m (Eq. 8-10) = the ESE loss on (f_m, t_m)."""
    neck = CrossViewFusion().train()
    image = torch.tensor([[1., 0.], [0., 1.], [1., 1.], [2., 0.]])
    text = torch.tensor([[1., 2.], [0., 1.], [1., -1.], [0., 3.]])
    samples = _samples([0, 0, 1, 1], ('vis', ) * 4)
    out = neck(dict(proj_cls=image, caption_text=text), samples)
    loss = ImageTextContrastiveLoss(similarity='dot', temperature=1.0)
    value = loss(out['proj_cls_mv'], out['caption_text_mv'],
                 torch.tensor([0, 0, 1, 1]), ('vis', ) * 4)
    # f_m = [[.5, .5]] * 2 + [[1.5, .5]] * 2, t_m = [[.5, 1.5]] * 2 +
    # [[.5, 1]] * 2; rows i2t: logits a = f_m . t_m
    f = [[.5, .5], [.5, .5], [1.5, .5], [1.5, .5]]
    t = [[.5, 1.5], [.5, 1.5], [.5, 1.], [.5, 1.]]
    logits = [[sum(x * y for x, y in zip(a, b)) for b in t] for a in f]

    def nll(row, k):
        return math.log(sum(math.exp(v) for v in row)) - row[k]

    i2t = sum(nll(logits[i], i) for i in range(4)) / 4
    t2i = sum(nll([r[i] for r in logits], i) for i in range(4)) / 4
    torch.testing.assert_close(value, torch.tensor(i2t + t2i))


def test_errors():
    loss = MultiViewDistillationLoss()
    with pytest.raises(ValueError, match='differ in shape'):
        loss(MV_IMAGE[:, None], IMAGE, MV_TEXT, TEXT, MODALITIES)
    with pytest.raises(ValueError, match='detach'):
        MultiViewDistillationLoss(detach='teacher')
    with pytest.raises(ValueError, match='reduction'):
        MultiViewDistillationLoss(reduction='none')


def test_multi_spectral_samples_fuse_all_slots_with_the_same_partner():
    """[B, M, E] keys without metainfo 'modality' (e.g. RGBNT201): the
    partner is another sample of the identity, used for every slot; L_kd
    sums the per-slot terms."""
    image = torch.arange(12, dtype=torch.float).view(2, 3, 2)
    text = -image
    samples = [ReIDDataSample(metainfo=dict(pid=5)) for _ in range(2)]
    out = CrossViewFusion().train()(dict(proj_cls=image, caption_text=text),
                                    samples)
    torch.testing.assert_close(out['proj_cls_mv'],
                               image.mean(0, keepdim=True).expand(2, 3, 2))
    loss = MultiViewDistillationLoss(modalities=('rgb', 'nir', 'tir'))
    value = loss(out['proj_cls_mv'], image, out['caption_text_mv'], text)
    # every slot: (x_0 - x_1) / 2 = (-3, -3) -> squared mean 9, image and
    # text, three slots
    torch.testing.assert_close(value, torch.tensor(9. * 2 * 3))
