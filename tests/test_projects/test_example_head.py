# Copyright (c) mmreid_text contributors. All rights reserved.
"""Unit tests of projects/example_head (path-added, as a user would)."""
import math
import os.path as osp
import sys

import pytest
import torch
from mmengine.config import Config

from mmreid_text.models.utils.feature_contract import (FeatureAccessRecorder,
                                                       FeatureContractError,
                                                       FeatureKeys,
                                                       get_feature_keys,
                                                       written_keys)
from mmreid_text.registry import MODELS
from mmreid_text.structures import ReIDDataSample

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
PROJECT = osp.join(REPO, 'projects', 'example_head')
CONFIGS = osp.join(PROJECT, 'configs')


@pytest.fixture(scope='module')
def head_cls():
    sys.path.insert(0, PROJECT)
    try:
        import example_head
    finally:
        sys.path.remove(PROJECT)
    assert osp.dirname(example_head.__file__) == osp.join(
        PROJECT, 'example_head')
    return example_head.CosineMarginHead


def _samples(pids):
    return [ReIDDataSample(metainfo=dict(pid=p)) for p in pids]


def _head(head_cls, **kwargs):
    """Head with hand-set centres w0 = (2, 0), w1 = (1, 1), w2 = (0, -5)."""
    head = head_cls(in_channels=2, num_classes=3, in_key='embedded', **kwargs)
    with torch.no_grad():
        head.weight.copy_(torch.tensor([[2., 0.], [1., 1.], [0., -5.]]))
    return head


# modalities of sample 0 average to (2, 0), of sample 1 to (0, 1)
FEATS = torch.tensor([[[1., 0.], [3., 0.], [2., 0.]],
                      [[0., 1.], [0., 3.], [0., -1.]]])
R = 1 / math.sqrt(2)


def test_registered_in_mmreid_text_models(head_cls):
    assert MODELS.get('CosineMarginHead') is head_cls
    head = MODELS.build(
        dict(type='CosineMarginHead', in_channels=4, num_classes=5))
    assert head.weight.shape == (5, 4) and head.in_key == 'proj_cls'


def test_margin_logits_mean_and_retrieval_by_hand(head_cls):
    head = _head(head_cls, scale=2.0, margin=0.5).train()
    feats = dict(embedded=FEATS, other=torch.ones(1))
    out = head(feats, _samples([0, 1]))
    # cos(g, w): sample 0 -> (1, R, 0), sample 1 -> (0, R, -1); the true
    # class (0 and 1) loses 0.5, then everything is scaled by 2
    expected = 2.0 * torch.tensor([[1. - 0.5, R, 0.], [0., R - 0.5, -1.]])
    torch.testing.assert_close(out['logits'], expected)
    torch.testing.assert_close(out['global_feat'],
                               torch.tensor([[2., 0.], [0., 1.]]))
    torch.testing.assert_close(out['retrieval'],
                               torch.tensor([[1., 0.], [0., 1.]]))
    # inputs pass through, the caller's dict is not changed
    assert out['other'] is feats['other'] and out['embedded'] is FEATS
    assert set(feats) == {'embedded', 'other'}


def test_no_margin_needs_no_labels_and_eval_has_no_logits(head_cls):
    head = _head(head_cls, scale=3.0).train()
    out = head(dict(embedded=FEATS))
    torch.testing.assert_close(out['logits'],
                               3.0 * torch.tensor([[1., R, 0.], [0., R, -1.]]))
    out = head.eval()(dict(embedded=FEATS), _samples([0, 1]))
    assert 'logits' not in out
    torch.testing.assert_close(out['retrieval'],
                               torch.tensor([[1., 0.], [0., 1.]]))


def test_gradients_reach_the_centres_and_the_features(head_cls):
    head = _head(head_cls, margin=0.2).train()
    feats = FEATS.clone().requires_grad_(True)
    out = head(dict(embedded=feats), _samples([2, 0]))
    torch.nn.functional.cross_entropy(out['logits'],
                                      torch.tensor([2, 0])).backward()
    assert head.weight.grad.abs().sum() > 0
    assert feats.grad.abs().sum() > 0


def test_errors_name_the_key_and_the_fix(head_cls):
    head = _head(head_cls, margin=0.1).train()
    with pytest.raises(ValueError, match=r'feats\["embedded"\].*in_channels'):
        head(dict(embedded=torch.zeros(2, 3, 4)), _samples([0, 1]))
    with pytest.raises(ValueError, match='num_classes=3.*0..3'):
        head(dict(embedded=FEATS), _samples([0, 3]))
    with pytest.raises(ValueError, match='data_samples'):
        head(dict(embedded=FEATS))
    with pytest.raises(ValueError, match='margin'):
        head_cls(in_channels=2, num_classes=3, margin=-0.1)
    with pytest.raises(ValueError, match='scale'):
        head_cls(in_channels=2, num_classes=3, scale=0)


def test_declared_feature_keys_match_the_forward(head_cls):
    head = _head(head_cls, margin=0.1).train()
    assert get_feature_keys(head) == FeatureKeys(
        reads=('embedded', ),
        writes=('global_feat', 'retrieval'),
        train_writes=('logits', ))
    feats = FeatureAccessRecorder(embedded=FEATS, text=FEATS)
    out = head(feats, _samples([0, 1]))
    assert feats.accessed == {'embedded'}
    assert set(written_keys(feats,
                            out)) == {'global_feat', 'retrieval', 'logits'}


def test_tiny_config_mixes_the_head_into_deep(head_cls):
    """The project's tiny config is DEEP (by package name) with the head
    swapped; the build-time feature check covers the whole chain."""
    cfg = Config.fromfile(
        osp.join(CONFIGS, 'example_head_deep_tiny_synthetic_rgbnt201.py'))
    deep = Config.fromfile(
        osp.join(REPO, 'configs', 'deep', 'deep_tiny_synthetic_rgbnt201.py'))
    assert cfg.custom_imports.imports == ['mmreid_text', 'example_head']
    assert [n.type
            for n in cfg.model.necks] == [n.type for n in deep.model.necks]
    assert cfg.model.losses.to_dict() == deep.model.losses.to_dict()
    model = MODELS.build(cfg.model)
    assert type(model.head) is head_cls and model.head.num_classes == 60
    assert model.feature_check.checked
    # a typo in the head's key fails at build time, naming the head
    cfg.model.head.in_key = 'embeded'
    with pytest.raises(
            FeatureContractError,
            match=r'head CosineMarginHead reads feats\["embeded"\]'):
        MODELS.build(cfg.model)


def test_vitb16_config_matches_deep_widths():
    cfg = Config.fromfile(
        osp.join(CONFIGS, 'example_head_deep_vitb16_rgbnt201.py'))
    head = cfg.model.head
    assert head.type == 'CosineMarginHead' and head.in_key == 'embedded'
    sse = cfg.model.necks[-1]
    assert sse.type == 'SpectralSemanticEmbedding'
    assert head.in_channels == sse.embed_dims == 512
    assert head.num_classes == 171  # RGBNT201 training identities
    assert cfg.model.backbone.arch == 'ViT-B-16'
