# Copyright (c) mmreid_text contributors. All rights reserved.
"""Unit tests of ``ReIDModel`` and ``LossTerm``.

The fake components below are registered in the global ``MODELS``
registry under names starting with ``_TestReIDModel``, only while this
file's tests run. Each test's docstring names the bug it catches.
"""
import copy
import os.path as osp

import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.logging import MessageHub
from torch import nn

from mmreid_text.models.reid_model import LossTerm, ReIDModel
from mmreid_text.models.utils import tiny_clip_arch
from mmreid_text.structures import ReIDDataSample
from mmreid_text.utils import register_all_modules

register_all_modules()

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


# ----------------------------------------------------------------- fakes
class _Backbone(nn.Module):
    """``inputs [B, ...] -> {'x': inputs.flatten(1) * scale}``."""

    def __init__(self, scale: float = 1.0) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.tensor(float(scale)))

    def forward(self, inputs):
        return dict(x=inputs.flatten(1) * self.scale)


class _AffineNeck(nn.Module):
    """``feats['x'] <- feats['x'] * mul + add``; records its data samples
    and, as ``trace``, the order in which necks ran."""

    trace = []

    def __init__(self, mul: float = 1.0, add: float = 0.0) -> None:
        super().__init__()
        self.mul, self.add = mul, add
        self.seen_samples = None

    def forward(self, feats, data_samples=None):
        type(self).trace.append((self.mul, self.add))
        self.seen_samples = data_samples
        out = dict(feats)
        out['x'] = feats['x'] * self.mul + self.add
        return out


class _TextNeck(_AffineNeck):
    """A neck that needs the shared text encoder."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.encoder = None

    def set_text_encoder(self, encoder) -> None:
        # stored in a list so the encoder is not registered twice
        self.encoder = [encoder]


class _TextEncoder(nn.Module):

    def __init__(self) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(1))


class _Head(nn.Module):
    """``retrieval = x``, ``logits = x[:, :num_classes]``, ``twice = 2x``,
    ``pair = [x, -x]`` (a list output, like per-modality logits)."""

    def __init__(self, num_classes: int = 2) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.encoder = None

    def forward(self, feats, data_samples=None):
        self.seen_samples = data_samples
        x = feats['x']
        out = dict(feats)
        out['retrieval'] = x
        out['logits'] = x[:, :self.num_classes]
        out['twice'] = 2 * x
        out['pair'] = [x, -x]
        return out


class _TextHead(_Head):

    def set_text_encoder(self, encoder) -> None:
        self.encoder = [encoder]


class _DotLoss(nn.Module):
    """``sum(a * b)`` (``b`` defaults to 1); records every call."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = []

    def forward(self, a, b=None):
        self.calls.append((a, b))
        return (a * (1.0 if b is None else b)).sum()


class _ConstLoss(nn.Module):
    """Returns ``value`` whatever the input (nan / inf for the guard)."""

    def __init__(self, value: float) -> None:
        super().__init__()
        self.value = value

    def forward(self, a):
        return a.sum() * 0 + self.value


TEST_MODULES = {
    '_TestReIDModelBackbone': _Backbone,
    '_TestReIDModelAffineNeck': _AffineNeck,
    '_TestReIDModelTextNeck': _TextNeck,
    '_TestReIDModelTextEncoder': _TextEncoder,
    '_TestReIDModelHead': _Head,
    '_TestReIDModelTextHead': _TextHead,
    '_TestReIDModelDotLoss': _DotLoss,
    '_TestReIDModelConstLoss': _ConstLoss,
}

# registered for this file's tests only (tests/test_models/conftest.py)
pytestmark = pytest.mark.usefixtures('test_modules')


def _model(necks=None, head=None, losses=None, text_encoder=None):
    if losses is None:
        losses = dict(
            dot=dict(type='_TestReIDModelDotLoss', inputs=('retrieval', )))
    return ReIDModel(
        backbone=dict(type='_TestReIDModelBackbone'),
        necks=necks,
        head=head or dict(type='_TestReIDModelHead'),
        text_encoder=text_encoder,
        losses=losses)


