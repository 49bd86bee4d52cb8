# Copyright (c) mmreid_text contributors. All rights reserved.
"""TorchreidBackbone: torchreid's archs producing the feature dict.

Tiny inputs (64x32) keep every test to a fraction of a second on CPU;
``osnet_x0_25`` is torchreid's smallest arch.
"""
import ast
import os.path as osp
import sys

import numpy as np
import pytest
import torch

from mmreid_text.models.backbones.torchreid_backbone import (
    SUPPORTED_ARCHS, UNSUPPORTED_REASONS, TorchreidBackbone)
from mmreid_text.models.utils.torchreid_checkpoint import \
    TorchreidCheckpointError
from mmreid_text.registry import MODELS
from mmreid_text.structures import ReIDDataSample
from mmreid_text.utils import register_all_modules
from mmreid_text.utils.torchreid_compat import (import_torchreid,
                                                torchreid_model_factory,
                                                torchreid_models)

register_all_modules()
REPO = osp.dirname(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))


@pytest.fixture(autouse=True, scope='module')
def one_thread():
    """OSNet's many small convolutions run ~50x slower with 2 OpenMP
    threads on a busy 2-core machine than with one."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def torchreid_model(name='osnet_x0_25', num_classes=5, seed=0):
    torch.manual_seed(seed)
    return torchreid_models().build_model(
        name, num_classes=num_classes, pretrained=False, use_gpu=False)


def save_torchreid_checkpoint(model, path, prefix='module.'):
    """torchreid's ``save_checkpoint`` content (DataParallel prefixes,
    numpy rank-1, optimiser state)."""
    state = {prefix + k: v for k, v in model.state_dict().items()}
    torch.save(
        dict(
            state_dict=state,
            epoch=60,
            rank1=np.float64(0.9),
            optimizer=torch.optim.SGD(model.parameters(), 0.1).state_dict()),
        path)


def randomise_bn_stats(model):
    """Non-trivial BatchNorm statistics (init is mean 0 / var 1)."""
    gen = torch.Generator().manual_seed(1)
    for name, buf in model.named_buffers():
        if name.endswith('running_mean'):
            buf.copy_(torch.randn(buf.shape, generator=gen) * 0.1)
        elif name.endswith('running_var'):
            buf.copy_(torch.rand(buf.shape, generator=gen) + 0.5)


def test_supported_list_covers_torchreids_factory():
    factory = set(torchreid_model_factory())
    assert set(SUPPORTED_ARCHS) | set(UNSUPPORTED_REASONS) == factory
    assert not set(SUPPORTED_ARCHS) & set(UNSUPPORTED_REASONS)


def test_osnet_feature_dict_matches_torchreid():
    """Shapes, cls = average pool of the map, proj_cls = torchreid's eval
    output (fc embedding) for the same weights."""
    backbone = MODELS.build(
        dict(type='TorchreidBackbone', name='osnet_x0_25')).eval()
    assert (backbone.out_channels, backbone.embed_dim) == (128, 512)
    assert not hasattr(backbone.encoder, 'classifier')
    reference = torchreid_model(seed=3)
    randomise_bn_stats(reference)
    missing, unexpected = backbone.encoder.load_state_dict(
        reference.state_dict(), strict=False)
    assert not missing and unexpected == [
        'classifier.weight', 'classifier.bias'
    ]
    x = torch.randn(2, 1, 3, 64, 32)
    with torch.no_grad():
        feats = backbone(x)
        expected = reference.eval()(x[:, 0])
    assert feats['feature_map'].shape == (2, 1, 128, 4, 2)
    assert feats['tokens'].shape == (2, 1, 8, 128)
    assert feats['grid'] == (4, 2)
    assert torch.equal(feats['tokens'][0, 0, 3], feats['feature_map'][0, 0, :,
                                                                      1, 1])
    assert torch.allclose(feats['cls'], feats['feature_map'].mean((3, 4)))
    assert feats['proj_cls'].shape == (2, 1, 512)
    assert torch.allclose(feats['proj_cls'][:, 0], expected, atol=1e-5)
    assert set(feats) == set(backbone.writes)


def test_resnet50_without_fc_has_proj_cls_equal_to_cls():
    backbone = TorchreidBackbone(name='resnet50').eval()
    assert (backbone.out_channels, backbone.embed_dim) == (2048, 2048)
    with torch.no_grad():
        feats = backbone(torch.randn(1, 1, 3, 64, 32))
    assert feats['feature_map'].shape == (1, 1, 2048, 2, 1)
    assert feats['grid'] == (2, 1)
    assert torch.equal(feats['proj_cls'], feats['cls'])


def test_modalities_shared_and_separate_trunks():
    x = torch.randn(2, 3, 3, 64, 32)
    shared = TorchreidBackbone(
        name='osnet_x0_25', modalities=('rgb', 'nir', 'tir')).eval()
    with torch.no_grad():
        feats = shared(x)
        alone = shared(x[:, 1:2], modalities=('nir', ))
    assert feats['proj_cls'].shape == (2, 3, 512)
    assert torch.allclose(
        feats['proj_cls'][:, 1:2], alone['proj_cls'], atol=1e-6)

    separate = TorchreidBackbone(
        name='osnet_x0_25', modalities=('rgb', 'nir'),
        share_weights=False).eval()
    enc = separate.encoders
    assert enc['rgb'] is not enc['nir']
    assert torch.equal(enc['rgb'].conv1.conv.weight,
                       enc['nir'].conv1.conv.weight)
    same = torch.cat([x[:, :1]] * 2, dim=1)
    with torch.no_grad():
        feats = separate(same)
        assert torch.allclose(feats['cls'][:, 0], feats['cls'][:, 1])
        enc['nir'].conv1.conv.weight.mul_(2)
        feats = separate(same)
    assert not torch.allclose(feats['cls'][:, 0], feats['cls'][:, 1])
    with pytest.raises(ValueError, match='separate trunks'):
        separate(x)


def test_tracklet_input_keeps_the_frame_axis():
    backbone = TorchreidBackbone(name='osnet_x0_25').eval()
    with torch.no_grad():
        feats = backbone(torch.randn(2, 1, 3, 3, 64, 32))
    assert feats['feature_map'].shape == (2, 1, 3, 128, 4, 2)
    assert feats['proj_cls'].shape == (2, 1, 3, 512)


@pytest.mark.parametrize('name, text', [
    ('pcb_p6', "'pcb_p6' is not supported (it pools horizontal parts"),
    ('densenet121', 'has no featuremaps() method'),
    ('osnet_x9', "'osnet_x9' is not a torchreid image model"),
])
def test_unsupported_arch_lists_the_supported_ones(name, text):
    with pytest.raises(ValueError) as err:
        TorchreidBackbone(name=name)
    assert text in str(err.value)
    assert 'osnet_x1_0, ' in str(err.value)
    assert 'resnet50_ibn_a' in str(err.value)


def test_bad_input_shape():
    with pytest.raises(ValueError, match=r'\[B, M, 3, H, W\]'):
        TorchreidBackbone(name='osnet_x0_25')(torch.randn(2, 3, 64, 32))


def test_loads_a_torchreid_save_checkpoint_file(tmp_path):
    source = torchreid_model(seed=7)
    randomise_bn_stats(source)
    path = str(tmp_path / 'model.pth.tar-60')
    save_torchreid_checkpoint(source, path)
    backbone = TorchreidBackbone(name='osnet_x0_25', pretrained=path)
    loaded = backbone.encoder.state_dict()
    for key, value in source.state_dict().items():
        if key.startswith('classifier.'):
            assert key not in loaded
        else:
            assert torch.equal(loaded[key], value), key
    # per-modality copies all start from the file
    separate = TorchreidBackbone(
        name='osnet_x0_25',
        pretrained=path,
        modalities=('rgb', 'nir'),
        share_weights=False)
    assert torch.equal(separate.encoders['nir'].conv5.conv.weight,
                       source.conv5.conv.weight)


def test_mismatching_checkpoints_fail_clearly(tmp_path):
    other_arch = str(tmp_path / 'osnet_x0_5.pth')
    save_torchreid_checkpoint(torchreid_model('osnet_x0_5'), other_arch)
    with pytest.raises(TorchreidCheckpointError) as err:
        TorchreidBackbone(name='osnet_x0_25', pretrained=other_arch)
    message = str(err.value)
    assert other_arch in message and "'osnet_x0_25'" in message
    assert ('shape mismatches: conv1.conv.weight: checkpoint (32, 3, 7, 7) '
            'vs model (16, 3, 7, 7)') in message

    no_fc = str(tmp_path / 'no_fc.pth')
    state = {
        k: v
        for k, v in torchreid_model().state_dict().items()
        if not k.startswith('fc.')
    }
    torch.save(state, no_fc)
    with pytest.raises(TorchreidCheckpointError, match='missing keys: fc.0'):
        TorchreidBackbone(name='osnet_x0_25', pretrained=no_fc)
    # the fix the message names
    TorchreidBackbone(
        name='osnet_x0_25', pretrained=no_fc, init_missing=('fc.', ))

    with pytest.raises(FileNotFoundError, match='does not exist'):
        TorchreidBackbone(
            name='osnet_x0_25', pretrained=str(tmp_path / 'nope.pth'))


def test_frozen_backbone_stays_in_eval_mode():
    backbone = TorchreidBackbone(name='osnet_x0_25', frozen=True)
    backbone.train()
    assert not backbone.training and not backbone.encoder.training
    assert not any(p.requires_grad for p in backbone.parameters())


def test_baseline_head_and_losses_train_two_steps():
    """The baseline's BNNeckHead + ID + triplet losses, unchanged, on an
    OSNet trunk: two optimiser steps change the trunk and the head."""
    torch.manual_seed(0)
    model = MODELS.build(
        dict(
            type='ReIDModel',
            data_preprocessor=dict(
                type='ReIDDataPreprocessor',
                mean=[123.675, 116.28, 103.53],
                std=[58.395, 57.12, 57.375]),
            backbone=dict(type='TorchreidBackbone', name='osnet_x0_25'),
            head=dict(
                type='BNNeckHead',
                in_channels=512,
                num_modalities=1,
                num_classes=4),
            losses=dict(
                id=dict(
                    type='LabelSmoothLoss',
                    label_smooth_val=0.1,
                    mode='original',
                    inputs=('logits', 'labels')),
                triplet=dict(
                    type='TripletLoss',
                    margin=0.3,
                    inputs=('global_feat', 'labels')))))
    assert model.feature_check.checked
    model.train()
    optim = torch.optim.SGD(model.parameters(), lr=0.05)
    before = {k: v.detach().clone() for k, v in model.named_parameters()}
    pids = [0, 0, 1, 1, 2, 2, 3, 3]
    inputs = torch.randn(len(pids), 1, 3, 64, 32)
    samples = [
        ReIDDataSample(metainfo=dict(pid=p, camid=0, modalities=('rgb', )))
        for p in pids
    ]
    for _ in range(2):
        losses = model.loss(inputs, samples)
        assert set(losses) == {'loss_id', 'loss_triplet'}
        total = sum(losses.values())
        assert torch.isfinite(total)
        optim.zero_grad()
        total.backward()
        optim.step()
    for key in ('backbone.encoder.conv1.conv.weight',
                'backbone.encoder.fc.0.weight',
                'head.necks.0.classifier.weight'):
        assert not torch.equal(before[key],
                               dict(model.named_parameters())[key]), key
    model.eval()
    with torch.no_grad():
        out = model.predict(inputs, samples)
    assert out[0].pred_feature.shape == (512, )


def test_missing_torchreid_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, 'torchreid', None)
    with pytest.raises(ImportError) as err:
        import_torchreid('TorchreidBackbone')
    assert 'TorchreidBackbone needs torchreid' in str(err.value)
    assert 'pip install -e ".[torchreid]"' in str(err.value)
    with pytest.raises(ImportError, match=r'\.\[torchreid\]'):
        TorchreidBackbone(name='osnet_x0_25')


def test_torchreid_is_imported_lazily_and_in_one_module():
    """``import mmreid_text`` must not pay torchreid's import (its whole
    package, tensorboard, cv2...): torchreid is imported only inside
    functions of torchreid_compat.py (test_requirements.py checks that no
    other module imports it)."""
    path = osp.join(REPO, 'mmreid_text', 'utils', 'torchreid_compat.py')
    with open(path) as f:
        tree = ast.parse(f.read())
    top_level = [
        node for node in tree.body
        if isinstance(node, (ast.Import, ast.ImportFrom)) and any(
            (getattr(node, 'module', None) or a.name).startswith('torchreid')
            for a in node.names)
    ]
    assert not top_level
    assert any(
        isinstance(node, ast.Import) and node.names[0].name == 'torchreid'
        for node in ast.walk(tree))


def test_last_stride_one_matches_torchreids_own_construction():
    backbone = TorchreidBackbone(name='resnet18', last_stride=1).eval()
    from torchreid.reid.models.resnet import BasicBlock, ResNet
    reference = ResNet(
        num_classes=1,
        loss='softmax',
        block=BasicBlock,
        layers=[2, 2, 2, 2],
        last_stride=1).eval()
    reference.load_state_dict(backbone.encoder.state_dict(), strict=False)
    x = torch.randn(1, 1, 3, 64, 32)
    with torch.no_grad():
        feats = backbone(x)
        expected = reference.featuremaps(x[:, 0])
    assert feats['grid'] == (4, 2)  # 2x1 with last stride 2
    assert torch.allclose(feats['feature_map'][:, 0], expected, atol=1e-6)
    with pytest.raises(ValueError, match="'osnet_x0_25' has no layer4"):
        TorchreidBackbone(name='osnet_x0_25', last_stride=1)
