# Copyright (c) mmreid_text contributors. All rights reserved.
"""tools/analysis_tools/retrieval_block_norms.py on the tiny DEEP config."""
import json
import os.path as osp

import pytest
import torch

from mmreid_text.engine.runner import ReIDRunner
from mmreid_text.registry import MODELS
from mmreid_text.utils import load_config, register_all_modules
from .conftest import REPO, TINY_CONFIG, TINY_GENERATOR

DEEP_TINY = osp.join(REPO, 'configs', 'deep',
                     'deep_tiny_synthetic_rgbnt201.py')


def _settings(data_root):
    """Test loader of the tiny synthetic data (same generator settings, so
    the data is not made again)."""
    settings = {
        'test_dataloader.dataset.data_root': data_root,
        'test_dataloader.num_workers': 0,
        'test_dataloader.batch_size': 8
    }
    for key, value in TINY_GENERATOR.items():
        settings[f'test_dataloader.dataset.generator.{key}'] = value
    return settings


def _options(data_root):
    return [
        f'{key}={value}'.replace(' ', '')
        for key, value in _settings(data_root).items()
    ]


@pytest.fixture(scope='module')
def deep_checkpoint(tmp_path_factory):
    """A random-init tiny DEEP model and its checkpoint file."""
    register_all_modules()
    torch.manual_seed(0)
    model = MODELS.build(load_config(DEEP_TINY).model).eval()
    path = tmp_path_factory.mktemp('norms') / 'random.pth'
    torch.save(dict(state_dict=model.state_dict()), str(path))
    return model, str(path)


def test_norms_are_those_of_the_neck_outputs(deep_checkpoint, tiny_data_root,
                                             load_tool):
    """The tool's blocks are ``feats['embedded']`` and ``feats['text']``,
    computed here from ``extract_feat`` without the head; a per-block head
    still reports the raw norms and keeps its setting."""
    tool = load_tool('tools/analysis_tools/retrieval_block_norms.py')
    model, _ = deep_checkpoint
    cfg = load_config(DEEP_TINY, _settings(tiny_data_root))
    loader = ReIDRunner.build_dataloader(cfg.test_dataloader)
    model.head.retrieval_norm = 'per_block'
    try:
        norms = tool.block_norms(model, loader)
    finally:
        assert model.head.retrieval_norm == 'per_block'
        model.head.retrieval_norm = 'global'
    expect = dict(F=[], P=[], f_nir=[], p_tir=[])
    for data in loader:
        data = model.data_preprocessor(data, training=False)
        with torch.no_grad():
            feats = model.extract_feat(data['inputs'], data['data_samples'])
        expect['F'].append(feats['embedded'].flatten(1).norm(dim=1))
        expect['P'].append(feats['text'].flatten(1).norm(dim=1))
        expect['f_nir'].append(feats['embedded'][:, 1].norm(dim=1))
        expect['p_tir'].append(feats['text'][:, 2].norm(dim=1))
    num_samples = len(loader.dataset)
    for key, values in expect.items():
        torch.testing.assert_close(norms[key], torch.cat(values))
        assert norms[key].shape == (num_samples, )
    share = norms['F']**2 / (norms['F']**2 + norms['P']**2)
    torch.testing.assert_close(norms['share_F'], share)
    stats = tool.summarise(dict(x=torch.tensor([1., 3.])))
    assert stats == dict(x=(2.0, 1.0))  # population std


def test_cli_prints_table_and_json(deep_checkpoint, tiny_data_root, capsys,
                                   load_tool):
    tool = load_tool('tools/analysis_tools/retrieval_block_norms.py')
    _, checkpoint = deep_checkpoint
    tool.main([
        DEEP_TINY, checkpoint, '--json', '--cfg-options',
        *_options(tiny_data_root)
    ])
    out = capsys.readouterr().out
    assert 'on 16 test samples' in out
    for label in ('||F|| = ||cat f||', '||P|| = ||cat p||', '||f_rgb||',
                  '||p_tir||', '||F||^2 / ||retrieval||^2'):
        assert label in out, label
    stats = json.loads(out.strip().splitlines()[-1])
    assert set(stats) == {
        'F', 'P', 'f_rgb', 'f_nir', 'f_tir', 'p_rgb', 'p_nir', 'p_tir',
        'share_F'
    }
    assert 0 < stats['share_F'][0] < 1


def test_needs_a_deep_head(tmp_path, tiny_data_root, load_tool):
    tool = load_tool('tools/analysis_tools/retrieval_block_norms.py')
    register_all_modules()
    model = MODELS.build(load_config(TINY_CONFIG).model)
    path = tmp_path / 'baseline.pth'
    torch.save(dict(state_dict=model.state_dict()), str(path))
    with pytest.raises(ValueError, match='needs a DEEPHead'):
        tool.main([
            TINY_CONFIG,
            str(path), '--cfg-options', *_options(tiny_data_root)
        ])