def _samples(pids=(0, 1)):
    return [
        ReIDDataSample(metainfo=dict(pid=p, camid=0, modalities=('rgb', )))
        for p in pids
    ]


# ------------------------------------------------------------- LossTerm
def test_loss_term_plain_inputs_in_order_and_weight():
    """Catches: inputs passed in another order, or ``weight`` ignored."""
    term = LossTerm(
        'dot',
        dict(type='_TestReIDModelDotLoss', weight=0.5, inputs=('a', 'b')))
    a = torch.tensor([1., 2.])
    b = torch.tensor([3., 5.])
    value = term(dict(a=a, b=b, unused=torch.tensor(100.)))
    assert value.item() == pytest.approx(0.5 * (1 * 3 + 2 * 5))
    call_a, call_b = term.loss.calls[-1]
    assert call_a is a and call_b is b
    assert term.name == 'dot' and term.weight == 0.5
    assert term.inputs == ('a', 'b')
    # weight defaults to 1
    plain = LossTerm('p', dict(type='_TestReIDModelDotLoss', inputs=('a', )))
    assert plain.weight == 1.0 and plain(dict(a=a)).item() == 3.0


def test_loss_term_list_inputs_are_summed_per_element():
    """A list input (one tensor per modality) applies the loss to every
    element and sums, weighted once. Catches: only the first element used,
    a mean instead of a sum, the weight applied per element and again, or
    the non-list input not broadcast to every element."""
    term = LossTerm(
        'dot',
        dict(type='_TestReIDModelDotLoss', weight=2.0, inputs=('l', 'b')))
    l1, l2, l3 = torch.tensor([1.]), torch.tensor([2.]), torch.tensor([4.])
    b = torch.tensor([10.])
    value = term(dict(l=[l1, l2, l3], b=b))
    assert value.item() == pytest.approx(2.0 * (10 + 20 + 40))
    assert [c[1] is b for c in term.loss.calls] == [True] * 3
    # two list inputs are paired element-wise (not a cross product)
    pairs = term(dict(l=(l1, l2), b=[l3, b]))
    assert pairs.item() == pytest.approx(2.0 * (1 * 4 + 2 * 10))


def test_loss_term_list_logits_with_a_real_loss():
    """Per-modality logits through mmpretrain's CrossEntropyLoss: the sum
    of the per-modality cross-entropies (CLIP-ReID's convention)."""
    term = LossTerm(
        'id',
        dict(type='CrossEntropyLoss', weight=1.0, inputs=('logits', 'labels')))
    gen = torch.Generator().manual_seed(0)
    logits = [torch.randn(4, 3, generator=gen) for _ in range(2)]
    labels = torch.tensor([0, 2, 1, 2])
    expected = sum(F.cross_entropy(x, labels) for x in logits)
    torch.testing.assert_close(
        term(dict(logits=logits, labels=labels)), expected)


def test_loss_term_list_length_mismatch():
    """Catches: zip() silently truncating lists of different lengths."""
    term = LossTerm('pairs',
                    dict(type='_TestReIDModelDotLoss', inputs=('a', 'b')))
    one = torch.ones(1)
    with pytest.raises(ValueError, match='"pairs".*differ in length'):
        term(dict(a=[one, one], b=[one, one, one]))


def test_loss_term_missing_key_message():
    """The KeyError names the loss, the missing key and what exists."""
    term = LossTerm('tri',
                    dict(type='_TestReIDModelDotLoss', inputs=('feat', )))
    with pytest.raises(KeyError) as info:
        term(dict(logits=1, labels=2))
    message = info.value.args[0]
    assert '"tri"' in message and '"feat"' in message
    assert "['labels', 'logits']" in message
    assert message.endswith('fix its inputs or add the component that '
                            'produces it.')


