# Copyright (c) mmreid_text contributors. All rights reserved.
"""VLD spatial-temporal aggregation (Eq. 10) against a hand computation."""
import math

import pytest
import torch
from torch import nn

from mmreid_text.models.necks import SpatialTemporalAggregation

B, M, T, C, HEADS = 2, 1, 3, 8, 2


def _feats(seed=0):
    torch.manual_seed(seed)
    return dict(
        cls_pre_ln=torch.randn(B, M, T, C),
        hub_tokens=torch.randn(B, M, T, T, C))


def _hand_mha(attn: nn.MultiheadAttention, q, kv):
    """Multi-head attention written out: q [T, C], kv [K, C]."""
    w_q, w_k, w_v = attn.in_proj_weight.chunk(3)
    b_q, b_k, b_v = attn.in_proj_bias.chunk(3)
    d = C // HEADS
    heads = []
    for h in range(HEADS):
        sl = slice(h * d, (h + 1) * d)
        qh = q @ w_q[sl].t() + b_q[sl]
        kh = kv @ w_k[sl].t() + b_k[sl]
        vh = kv @ w_v[sl].t() + b_v[sl]
        weights = torch.softmax(qh @ kh.t() / math.sqrt(d), dim=-1)
        heads.append(weights @ vh)
    return torch.cat(heads, -1) @ attn.out_proj.weight.t() + \
        attn.out_proj.bias


def _hand_ln(x, ln):
    mean = x.mean(-1, keepdim=True)
    var = x.var(-1, unbiased=False, keepdim=True)
    return (x - mean) / torch.sqrt(var + ln.eps) * ln.weight + ln.bias


class _Backbone(nn.Module):
    """One shared encoder; says nothing about share_weights (as a backbone
    without per-modality encoders)."""

    def __init__(self):
        super().__init__()
        self.encoder = nn.Module()
        self.encoder.ln_post = nn.LayerNorm(C)
        self.encoder.proj = nn.Parameter(torch.randn(C, 4))
        nn.init.normal_(self.encoder.ln_post.weight)
        nn.init.normal_(self.encoder.ln_post.bias)

    def get_encoder(self, modality=None):
        return self.encoder


@pytest.mark.parametrize('norm', ['backbone', 'own', 'none'])
def test_sta_is_eq_10(norm):
    sta = SpatialTemporalAggregation(
        embed_dims=C,
        num_heads=HEADS,
        num_frames=T,
        norm=norm,
        proj_out_key='proj_sta').eval()
    backbone = _Backbone()
    sta.set_backbone(backbone)
    if norm == 'own':
        nn.init.normal_(sta.norm.weight)
        nn.init.normal_(sta.norm.bias)
    nn.init.normal_(sta.attn.in_proj_bias)
    feats = _feats()
    out = sta(feats)
    assert out['sta'].shape == (B, M, T, C)
    for b in range(B):
        q = feats['cls_pre_ln'][b, 0]  # the T frame CLS of the tracklet
        kv = feats['hub_tokens'][b, 0].reshape(T * T, C)  # flattened hub
        expected = _hand_mha(sta.attn, q, kv)
        if norm == 'backbone':
            expected = _hand_ln(expected, backbone.encoder.ln_post)
        elif norm == 'own':
            expected = _hand_ln(expected, sta.norm)
        torch.testing.assert_close(out['sta'][b, 0], expected)
        torch.testing.assert_close(out['proj_sta'][b, 0],
                                   expected @ backbone.encoder.proj)


def test_sta_residual_and_tracklets_do_not_mix():
    sta = SpatialTemporalAggregation(
        embed_dims=C,
        num_heads=HEADS,
        num_frames=T,
        norm='none',
        residual=True).eval()
    feats = _feats()
    out = sta(feats)['sta']
    q = feats['cls_pre_ln'][1, 0]
    kv = feats['hub_tokens'][1, 0].reshape(T * T, C)
    torch.testing.assert_close(out[1, 0], _hand_mha(sta.attn, q, kv) + q)
    # changing tracklet 0's hub leaves tracklet 1 unchanged
    feats['hub_tokens'][0] += 1
    torch.testing.assert_close(sta(feats)['sta'][1], out[1])


def test_sta_parameters_and_keys():
    sta = SpatialTemporalAggregation()  # ViT-B/16: 768, 12 heads, T=6
    count = sum(p.numel() for p in sta.parameters())
    assert count == 4 * 768 * 768 + 4 * 768  # MHA only; LN is ln_post
    assert sta.reads == ('cls_pre_ln', 'hub_tokens')
    assert sta.writes == ('sta', )


def test_sta_errors():
    """Each error names the module and says what is wrong."""
    name = 'SpatialTemporalAggregation'
    sta = SpatialTemporalAggregation(
        embed_dims=C, num_heads=HEADS, num_frames=4, norm='none')
    with pytest.raises(ValueError, match=rf'^{name}: feats.*\[B, M, 4, 8\]'):
        sta(_feats())
    sta = SpatialTemporalAggregation(
        embed_dims=C, num_heads=HEADS, num_frames=T)
    with pytest.raises(RuntimeError, match=f'^{name} uses.*set_backbone'):
        sta(_feats())
    with pytest.raises(ValueError, match=f'^{name}: norm must be'):
        SpatialTemporalAggregation(norm='batch')
    with pytest.raises(ValueError, match=f'^{name}: embed_dims'):
        SpatialTemporalAggregation(embed_dims=10, num_heads=3)
    backbone = _Backbone()
    backbone.share_weights = False
    with pytest.raises(
            ValueError,
            match=f'^{name}: norm="backbone".*share_weights=False'):
        sta.set_backbone(backbone)
    with pytest.raises(ValueError, match=f'^{name}: embed_dims=16'):
        SpatialTemporalAggregation(
            embed_dims=16, num_heads=HEADS).set_backbone(_Backbone())


def test_sta_options_reach_the_module():
    # one frame is a valid tracklet length; dropout and init_cfg are kept
    init_cfg = dict(type='Normal', layer='Linear', std=0.01)
    sta = SpatialTemporalAggregation(
        embed_dims=C,
        num_heads=HEADS,
        num_frames=1,
        norm='none',
        dropout=0.25,
        init_cfg=init_cfg)
    assert sta.attn.dropout == 0.25 and sta.init_cfg == init_cfg
    feats = dict(
        cls_pre_ln=torch.randn(B, M, 1, C),
        hub_tokens=torch.randn(B, M, 1, 1, C))
    assert sta.eval()(feats)['sta'].shape == (B, M, 1, C)
    with pytest.raises(ValueError, match='num_frames must be >= 1'):
        SpatialTemporalAggregation(num_frames=0)


def test_set_backbone_checks_the_encoder_parts():
    sta = SpatialTemporalAggregation(embed_dims=C, num_heads=HEADS)
    # a backbone that does not say share_weights has one shared encoder
    plain = _Backbone()
    sta.set_backbone(plain)
    assert sta._encoder() is plain.encoder
    for part in ('ln_post', 'proj'):
        backbone = _Backbone()
        delattr(backbone.encoder, part)
        with pytest.raises(ValueError, match='no ln_post / proj'):
            sta.set_backbone(backbone)
    hub_only = SpatialTemporalAggregation(
        embed_dims=C, num_heads=HEADS, num_frames=T, norm='none')
    feats = _feats()
    feats['hub_tokens'] = feats['hub_tokens'][:, :, :, :2]
    with pytest.raises(
            ValueError,
            match=r'must be \[B, M, 3, 3, 8\].*'
            r'got \(2, 1, 3, 2, 8\)'):
        hub_only(feats)
