# Copyright (c) mmreid_text contributors. All rights reserved.
"""ReIDModel on visible-infrared batches: ``sample_modalities`` routing to
the backbone's modality stems, the ``sample_modalities`` loss output and
flip test-time augmentation."""
import pytest
import torch
from torch import nn

from mmreid_text.analysis import model_complexity
from mmreid_text.models.reid_model import SAMPLE_MODALITIES_KEY, ReIDModel
from mmreid_text.models.utils import tiny_clip_arch
from mmreid_text.structures import ReIDDataSample
from mmreid_text.utils import register_all_modules

register_all_modules()

IMG = (64, 32)
ROUTES = ('vis', 'ir', 'ir', 'vis')


class _RecordingLoss(nn.Module):
    """Returns ``feat.sum() * 0`` and records every call's arguments."""

    calls = []

    def forward(self, feat, labels, sample_modalities):
        type(self).calls.append((feat, labels, sample_modalities))
        return feat.sum() * 0


TEST_MODULES = {'_TestModalityRecordingLoss': _RecordingLoss}
pytestmark = pytest.mark.usefixtures('test_modules')


def _model_cfg(losses=None, fuse='concat', **kwargs):
    return dict(
        type='ReIDModel',
        backbone=dict(
            type='CLIPVisionBackbone',
            arch=tiny_clip_arch('resnet'),
            img_size=IMG,
            modalities=('vis', 'ir'),
            modality_stems=True,
            last_stride=1),
        necks=[dict(type='GeMPooling')],
        head=dict(
            type='BNNeckHead',
            in_key='gem',
            in_channels=512,
            num_modalities=1,
            num_classes=3,
            fuse=fuse),
        losses=losses,
        **kwargs)


def _model(**kwargs):
    from mmreid_text.registry import MODELS
    return MODELS.build(_model_cfg(**kwargs))


def _samples(routes=ROUTES, pids=(0, 1, 2, 0)):
    samples = []
    for pid, modality in zip(pids, routes):
        sample = ReIDDataSample()
        meta = dict(pid=pid, camid=1)
        if modality is not None:
            meta.update(modality=modality, modalities=(modality, ))
        sample.set_metainfo(meta)
        samples.append(sample)
    return samples


def test_extract_feat_routes_each_sample_to_its_stem():
    model = _model().eval()
    with torch.no_grad():
        model.backbone.get_stem('ir').conv1.weight.mul_(-2)
    images = torch.randn(len(ROUTES), 1, 3, *IMG)
    feats = model.extract_feat(images, _samples())
    direct = model.backbone(images, sample_modalities=ROUTES)
    torch.testing.assert_close(feats['feature_map'], direct['feature_map'])
    assert feats['gem'].shape == (len(ROUTES), 1, 512)
    swapped = model.backbone(
        images,
        sample_modalities=[{
            'vis': 'ir',
            'ir': 'vis'
        }[m] for m in ROUTES])
    assert not torch.allclose(feats['feature_map'], swapped['feature_map'])
    # predict and tensor mode route the same way
    out = model(images, _samples(), mode='tensor')
    torch.testing.assert_close(out['retrieval'], feats['gem'][:, 0])


def test_missing_modality_info_is_a_clear_error():
    model = _model().eval()
    images = torch.randn(2, 1, 3, *IMG)
    with pytest.raises(ValueError, match='pass sample_modalities='):
        model(images, None, mode='tensor')
    with pytest.raises(ValueError, match="samples \\[1\\] of the batch"):
        model.extract_feat(images, _samples(routes=('vis', None)))


