# Copyright (c) mmreid_text contributors. All rights reserved.
import pytest
import torch

from mmreid_text.models.necks import ConvFusion, LinearWeightFusion
from mmreid_text.registry import MODELS


def _feats(batch=2, dims=8, grid=(4, 2)):
    gen = torch.Generator().manual_seed(0)
    return dict(
        proj_cls=torch.randn(batch, 3, dims, generator=gen),
        proj_tokens=torch.randn(
            batch, 3, grid[0] * grid[1], dims, generator=gen),
        grid=grid)


def test_linear_weight_fusion():
    fusion = MODELS.build(dict(type='LinearWeightFusion', embed_dims=8))
    feats = _feats()
    out = fusion(feats)
    assert out['fused'].shape == (2, 3, 8)
    x = feats['proj_cls'].flatten(1)
    expected = (x @ fusion.mix.weight.t() + fusion.mix.bias).view(2, 3, 8)
    torch.testing.assert_close(out['fused'], expected + feats['proj_cls'])
    # (M C)^2 + M C weights: 2,360,832 for C=512 (paper: +2.4 M)
    assert sum(p.numel()
               for p in LinearWeightFusion().parameters()) == 2_360_832


@pytest.mark.parametrize('kernel_size,paper_m', [(1, 0.8), (3, 7.1)])
def test_conv_fusion(kernel_size, paper_m):
    fusion = ConvFusion(embed_dims=8, kernel_size=kernel_size)
    feats = _feats()
    feats['proj_tokens'].requires_grad_(True)
    out = fusion(feats)
    assert out['fused'].shape == (2, 3, 8)
    # by hand for the 1x1 case: conv = per-position linear of the stacked
    # channels [rgb C | nir C | tir C], then the mean over positions
    if kernel_size == 1:
        stacked = feats['proj_tokens'].permute(0, 2, 1, 3).flatten(2)
        weight = fusion.conv.weight[:, :, 0, 0]
        pooled = (stacked @ weight.t() + fusion.conv.bias).mean(1)
        torch.testing.assert_close(out['fused'],
                                   feats['proj_cls'] + pooled[:, None])
    out['fused'].sum().backward()
    assert feats['proj_tokens'].grad.abs().sum() > 0
    full = ConvFusion(kernel_size=kernel_size)
    count = sum(p.numel() for p in full.parameters())
    assert count == kernel_size**2 * 3 * 512 * 512 + 512
    assert round(count / 1e6, 1) == paper_m


def test_conv_fusion_bad_inputs():
    with pytest.raises(ValueError, match='odd'):
        ConvFusion(kernel_size=2)
    fusion = ConvFusion(embed_dims=8)
    feats = _feats()
    feats['grid'] = (3, 3)
    with pytest.raises(ValueError, match='grid'):
        fusion(feats)