@pytest.mark.parametrize('inputs', [None, ()])
def test_loss_term_needs_inputs(inputs):
    """Catches: a loss without ``inputs`` silently called with nothing."""
    cfg = dict(type='_TestReIDModelDotLoss')
    if inputs is not None:
        cfg['inputs'] = inputs
    with pytest.raises(ValueError, match='"id" needs inputs'):
        LossTerm('id', cfg)


def test_loss_term_does_not_modify_its_config():
    """``weight`` / ``inputs`` are popped from a copy: building twice from
    the same config works (catches ``cfg.pop`` on the caller's dict)."""
    cfg = dict(type='_TestReIDModelDotLoss', weight=3.0, inputs=('a', ))
    before = copy.deepcopy(cfg)
    LossTerm('x', cfg)
    assert cfg == before


# ------------------------------------------------------------ ReIDModel
def test_necks_run_in_order_and_see_the_data_samples():
    """Catches: necks applied in reverse / skipped, or data_samples not
    forwarded to them."""
    _AffineNeck.trace = []
    model = _model(necks=[
        dict(type='_TestReIDModelAffineNeck', mul=2.0),
        dict(type='_TestReIDModelAffineNeck', add=1.0),
    ])
    inputs = torch.tensor([[1., 2.], [3., 4.]])
    samples = _samples()
    feats = model.extract_feat(inputs, samples)
    torch.testing.assert_close(feats['x'], inputs * 2 + 1)  # not (x+1)*2
    assert _AffineNeck.trace == [(2.0, 0.0), (1.0, 1.0)]
    assert all(neck.seen_samples is samples for neck in model.necks)


def test_loss_mode_returns_weighted_terms_named_loss_name():
    """``mode='loss'``: ``{'loss_<name>': weight * value}`` per term, with
    the identity labels of the batch as ``labels``. Catches: a term
    dropped, wrong key names, labels not taken from the samples' pids."""
    model = _model(
        losses=dict(
            dot=dict(
                type='_TestReIDModelDotLoss',
                weight=0.5,
                inputs=('retrieval', )),
            lab=dict(type='_TestReIDModelDotLoss', inputs=('labels', )),
            pair=dict(type='_TestReIDModelDotLoss', inputs=('pair', 'twice')),
        ))
    inputs = torch.tensor([[1., 2.], [3., 4.]])
    losses = model(inputs, _samples((3, 7)), mode='loss')
    assert set(losses) == {'loss_dot', 'loss_lab', 'loss_pair'}
    assert losses['loss_dot'].item() == pytest.approx(0.5 * 10)
    assert losses['loss_lab'].item() == 3 + 7
    labels = model.loss_terms[1].loss.calls[-1][0]
    assert labels.dtype == torch.long and labels.tolist() == [3, 7]
    # [x, -x] . 2x = 2 sum(x^2) - 2 sum(x^2) = 0
    assert losses['loss_pair'].item() == pytest.approx(0.0)
    losses['loss_dot'].backward()
    assert model.backbone.scale.grad.item() == pytest.approx(0.5 * 10)


def test_loss_mode_needs_losses():
    """Catches: training silently with an empty loss dict."""
    model = _model(losses={})
    with pytest.raises(ValueError, match='model.losses is empty'):
        model(torch.ones(2, 2), _samples(), mode='loss')


@pytest.mark.parametrize('bad', [float('nan'), float('inf'), -float('inf')])
def test_non_finite_loss_names_the_term_and_the_iteration(bad):
    """Catches: a nan/inf loss returned (and back-propagated) silently, or
    a message that does not say which term and which iteration."""
    model = _model(
        losses=dict(
            fine=dict(type='_TestReIDModelDotLoss', inputs=('retrieval', )),
            bad=dict(
                type='_TestReIDModelConstLoss',
                value=bad,
                inputs=('retrieval', ))))
    MessageHub.get_current_instance().update_info('iter', 1234)
    with pytest.raises(FloatingPointError) as info:
        model(torch.ones(2, 2), _samples(), mode='loss')
    message = str(info.value)
    assert 'Loss term "bad"' in message
    assert str(bad) in message and 'iteration 1234' in message
    assert message.endswith('Lower the learning rate, check the data of '
                            'this batch, or disable AMP to find the cause.')
    # a finite term passes the guard
    ok = _model(
        losses=dict(
            big=dict(
                type='_TestReIDModelConstLoss',
                value=1e30,
                inputs=('retrieval', ))))
    assert ok(torch.ones(2, 2), _samples(), mode='loss')['loss_big'] == 1e30


