# Copyright (c) mmreid_text contributors. All rights reserved.
"""BNNeck initialisation and the label-range check, exactly.

Added after mutation testing (docs/benchmarks.md): a label equal to
``num_classes`` and the BNNeck's initial values were not checked.
"""
import pytest
import torch

from mmreid_text.models.heads.bnneck_head import BNNeck, BNNeckHead
from mmreid_text.structures import ReIDDataSample


def _samples(pids):
    return [ReIDDataSample(metainfo=dict(pid=p)) for p in pids]


def test_bnneck_initial_values_are_bot():
    """BoT's BNNeck: BN weight 1, bias 0 and frozen (a non-zero frozen
    bias would shift every feature for ever), bias-free classifier with
    std 0.001."""
    torch.manual_seed(0)
    neck = BNNeck(256, 100)
    assert torch.equal(neck.bn.weight, torch.ones(256))
    assert torch.equal(neck.bn.bias, torch.zeros(256))
    assert not neck.bn.bias.requires_grad and neck.bn.weight.requires_grad
    assert neck.classifier.bias is None
    std = neck.classifier.weight.std().item()
    assert 0.0008 < std < 0.0012


def test_label_equal_to_num_classes_is_rejected():
    """Off by one: labels are 0..num_classes-1."""
    head = BNNeckHead(in_channels=4, num_classes=5).train()
    feats = dict(proj_cls=torch.randn(4, 3, 4))
    head(feats, _samples([0, 1, 4, 4]))  # the largest valid label
    with pytest.raises(
            ValueError, match=r'BNNeckHead has num_classes=5.*'
            r'labels 0\.\.5'):
        head(feats, _samples([0, 1, 5, 2]))
    with pytest.raises(ValueError, match='-1'):
        head(feats, _samples([0, -1, 2, 2]))


def test_wrong_number_of_modalities_is_rejected():
    head = BNNeckHead(in_channels=4, num_classes=5)
    with pytest.raises(ValueError, match=r'\[B, 3, C\], got \(2, 2, 4\)'):
        head(dict(proj_cls=torch.randn(2, 2, 4)))


def test_per_modality_outputs_are_lists():
    head = BNNeckHead(in_channels=4, num_classes=5, fuse='per_modality')
    out = head.eval()(dict(proj_cls=torch.randn(2, 3, 4)))
    assert isinstance(out['bn_feat'], list) and len(out['bn_feat']) == 3
    assert isinstance(out['global_feat'], list)
    with pytest.raises(
            ValueError,
            match="retrieval_feat must be pre_bn or "
            "post_bn, got 'mid'"):
        BNNeckHead(in_channels=4, num_classes=5, retrieval_feat='mid')
