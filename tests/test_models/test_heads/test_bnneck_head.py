# Copyright (c) mmreid_text contributors. All rights reserved.
import pytest
import torch

from mmreid_text.models.heads import BNNeckHead
from mmreid_text.structures import ReIDDataSample


def _samples(pids):
    return [ReIDDataSample(metainfo=dict(pid=p)) for p in pids]


def test_concat_head_outputs_and_retrieval_feature():
    head = BNNeckHead(in_channels=8, num_classes=5, num_modalities=3).train()
    x = torch.randn(4, 3, 8)
    out = head(dict(proj_cls=x), _samples([0, 1, 2, 3]))
    assert out['logits'].shape == (4, 5)
    torch.testing.assert_close(out['global_feat'], x.flatten(1))
    torch.testing.assert_close(out['retrieval'], x.flatten(1))
    # BN bias is frozen (BNNeck), the classifier has no bias
    assert not head.necks[0].bn.bias.requires_grad
    assert head.necks[0].classifier.bias is None
    head.eval()
    out = head(dict(proj_cls=x))
    assert 'logits' not in out


def test_per_modality_and_post_bn():
    head = BNNeckHead(
        in_channels=8,
        num_classes=5,
        fuse='per_modality',
        retrieval_feat='post_bn').eval()
    x = torch.randn(4, 3, 8)
    out = head(dict(proj_cls=x))
    assert isinstance(out['global_feat'], list) and len(out['bn_feat']) == 3
    expect = torch.cat([n.bn(x[:, i]) for i, n in enumerate(head.necks)], 1)
    torch.testing.assert_close(out['retrieval'], expect)
    head.train()
    logits = head(dict(proj_cls=x), _samples([0, 0, 1, 1]))['logits']
    assert len(logits) == 3 and logits[0].shape == (4, 5)


def test_bad_shapes_and_labels_are_explained():
    head = BNNeckHead(in_channels=8, num_classes=5).train()
    with pytest.raises(ValueError, match=r'\[B, 3, C\]'):
        head(dict(proj_cls=torch.randn(4, 8)))
    with pytest.raises(ValueError, match='num_classes=5'):
        head(dict(proj_cls=torch.randn(4, 3, 8)), _samples([0, 1, 7, 2]))
    with pytest.raises(ValueError, match='fuse'):
        BNNeckHead(in_channels=8, num_classes=5, fuse='sum')