def test_predict_mode_sets_the_detached_retrieval_feature():
    """``mode='predict'``: every sample's ``pred_feature`` is its row of the
    head's ``retrieval``, detached. Catches: rows assigned to the wrong
    sample, another output used, gradients kept at test time."""
    model = _model(necks=[dict(type='_TestReIDModelAffineNeck', add=1.0)])
    inputs = torch.tensor([[1., 2.], [3., 4.], [5., 6.]])
    samples = _samples((0, 1, 2))
    out = model(inputs, samples, mode='predict')
    assert out is samples
    for row, sample in zip(inputs + 1, out):
        torch.testing.assert_close(sample.pred_feature, row)
        assert not sample.pred_feature.requires_grad
    # without data samples, new ones are created
    fresh = model.predict(inputs, None)
    assert len(fresh) == 3 and isinstance(fresh[0], ReIDDataSample)
    torch.testing.assert_close(fresh[2].pred_feature, inputs[2] + 1)


def test_tensor_mode_returns_the_head_outputs():
    """``mode='tensor'`` (the default) returns the head's dict, with the
    features of backbone and necks, and no labels."""
    model = _model(necks=[dict(type='_TestReIDModelAffineNeck', mul=3.0)])
    inputs = torch.tensor([[1., -1.]])
    for out in (model(inputs, _samples((0, ))), model(inputs, mode='tensor')):
        assert set(out) == {'x', 'retrieval', 'logits', 'twice', 'pair'}
        torch.testing.assert_close(out['retrieval'], inputs * 3)
        torch.testing.assert_close(out['twice'], inputs * 6)


def test_invalid_mode():
    with pytest.raises(RuntimeError, match='Invalid mode "train"'):
        _model()(torch.ones(1, 2), mode='train')


def test_text_encoder_is_shared_with_the_components_that_ask():
    """Catches: the head (or a later neck) not given the encoder, a copy
    per component instead of the one shared instance, or the encoder set
    on components that do not ask for it."""
    model = _model(
        necks=[
            dict(type='_TestReIDModelTextNeck'),
            dict(type='_TestReIDModelAffineNeck'),
            dict(type='_TestReIDModelTextNeck'),
        ],
        head=dict(type='_TestReIDModelTextHead'),
        text_encoder=dict(type='_TestReIDModelTextEncoder'))
    encoder = model.text_encoder
    assert isinstance(encoder, _TextEncoder)
    assert model.necks[0].encoder[0] is encoder
    assert model.necks[2].encoder[0] is encoder
    assert model.head.encoder[0] is encoder
    assert not hasattr(model.necks[1], 'encoder')
    # stored once in the state dict
    assert [k for k in model.state_dict()
            if 'weight' in k] == ['text_encoder.weight']


@pytest.mark.parametrize('where', ['neck', 'head'])
def test_a_component_that_needs_a_text_encoder_without_one(where):
    """Catches: ``set_text_encoder(None)`` accepted, failing later with an
    AttributeError in the first forward pass."""
    necks, head = None, None
    if where == 'neck':
        necks = [dict(type='_TestReIDModelTextNeck')]
    else:
        head = dict(type='_TestReIDModelTextHead')
    name = '_TextNeck' if where == 'neck' else '_TextHead'
    with pytest.raises(
            ValueError, match=f'{name} needs a text encoder.*text_encoder'):
        _model(necks=necks, head=head)


