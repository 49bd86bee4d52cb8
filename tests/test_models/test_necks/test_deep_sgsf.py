# Copyright (c) mmreid_text contributors. All rights reserved.
import math

import pytest
import torch

from mmreid_text.models.necks import SemanticGuidedSpectralFusion
from mmreid_text.models.utils import AttentionFFNBlock
from mmreid_text.registry import MODELS


def _identity_block(block: AttentionFFNBlock) -> None:
    """Identity Q/K/V/out projections; FFN = identity via ReLU(x) - ReLU(-x)
    (needs act='ReLU', ffn_dims = 2 C)."""
    dims = block.attn.embed_dim
    eye = torch.eye(dims)
    with torch.no_grad():
        block.attn.in_proj_weight.copy_(eye.repeat(3, 1))
        block.attn.in_proj_bias.zero_()
        block.attn.out_proj.weight.copy_(eye)
        block.attn.out_proj.bias.zero_()
        block.ffn[0].weight.copy_(torch.cat([eye, -eye]))
        block.ffn[0].bias.zero_()
        block.ffn[3].weight.copy_(torch.cat([eye, -eye], dim=1))
        block.ffn[3].bias.zero_()


def _layer_norm(vector):
    mean = sum(vector) / len(vector)
    var = sum((v - mean)**2 for v in vector) / len(vector)
    return [(v - mean) / math.sqrt(var + 1e-5) for v in vector]


def _stage(queries, keys, residual=True):
    """CA (identity projections, one head) -> (+q) -> LN -> FFN (identity)
    (+h)."""
    dims = len(keys[0])
    out = []
    for q in queries:
        scores = [
            sum(a * b for a, b in zip(q, k)) / math.sqrt(dims) for k in keys
        ]
        exps = [math.exp(s) for s in scores]
        weights = [e / sum(exps) for e in exps]
        attended = [
            sum(w * k[c] for w, k in zip(weights, keys)) for c in range(dims)
        ]
        if residual:
            attended = [a + b for a, b in zip(attended, q)]
        hidden = _layer_norm(attended)
        out.append([2 * h for h in hidden] if residual else hidden)
    return out


@pytest.mark.parametrize('residual', [True, False])
def test_progressive_cross_attention_eq3_eq4_by_hand(residual):
    sgsf = SemanticGuidedSpectralFusion(
        embed_dims=2,
        num_heads=1,
        ffn_dims=4,
        num_modalities=2,
        act='ReLU',
        residual=residual)
    for block in sgsf.blocks:
        _identity_block(block)
    globals_ = [[1.0, 0.0], [0.0, 2.0]]  # v_rgb, v_nir -> f_1 (Eq. 3)
    patches = [[[1.0, 1.0], [0.0, -1.0]], [[2.0, 0.0], [0.5, 0.5]]]
    feats = dict(
        proj_cls=torch.tensor([globals_]), proj_tokens=torch.tensor([patches]))
    out = sgsf(feats)
    expected = globals_
    for spectrum in range(2):  # Eq. 4, in input order
        expected = _stage(expected, patches[spectrum], residual)
    torch.testing.assert_close(out['fused'][0], torch.tensor(expected))
    assert 'proj_cls' in out and out is not feats


def test_shapes_gradients_and_every_spectrum_matters():
    sgsf = MODELS.build(
        dict(
            type='SemanticGuidedSpectralFusion',
            embed_dims=16,
            num_heads=2,
            ffn_dims=32)).eval()
    gen = torch.Generator().manual_seed(0)
    cls = torch.randn(2, 3, 16, generator=gen, requires_grad=True)
    tokens = torch.randn(2, 3, 8, 16, generator=gen, requires_grad=True)
    fused = sgsf(dict(proj_cls=cls, proj_tokens=tokens))['fused']
    assert fused.shape == (2, 3, 16)
    fused.sum().backward()
    assert cls.grad.abs().sum() > 0
    for spectrum in range(3):
        assert tokens.grad[:, spectrum].abs().sum() > 0
    for name, param in sgsf.named_parameters():
        assert param.grad is not None, name
    # the last spectrum's patches reach every output token
    changed = tokens.detach().clone()
    changed[:, 2] += 1.0
    fused2 = sgsf(dict(proj_cls=cls.detach(), proj_tokens=changed))['fused']
    assert (fused2 - fused.detach()).abs().amax(dim=-1).min() > 0


def test_parameter_count_matches_paper_scale():
    """M blocks of (4C^2 + 4C) attention + 2C LN + (2CF + F + C) FFN: for
    C=512, F=2048, M=3 this is the 9.45 M of DEEP Table X (+9.5 M)."""
    sgsf = SemanticGuidedSpectralFusion()
    c, f = 512, 2048
    per_block = 4 * c * c + 4 * c + 2 * c + 2 * c * f + f + c
    assert sum(p.numel() for p in sgsf.parameters()) == 3 * per_block
    assert 3 * per_block == 9_454_080


def test_bad_inputs():
    sgsf = SemanticGuidedSpectralFusion(
        embed_dims=16, num_heads=2, ffn_dims=32)
    with pytest.raises(KeyError, match='proj_tokens'):
        sgsf(dict(proj_cls=torch.randn(1, 3, 16)))
    with pytest.raises(ValueError, match='M=3'):
        sgsf(
            dict(
                proj_cls=torch.randn(1, 2, 16),
                proj_tokens=torch.randn(1, 2, 4, 16)))
    with pytest.raises(ValueError, match='divisible'):
        SemanticGuidedSpectralFusion(embed_dims=10, num_heads=3)


def test_block_options_reach_every_block():
    """Added after mutation testing: ``act`` and ``dropout`` were not
    checked (the identity FFN of the hand test is the identity for GELU
    too: ``GELU(x) - GELU(-x) = x``), nor the default ``residual=True``
    the main config relies on."""
    default = SemanticGuidedSpectralFusion(
        embed_dims=16, num_heads=2, ffn_dims=32)
    assert all(
        b.residual and isinstance(b.ffn[1], torch.nn.GELU)
        and b.attn.dropout == 0.0 for b in default.blocks)
    custom = SemanticGuidedSpectralFusion(
        embed_dims=16,
        num_heads=2,
        ffn_dims=32,
        act='ReLU',
        dropout=0.25,
        residual=False)
    assert len(custom.blocks) == 3
    for block in custom.blocks:
        assert isinstance(block.ffn[1], torch.nn.ReLU)
        assert block.attn.dropout == 0.25 and block.ffn[2].p == 0.25
        assert not block.residual
