# Copyright (c) mmreid_text contributors. All rights reserved.
import pytest
import torch
import torch.nn.functional as F

from mmreid_text.models.utils import (infer_pos_embed_grid,
                                      interpolate_pos_embed)


def _ramp_pos_embed(height: int, width: int) -> torch.Tensor:
    """CLS row of 7s, then channel 0 = row index, channel 1 = col index."""
    rows = torch.arange(height).repeat_interleave(width).float()
    cols = torch.arange(width).repeat(height).float()
    grid = torch.stack([rows, cols], dim=1)
    return torch.cat([torch.full((1, 2), 7.0), grid], dim=0)


def test_identity_when_grids_match():
    pos_embed = torch.randn(1 + 16 * 8, 12)
    out = interpolate_pos_embed(pos_embed, (16, 8), old_grid=(16, 8))
    assert torch.equal(out, pos_embed)
    square = torch.randn(1 + 14 * 14, 12)
    assert torch.equal(interpolate_pos_embed(square, (14, 14)), square)


@pytest.mark.parametrize('new_grid', [(16, 8), (8, 16), (18, 9)])
def test_square_source_to_reid_grids(new_grid):
    pos_embed = torch.randn(1 + 14 * 14, 24)
    out = interpolate_pos_embed(pos_embed, new_grid)
    assert out.shape == (1 + new_grid[0] * new_grid[1], 24)
    assert torch.equal(out[0], pos_embed[0])  # CLS position kept
    reference = F.interpolate(
        pos_embed[1:].reshape(1, 14, 14, 24).permute(0, 3, 1, 2),
        size=new_grid,
        mode='bilinear',
        align_corners=False)
    reference = reference.permute(0, 2, 3, 1).reshape(-1, 24)
    torch.testing.assert_close(out[1:], reference)


def test_non_square_source_keeps_geometry():
    # bilinear with align_corners=True reproduces a linear ramp exactly
    pos_embed = _ramp_pos_embed(16, 8)
    out = interpolate_pos_embed(
        pos_embed, (31, 15), old_grid=(16, 8), align_corners=True)
    grid = out[1:].reshape(31, 15, 2)
    torch.testing.assert_close(grid[:, 0, 0], torch.arange(31) * 15 / 30)
    torch.testing.assert_close(grid[0, :, 1], torch.arange(15) * 7 / 14)
    assert torch.equal(out[0], pos_embed[0])


def test_non_square_source_grid_inferred_from_aspect_ratio():
    pos_embed = _ramp_pos_embed(16, 8)
    inferred = interpolate_pos_embed(pos_embed, (18, 9))
    explicit = interpolate_pos_embed(pos_embed, (18, 9), old_grid=(16, 8))
    assert torch.equal(inferred, explicit)
    assert infer_pos_embed_grid(128, (18, 9)) == (16, 8)
    assert infer_pos_embed_grid(128, (9, 18)) == (8, 16)
    assert infer_pos_embed_grid(196) == (14, 14)


def test_uninferable_grid_asks_for_pretrained_grid():
    with pytest.raises(ValueError, match='pretrained_grid'):
        infer_pos_embed_grid(24, (5, 5))
    with pytest.raises(ValueError, match='pretrained_grid'):
        interpolate_pos_embed(torch.randn(1 + 24, 4), (5, 5))


def test_wrong_explicit_grid_and_shapes_are_rejected():
    with pytest.raises(ValueError, match='does not match'):
        interpolate_pos_embed(torch.randn(1 + 128, 4), (8, 8), (10, 10))
    with pytest.raises(ValueError, match=r'\[1, L, C\]'):
        interpolate_pos_embed(torch.randn(2, 1 + 4, 4), (3, 3))


def test_batched_input_and_other_modes():
    pos_embed = torch.randn(1, 1 + 4 * 4, 6)
    out = interpolate_pos_embed(pos_embed, (8, 4), mode='nearest')
    assert out.shape == (1, 1 + 32, 6)
    # nearest 4x4 -> 8x4 repeats every row twice
    grid_in = pos_embed[0, 1:].reshape(4, 4, 6)
    grid_out = out[0, 1:].reshape(8, 4, 6)
    torch.testing.assert_close(grid_out[0::2], grid_in)
    torch.testing.assert_close(grid_out[1::2], grid_in)
    bicubic = interpolate_pos_embed(pos_embed[0], (6, 3), mode='bicubic')
    assert bicubic.shape == (1 + 18, 6)
