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


def test_eval_accepts_test_identities_and_width_is_checked():
    # test identities are not training classes: no range check in eval
    head = VLDHead(in_channels=C, num_classes=2).eval()
    out = head(_feats(), _samples((7, 8, 9, 9)))
    assert out['retrieval'].shape == (B, 2 * C)
    feats = _feats()
    feats['seq_sta'] = torch.randn(B, 1, C + 1)
    with pytest.raises(ValueError, match=r'^VLDHead expects feats\["seq_sta'):
        head(feats)
    init_cfg = dict(type='Normal', layer='Linear', std=0.01)
    assert VLDHead(
        in_channels=C, num_classes=2, init_cfg=init_cfg).init_cfg == init_cfg
    with pytest.raises(ValueError, match='^VLDHead: retrieval_feat'):
        VLDHead(in_channels=C, num_classes=2, retrieval_feat='logits')
