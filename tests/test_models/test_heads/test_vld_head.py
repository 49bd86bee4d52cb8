# Copyright (c) mmreid_text contributors. All rights reserved.
"""VLDHead: BNNeck ID branches on the CLS and STA sequence features."""
import pytest
import torch

from mmreid_text.models.heads import VLDHead
from mmreid_text.structures import ReIDDataSample

B, C, E = 4, 8, 6


def _feats():
    torch.manual_seed(0)
    return dict(
        seq_cls=torch.randn(B, 1, C),
        seq_sta=torch.randn(B, 1, C),
        seq_proj_cls=torch.randn(B, 1, E))


def _samples(pids=(0, 0, 1, 1)):
    return [ReIDDataSample(metainfo=dict(pid=p)) for p in pids]


def test_train_outputs():
    head = VLDHead(in_channels=C, num_classes=3).train()
    feats = _feats()
    out = head(feats, _samples())
    for name in ('cls', 'sta'):
        x = feats[f'seq_{name}'][:, 0]
        neck = head.necks[name]
        assert torch.equal(out[f'{name}_feat'], x)
        torch.testing.assert_close(out[f'{name}_bn_feat'], neck.bn(x))
        torch.testing.assert_close(out[f'{name}_logits'],
                                   neck.classifier(out[f'{name}_bn_feat']))
        assert out[f'{name}_logits'].shape == (B, 3)
        assert neck.bn.bias.requires_grad  # public VLD Classifier
    assert set(head.train_writes) == {'cls_logits', 'sta_logits'}
    assert set(out) >= set(head.writes)


def test_test_feature_is_cls_then_sta_before_bn():
    head = VLDHead(in_channels=C, num_classes=3).eval()
    feats = _feats()
    out = head(feats)
    assert 'cls_logits' not in out and 'sta_logits' not in out
    expected = torch.cat([feats['seq_cls'][:, 0], feats['seq_sta'][:, 0]], 1)
    assert torch.equal(out['retrieval'], expected)
    post = VLDHead(
        in_channels=C, num_classes=3, retrieval_feat='post_bn').eval()
    out = post(feats)
    torch.testing.assert_close(
        out['retrieval'], torch.cat([out['cls_bn_feat'], out['sta_bn_feat']],
                                    1))


def test_options_baseline_and_proj_branch():
    base = VLDHead(
        in_channels=C, num_classes=3, sta_key=None, bn_bias=False).train()
    out = base(_feats(), _samples())
    assert base.reads == ('seq_cls', ) and 'sta_logits' not in out
    assert out['retrieval'].shape == (B, C)
    assert not base.necks['cls'].bn.bias.requires_grad
    proj = VLDHead(
        in_channels=C, num_classes=3, proj_key='seq_proj_cls',
        proj_channels=E).train()
    out = proj(_feats(), _samples())
    assert out['proj_logits'].shape == (B, 3)
    assert out['retrieval'].shape == (B, 2 * C)  # the projection is not


def test_errors():
    head = VLDHead(in_channels=C, num_classes=2).train()
    with pytest.raises(ValueError, match='num_classes=2'):
        head(_feats(), _samples((0, 1, 2, 2)))
    feats = _feats()
    feats['seq_cls'] = torch.randn(B, 1, 3, C)
    with pytest.raises(ValueError, match='TemporalPooling'):
        head(feats, _samples((0, 0, 1, 1)))
