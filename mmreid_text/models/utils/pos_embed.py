# Copyright (c) mmreid_text contributors. All rights reserved.
"""Resizing of learned 2-D positional embeddings (ViT and RN attnpool)."""
import math
from typing import Optional, Sequence, Tuple

import torch
import torch.nn.functional as F

_ALIGNABLE_MODES = ('linear', 'bilinear', 'bicubic', 'trilinear')
_ANTIALIAS_MODES = ('bilinear', 'bicubic')


def infer_pos_embed_grid(
        num_patches: int,
        target_grid: Optional[Sequence[int]] = None) -> Tuple[int, int]:
    """Guess the ``(h, w)`` grid a checkpoint's positional embedding has.

    A square count gives a square grid (every public CLIP checkpoint).
    Otherwise the factorisation whose aspect ratio equals the one of
    ``target_grid`` is used (a 16x8 ReID checkpoint loaded at 18x9).

    Raises:
        ValueError: if the grid cannot be told from the count alone; pass
            the grid explicitly then (``pretrained_grid=(h, w)``).
    """
    side = math.isqrt(num_patches)
    if side * side == num_patches:
        return side, side
    if target_grid is not None:
        target_h, target_w = target_grid
        matches = [(h, num_patches // h) for h in range(1, num_patches + 1)
                   if num_patches % h == 0 and h *
                   target_w == (num_patches // h) * target_h]
        if len(matches) == 1:
            return matches[0]
    raise ValueError(
        f'Cannot infer the patch grid of a positional embedding with '
        f'{num_patches} patch positions (not a square number and no '
        f'factorisation with the aspect ratio of the target grid '
        f'{None if target_grid is None else tuple(target_grid)}). Pass the '
        f'grid of the checkpoint explicitly, e.g. pretrained_grid=(16, 8).')


def interpolate_pos_embed(pos_embed: torch.Tensor,
                          new_grid: Sequence[int],
                          old_grid: Optional[Sequence[int]] = None,
                          num_prefix_tokens: int = 1,
                          mode: str = 'bilinear',
                          align_corners: bool = False,
                          antialias: bool = False) -> torch.Tensor:
    """Resize a positional embedding to a new patch grid.

    Args:
        pos_embed: ``[P + h0 * w0, C]`` (or ``[1, P + h0 * w0, C]``), the
            ``P = num_prefix_tokens`` leading positions (CLS) come first and
            are kept unchanged; the grid part is row-major.
        new_grid: target ``(h, w)``.
        old_grid: source ``(h0, w0)``; inferred when None (see
            :func:`infer_pos_embed_grid`).
        num_prefix_tokens: positions before the grid (1 for CLIP).
        mode: ``torch.nn.functional.interpolate`` mode (``'bilinear'``,
            ``'bicubic'``, ``'nearest'``, ...).
        align_corners: passed to interpolate for the linear family.
        antialias: passed to interpolate for bilinear/bicubic.

    Returns:
        ``[P + h * w, C]`` (same leading dims as the input), same dtype.
        The input itself is returned when the grids already match.
    """
    squeeze = pos_embed.dim() == 3
    if squeeze:
        if pos_embed.shape[0] != 1:
            raise ValueError('A 3-D positional embedding must be [1, L, C], '
                             f'got {tuple(pos_embed.shape)}.')
        pos_embed = pos_embed[0]
    if pos_embed.dim() != 2:
        raise ValueError('Positional embedding must be [L, C] or [1, L, C], '
                         f'got {tuple(pos_embed.shape)}.')
    new_h, new_w = (int(s) for s in new_grid)
    prefix = pos_embed[:num_prefix_tokens]
    grid_part = pos_embed[num_prefix_tokens:]
    if old_grid is None:
        old_h, old_w = infer_pos_embed_grid(grid_part.shape[0], (new_h, new_w))
    else:
        old_h, old_w = (int(s) for s in old_grid)
    if old_h * old_w != grid_part.shape[0]:
        raise ValueError(
            f'The positional embedding has {grid_part.shape[0]} grid '
            f'positions, which does not match the given grid '
            f'{old_h}x{old_w}.')
    if (old_h, old_w) == (new_h, new_w):
        resized = pos_embed
    else:
        channels = grid_part.shape[-1]
        grid_img = grid_part.reshape(1, old_h, old_w, channels)
        grid_img = grid_img.permute(0, 3, 1, 2).float()
        kwargs = {}
        if mode in _ALIGNABLE_MODES:
            kwargs['align_corners'] = align_corners
        if mode in _ANTIALIAS_MODES:
            kwargs['antialias'] = antialias
        grid_img = F.interpolate(
            grid_img, size=(new_h, new_w), mode=mode, **kwargs)
        grid_part = grid_img.permute(0, 2, 3,
                                     1).reshape(new_h * new_w,
                                                channels).to(pos_embed.dtype)
        resized = torch.cat([prefix, grid_part], dim=0)
    return resized[None] if squeeze else resized
