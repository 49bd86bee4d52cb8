# Copyright (c) mmreid_text contributors. All rights reserved.
import math

import pytest
import torch
import torch.nn.functional as F

from mmreid_text.models.necks import TemporalTransformer
from mmreid_text.models.utils.feature_contract import (FeatureAccessRecorder,
                                                       written_keys)

TRANSF = dict(
    readout='mean',
    norm_first=True,
    act='QuickGELU',
    dropout=0.0,
    final_norm=False,
    residual=True)
TRANSF_CLS = dict(
    readout='cls',
    norm_first=False,
    act='ReLU',
    dropout=0.1,
    final_norm=True,
    residual=False)
# one nn.TransformerEncoderLayer / CLIP block of width 512, FFN 2048:
# attention 4 x 512^2 + 4 x 512, FFN 2 x 512 x 2048 + 2048 + 512, 2 LN
LAYER_512 = 4 * 512 * 512 + 4 * 512 + 2 * 512 * 2048 + 2048 + 512 + 4 * 512


def _randomise(module):
    """Non-trivial values everywhere (LayerNorm affine, biases)."""
    torch.manual_seed(1)
    with torch.no_grad():
        for param in module.parameters():
            param.copy_(torch.randn_like(param) * 0.5)


def _layer_norm(x, norm):
    return F.layer_norm(x, norm.normalized_shape, norm.weight, norm.bias,
                        norm.eps)


def _reference_layer(h, layer, heads, norm_first, act):
    """One encoder layer written out: multi-head attention from the packed
    in-projection, FFN, residuals, pre- or post-LN."""
    attn = layer.self_attn
    width = h.shape[-1]
    dims = width // heads

    def mha(z):
        q, k, v = (z @ attn.in_proj_weight.T + attn.in_proj_bias).split(
            width, dim=-1)
        q, k, v = (
            t.unflatten(-1, (heads, dims)).transpose(1, 2) for t in (q, k, v))
        weights = (q @ k.transpose(-1, -2) / math.sqrt(dims)).softmax(-1)
        mixed = (weights @ v).transpose(1, 2).flatten(2)
        return mixed @ attn.out_proj.weight.T + attn.out_proj.bias

    def ffn(z):
        hidden = act(z @ layer.linear1.weight.T + layer.linear1.bias)
        return hidden @ layer.linear2.weight.T + layer.linear2.bias

    if norm_first:
        h = h + mha(_layer_norm(h, layer.norm1))
        return h + ffn(_layer_norm(h, layer.norm2))
    h = _layer_norm(h + mha(h), layer.norm1)
    return _layer_norm(h + ffn(h), layer.norm2)


def test_transf_equals_the_written_out_formula():
    """Transf: mean_t(E(x + P)_t + x_t), pre-LN layers, QuickGELU."""
    neck = TemporalTransformer(
        embed_dims=8,
        num_heads=2,
        num_layers=2,
        ffn_ratio=2,
        num_frames=3,
        **TRANSF)
    _randomise(neck)
    frames = torch.randn(2, 2, 3, 8)
    out = neck.eval()(dict(proj_cls=frames))['seq_proj_cls']
    assert out.shape == (2, 2, 8)
    h = frames.flatten(0, 1) + neck.pos_embed
    for layer in neck.layers:
        h = _reference_layer(h, layer, 2, True,
                             lambda x: x * torch.sigmoid(1.702 * x))
    expected = (h + frames.flatten(0, 1)).mean(1).view(2, 2, 8)
    torch.testing.assert_close(out, expected, rtol=1e-4, atol=1e-5)
    # the frame positions make the order matter
    shuffled = neck(dict(proj_cls=frames[:, :, [2, 0, 1]]))['seq_proj_cls']
    assert not torch.allclose(shuffled, out, atol=1e-4)


def test_transf_cls_is_the_cls_slot():
    """Transf_cls: LN(E([c; x] + P))_0, post-LN layers, ReLU (eval)."""
    neck = TemporalTransformer(
        embed_dims=8,
        num_heads=2,
        num_layers=2,
        ffn_ratio=2,
        num_frames=3,
        **TRANSF_CLS)
    _randomise(neck)
    frames = torch.randn(2, 1, 3, 8)
    out = neck.eval()(dict(proj_cls=frames))['seq_proj_cls']
    h = torch.cat([neck.cls_token.expand(2, 1, 8), frames[:, 0]], 1)
    h = h + neck.pos_embed
    for layer in neck.layers:
        h = _reference_layer(h, layer, 2, False, F.relu)
    expected = _layer_norm(h, neck.norm)[:, 0]
    torch.testing.assert_close(out[:, 0], expected, rtol=1e-4, atol=1e-5)
    assert neck.pos_embed.shape == (4, 8)


def test_transformer_keys_and_init():
    neck = TemporalTransformer(
        embed_dims=8,
        num_heads=2,
        num_layers=1,
        num_frames=3,
        in_key='cls',
        out_key='seq_cls')
    assert neck.reads == ('cls', ) and neck.writes == ('seq_cls', )
    feats = FeatureAccessRecorder(cls=torch.randn(2, 1, 3, 8), x=1)
    out = neck(feats)
    assert out['cls'] is feats['cls'] and 'seq_cls' not in feats
    assert feats.accessed == {'cls'}
    assert written_keys(feats, out) == ('seq_cls', )
    assert neck.pos_embed.abs().max() <= 0.04
    layer = neck.layers[0]
    assert torch.count_nonzero(layer.linear1.bias) == 0
    assert torch.count_nonzero(layer.self_attn.in_proj_bias) == 0
    assert 0.005 < layer.self_attn.in_proj_weight.std() < 0.04


@pytest.mark.parametrize('variant, extra', [
    (TRANSF, 6 * 512),
    (TRANSF_CLS, 2 * 512 + 512 + 7 * 512),
])
def test_transformer_parameters_at_clip_width(variant, extra):
    """Table IV at width 512 (the CLIP projection), 8 heads, 6 layers,
    T = 6. Transf: 6 x 3,152,384 + 6 x 512 positions = 18,917,376
    (paper +18.91 M); Transf_cls: 6 x 3,152,384 + final LN 1,024 + CLS 512
    + 7 x 512 positions = 18,919,424 (paper +18.96 M = this + TF-CLIP's
    unused 77 x 512 table, 39,424)."""
    neck = TemporalTransformer(
        embed_dims=512, num_heads=8, num_layers=6, num_frames=6, **variant)
    assert LAYER_512 == 3_152_384
    layer = sum(p.numel() for p in neck.layers[0].parameters())
    assert layer == LAYER_512
    count = sum(p.numel() for p in neck.parameters() if p.requires_grad)
    assert count == 6 * LAYER_512 + extra


def test_transformer_errors():
    neck = TemporalTransformer(
        embed_dims=8, num_heads=2, num_layers=1, num_frames=6)
    with pytest.raises(ValueError, match=r'proj_cls.*\[B, M, 6, 8\]'):
        neck(dict(proj_cls=torch.zeros(2, 1, 4, 8)))
    with pytest.raises(ValueError, match='residual=False'):
        TemporalTransformer(readout='cls', residual=True)
    with pytest.raises(ValueError, match='readout'):
        TemporalTransformer(readout='max')
    with pytest.raises(ValueError, match='act'):
        TemporalTransformer(act='SiLU')
    with pytest.raises(ValueError, match='divisible'):
        TemporalTransformer(embed_dims=10, num_heads=4)
