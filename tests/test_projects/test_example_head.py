# Copyright (c) mmreid_text contributors. All rights reserved.
"""Unit tests of projects/example_head (path-added, as a user would)."""
import math
import os.path as osp
import sys

import pytest
import torch

from mmreid_text.registry import MODELS
from mmreid_text.structures import ReIDDataSample

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
PROJECT = osp.join(REPO, 'projects', 'example_head')


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
    contract = pytest.importorskip('mmreid_text.models.utils.feature_contract')
    head = _head(head_cls, margin=0.1).train()
    keys = contract.get_feature_keys(head)
    assert keys == contract.FeatureKeys(
        reads=('embedded', ),
        writes=('global_feat', 'retrieval'),
        train_writes=('logits', ))
    feats = contract.FeatureAccessRecorder(embedded=FEATS, text=FEATS)
    out = head(feats, _samples([0, 1]))
    assert feats.accessed == {'embedded'}
    assert set(contract.written_keys(
        feats, out)) == {'global_feat', 'retrieval', 'logits'}
