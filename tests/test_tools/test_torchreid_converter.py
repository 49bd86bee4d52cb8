# Copyright (c) mmreid_text contributors. All rights reserved.
"""tools/model_converters/torchreid_to_mmreid.py: round trips.

torchreid -> ours: our model's pre-BN retrieval feature equals torchreid's
eval output on the same input; ours -> torchreid: torchreid's model loads
the result strictly and gives the same output again.
"""
import os.path as osp

import numpy as np
import pytest
import torch

from mmreid_text.models.utils.torchreid_checkpoint import (
    BNNECK_PREFIX, TorchreidCheckpointError, mmreid_to_torchreid,
    torchreid_to_mmreid)
from mmreid_text.registry import MODELS
from mmreid_text.utils import register_all_modules
from mmreid_text.utils.torchreid_compat import torchreid_models

register_all_modules()
TOOL = 'tools/model_converters/torchreid_to_mmreid.py'
NUM_CLASSES = 3

CONFIG = """
model = dict(
    type='ReIDModel',
    backbone=dict(type='TorchreidBackbone', name='{arch}',
                  modalities=('rgb', )),
    head=dict(type='BNNeckHead', in_key='proj_cls', in_channels={dim},
              num_modalities=1, num_classes={num_classes},
              retrieval_feat='pre_bn'),
    losses=dict(id=dict(type='CrossEntropyLoss',
                        inputs=('logits', 'labels'))))
"""