def test_an_unused_text_encoder_is_allowed():
    model = _model(text_encoder=dict(type='_TestReIDModelTextEncoder'))
    assert isinstance(model.text_encoder, _TextEncoder)
    assert _model().text_encoder is None


def test_default_data_preprocessor():
    assert type(_model().data_preprocessor).__name__ == 'ReIDDataPreprocessor'


# ------------------------------------------------------ real tiny model
def _tiny_baseline():
    cfg = Config.fromfile(
        osp.join(REPO, 'configs', '_base_', 'models',
                 'clip_vitb16_triple_stream.py'))
    model_cfg = cfg.model.to_dict()
    arch = tiny_clip_arch()
    model_cfg['backbone'].update(arch=arch, img_size=(64, 32), pretrained=None)
    model_cfg['head'].update(in_channels=arch['embed_dim'], num_classes=3)
    return ReIDModel(**{k: v for k, v in model_cfg.items() if k != 'type'})


def test_real_baseline_losses_equal_the_formulas_on_its_outputs():
    """The triple-stream baseline: ``loss_id`` is label-smoothed (0.1)
    cross-entropy of the head's logits, ``loss_triplet`` the batch-hard
    triplet loss (margin 0.3) of ``global_feat``, both computed here from
    the ``tensor``-mode outputs. Catches a config whose losses read other
    outputs than the ones they are named after."""
    torch.manual_seed(0)
    model = _tiny_baseline().train()
    inputs = torch.randn(4, 3, 3, 64, 32)
    samples = _samples((0, 0, 1, 2))
    labels = torch.tensor([0, 0, 1, 2])
    out = model(inputs, samples, mode='tensor')
    losses = model(inputs, samples, mode='loss')
    assert set(losses) == {'loss_id', 'loss_triplet'}
    log_p = out['logits'].log_softmax(dim=1)
    smooth = torch.full_like(log_p, 0.1 / 3)
    smooth[torch.arange(4), labels] += 0.9
    expected_id = -(smooth * log_p).sum(dim=1).mean()
    torch.testing.assert_close(losses['loss_id'], expected_id)
    feat = out['global_feat']
    # anchors 2 and 3 have no positive and are skipped; 0 and 1 are each
    # other's only positive
    d = torch.cdist(feat, feat)
    expected_tri = torch.stack([
        F.relu(d[0, 1] - d[0, 2:].min() + 0.3),
        F.relu(d[1, 0] - d[1, 2:].min() + 0.3)
    ]).mean()
    torch.testing.assert_close(
        losses['loss_triplet'], expected_tri, rtol=1e-4, atol=1e-5)
    model.eval()
    with torch.no_grad():
        retrieval = model(inputs, mode='tensor')['retrieval']
        predicted = model(inputs, _samples((0, 0, 1, 2)), mode='predict')
    assert retrieval.shape == (4, 3 * tiny_clip_arch()['embed_dim'])
    torch.testing.assert_close(predicted[3].pred_feature, retrieval[3])


@pytest.mark.parametrize('mode', ['loss', 'predict', 'tensor'])
def test_every_mode_gives_the_data_samples_to_necks_and_head(mode):
    """Components read metainfo (missing modalities, captions, labels) from
    the data samples; catches ``None`` passed instead in any mode."""
    model = _model(necks=[dict(type='_TestReIDModelAffineNeck')])
    samples = _samples()
    model(torch.ones(2, 2), samples, mode=mode)
    assert model.necks[0].seen_samples is samples
    assert model.head.seen_samples is samples


def test_init_cfg_reaches_base_model():
    init_cfg = dict(type='Pretrained', checkpoint='some.pth')
    model = ReIDModel(
        backbone=dict(type='_TestReIDModelBackbone'),
        head=dict(type='_TestReIDModelHead'),
        init_cfg=init_cfg)
    assert model.init_cfg == init_cfg