def test_loss_outputs_sample_modalities_whole_to_the_losses():
    _RecordingLoss.calls.clear()
    losses = dict(
        rec=dict(
            type='_TestModalityRecordingLoss',
            inputs=('global_feat', 'labels', SAMPLE_MODALITIES_KEY)),
        id=dict(type='CrossEntropyLoss', inputs=('logits', 'labels')))
    model = _model(losses=losses).train()
    assert model.feature_check.available[SAMPLE_MODALITIES_KEY] == \
        'ReIDModel'
    images = torch.randn(len(ROUTES), 1, 3, *IMG)
    result = model.loss(images, _samples())
    assert set(result) == {'loss_rec', 'loss_id'}
    (feat, labels, modalities), = _RecordingLoss.calls
    assert modalities == ROUTES and isinstance(modalities, tuple)
    assert labels.tolist() == [0, 1, 2, 0]
    assert feat.shape == (len(ROUTES), 512)
    # a list-valued input is expanded per element; sample_modalities is not
    _RecordingLoss.calls.clear()
    model = _model(losses=losses, fuse='per_modality').train()
    model.loss(images, _samples())
    assert len(_RecordingLoss.calls) == 1  # one modality slot
    assert _RecordingLoss.calls[0][2] == ROUTES


def test_loss_consuming_sample_modalities_needs_every_name():
    losses = dict(
        rec=dict(
            type='_TestModalityRecordingLoss',
            inputs=('global_feat', 'labels', SAMPLE_MODALITIES_KEY)))
    cfg = _model_cfg(losses=losses)
    cfg['backbone'].update(modalities=('vis', ), modality_stems=False)
    from mmreid_text.registry import MODELS
    model = MODELS.build(cfg).train()
    images = torch.randn(2, 1, 3, *IMG)
    with pytest.raises(ValueError, match='consumes "sample_modalities"'):
        model.loss(images, _samples(routes=('vis', None), pids=(0, 1)))
    # without such a loss, samples without 'modality' give None entries
    cfg['losses'] = dict(
        id=dict(type='CrossEntropyLoss', inputs=('logits', 'labels')))
    model = MODELS.build(cfg).train()
    assert set(model.loss(images, _samples(routes=(None, None),
                                           pids=(0, 1)))) == {'loss_id'}


@pytest.mark.parametrize('fuse', ['mean', 'concat'])
def test_flip_tta_equals_the_manual_fusion_of_two_passes(fuse):
    plain = _model().eval()
    flip = _model(test_cfg=dict(flip=True, flip_fuse=fuse)).eval()
    flip.load_state_dict(plain.state_dict())
    images = torch.randn(len(ROUTES), 1, 3, *IMG)
    samples = _samples()
    with torch.no_grad():
        original = plain(images, samples, mode='tensor')['retrieval']
        mirrored = plain(images.flip(-1), samples, mode='tensor')['retrieval']
        got = torch.stack(
            [s.pred_feature for s in flip.predict(images, _samples())])
        off = torch.stack(
            [s.pred_feature for s in plain.predict(images, _samples())])
    assert not torch.allclose(original, mirrored)
    expected = ((original + mirrored) /
                2 if fuse == 'mean' else torch.cat([original, mirrored], 1))
    torch.testing.assert_close(got, expected)
    torch.testing.assert_close(off, original)  # flip off = unchanged
    # tensor mode is never augmented
    torch.testing.assert_close(
        flip(images, samples, mode='tensor')['retrieval'], original)


def test_test_cfg_errors_and_default():
    assert _model().test_cfg == dict(flip=False, flip_fuse='concat')
    with pytest.raises(ValueError, match='unknown keys'):
        _model(test_cfg=dict(flip_test=True))
    with pytest.raises(ValueError, match='flip_fuse'):
        _model(test_cfg=dict(flip=True, flip_fuse='max'))
    assert ReIDModel._parse_test_cfg(None)['flip'] is False


def test_complexity_counts_both_stems_and_routes_the_counted_sample():
    cfg = _model_cfg()
    two = model_complexity(cfg)
    cfg['backbone']['modality_stems'] = False
    one = model_complexity(cfg)
    from mmreid_text.registry import MODELS
    stem = sum(p.numel() for p in MODELS.build(_model_cfg()).backbone.get_stem(
        'ir').parameters())
    assert two.params == one.params + stem
    assert two.input_shape == (1, 1, 3, *IMG)
    assert two.flops == one.flops  # one sample through one stem