@pytest.fixture(autouse=True, scope='module')
def one_thread():
    """Small CNNs are far faster with one thread on a busy machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def tool(load_tool):
    return load_tool(TOOL)


def torchreid_model(arch, num_classes=NUM_CLASSES, seed=0):
    torch.manual_seed(seed)
    model = torchreid_models().build_model(
        arch, num_classes=num_classes, pretrained=False, use_gpu=False)
    gen = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        for name, buf in model.named_buffers():
            if name.endswith('running_mean'):
                buf.copy_(torch.randn(buf.shape, generator=gen) * 0.1)
            elif name.endswith('running_var'):
                buf.copy_(torch.rand(buf.shape, generator=gen) + 0.5)
        model.classifier.bias.normal_(generator=gen)
    return model.eval()


def save_torchreid(model, path):
    state = {'module.' + k: v for k, v in model.state_dict().items()}
    torch.save(dict(state_dict=state, epoch=250, rank1=np.float64(0.94)), path)


def write_config(tmp_path, arch, dim, num_classes=NUM_CLASSES):
    path = tmp_path / f'{arch}_{num_classes}.py'
    path.write_text(CONFIG.format(arch=arch, dim=dim, num_classes=num_classes))
    return str(path)


def build_ours(config):
    from mmengine.config import Config
    return MODELS.build(Config.fromfile(config).model).eval()


@pytest.mark.parametrize('arch, dim', [('osnet_x0_25', 512),
                                       ('resnet18', 512)])
def test_round_trip_gives_torchreids_output(tool, tmp_path, capsys, arch, dim):
    source = torchreid_model(arch)
    src = str(tmp_path / 'model.pth.tar-250')
    save_torchreid(source, src)
    config = write_config(tmp_path, arch, dim)
    dst = str(tmp_path / 'ours.pth')
    assert tool.main([src, dst, '--config', config]) == 0
    out = capsys.readouterr().out
    assert 'checked: the weights fit' in out
    assert 'classifier.bias: BNNeckHead\'s classifier has no bias' in out

    ours = build_ours(config)
    checkpoint = torch.load(dst, weights_only=True)
    missing, unexpected = ours.load_state_dict(
        checkpoint['state_dict'], strict=False)
    assert not unexpected
    assert missing and all(k.startswith(BNNECK_PREFIX) for k in missing)
    x = torch.randn(2, 1, 3, 64, 32)
    with torch.no_grad():
        expected = source(x[:, 0])
        retrieval = ours(x, mode='tensor')['retrieval']
    assert expected.shape == (2, dim)
    torch.testing.assert_close(retrieval, expected, rtol=1e-5, atol=1e-5)
    assert torch.equal(ours.head.necks[0].classifier.weight,
                       source.classifier.weight)

    # back to torchreid: strict load, same output, same classifier
    ours_file = str(tmp_path / 'epoch_1.pth')
    torch.save(
        dict(state_dict=ours.state_dict(), meta=dict(epoch=1)), ours_file)
    back = str(tmp_path / 'back.pth')
    assert tool.main([ours_file, back, '--reverse', '--arch', arch]) == 0
    out = capsys.readouterr().out
    assert f'{BNNECK_PREFIX}weight: BNNeck BatchNorm' in out
    restored = torchreid_models().build_model(
        arch, num_classes=NUM_CLASSES, pretrained=False, use_gpu=False)
    restored.load_state_dict(
        torch.load(back, weights_only=True)['state_dict'], strict=True)
    with torch.no_grad():
        again = restored.eval()(x[:, 0])
    torch.testing.assert_close(again, expected, rtol=1e-5, atol=1e-5)
    assert torch.equal(restored.classifier.weight, source.classifier.weight)
    assert not restored.classifier.bias.any()


def test_other_num_classes_needs_no_classifier(tool, tmp_path, capsys):
    src = str(tmp_path / 'market.pth')
    save_torchreid(torchreid_model('osnet_x0_25'), src)
    config = write_config(tmp_path, 'osnet_x0_25', 512, num_classes=7)
    dst = str(tmp_path / 'ours.pth')
    assert tool.main([src, dst, '--config', config]) == 1
    out = capsys.readouterr().out
    assert ('head.necks.0.classifier.weight: checkpoint (3, 512) vs model '
            '(7, 512)') in out
    assert '--no-classifier' in out and not osp.exists(dst)
    assert tool.main([src, dst, '--config', config, '--no-classifier']) == 0
    out = capsys.readouterr().out
    assert 'classifier.weight: identity classifier left out' in out


def test_wrong_arch_is_reported(tool, tmp_path, capsys):
    src = str(tmp_path / 'x05.pth')
    save_torchreid(torchreid_model('osnet_x0_5'), src)
    config = write_config(tmp_path, 'osnet_x0_25', 512)
    assert tool.main([src, str(tmp_path / 'o.pth'), '--config', config]) == 1
    assert 'shape mismatches: backbone.encoder.conv1.conv.weight' in (
        capsys.readouterr().out)


def test_per_modality_copies_and_back(tool, tmp_path, capsys):
    source = torchreid_model('osnet_x0_25')
    state = source.state_dict()
    ours, report = torchreid_to_mmreid(
        state, ['backbone.encoders.rgb.', 'backbone.encoders.nir.'])
    assert torch.equal(ours['backbone.encoders.nir.conv1.conv.weight'],
                       state['conv1.conv.weight'])
    assert ('classifier.bias' in dict(report.dropped))
    src = str(tmp_path / 'ours.pth')
    torch.save(dict(state_dict=ours), src)
    with pytest.raises(TorchreidCheckpointError) as err:
        mmreid_to_torchreid(ours)
    assert '--modality NAME' in str(err.value)
    assert "'backbone.encoders.nir.'" in str(err.value)
    back = str(tmp_path / 'nir.pth')
    assert tool.main([src, back, '--reverse', '--modality', 'nir']) == 0
    restored = torch.load(back, weights_only=True)['state_dict']
    assert set(restored) == set(state)
    assert 'backbone.encoders.rgb.conv1.conv.weight: not part of' in (
        capsys.readouterr().out)


def test_wrong_direction_and_missing_file(tool, tmp_path, capsys):
    ours = str(tmp_path / 'ours.pth')
    torch.save(
        dict(state_dict={'backbone.encoder.conv1.weight': torch.ones(1)}),
        ours)
    assert tool.main([ours, str(tmp_path / 'x.pth')]) == 1
    assert 'convert it back with --reverse' in capsys.readouterr().err
    assert tool.main([str(tmp_path / 'none.pth'), 'x.pth']) == 1
    assert 'does not exist' in capsys.readouterr().err
