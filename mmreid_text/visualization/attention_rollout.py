# Copyright (c) mmreid_text contributors. All rights reserved.
"""Attention rollout (Abnar & Zuidema, ACL 2020) for open_clip ViT towers.

open_clip's ``ResidualAttentionBlock`` calls its ``nn.MultiheadAttention``
with ``need_weights=False``, so the weights are never computed.
:class:`AttentionRecorder` adds a forward pre-hook (with kwargs) on every
block's ``attn`` that asks for the per-head weights
(``need_weights=True, average_attn_weights=False``) and a forward hook that
stores them; the block output is unchanged (the attention output is the
same, only the weights are also returned).

Rollout: with ``A_l`` the head-fused attention of block ``l`` ``[L, L]``,
``Ã_l = (1 - alpha) A_l + alpha I`` (the residual connection, ``alpha =
0.5`` as the paper), rows renormalised, and ``R = Ã_n ... Ã_1``. Row 0 of
``R`` (the CLS token) over the patch tokens is the map. Rollout needs no
gradients (Grad-CAM would) and shows what the CLS feature aggregates,
class-agnostic.
"""
from typing import List, Optional, Sequence, Tuple

import numpy as np
import torch
from PIL import Image
from torch import nn

HEAD_FUSIONS = ('mean', 'max', 'min')


class AttentionRecorder:
    """Record the attention weights of ViT blocks during a forward.

    Use as a context manager::

        with AttentionRecorder(backbone.get_blocks('rgb')) as rec:
            backbone(images, modalities=('rgb', ))
        attns = rec.attentions   # one [N, heads, L, L] per block call

    Args:
        blocks: open_clip ``ResidualAttentionBlock``s (each with an
            ``attn`` ``nn.MultiheadAttention``), in forward order.
    """

    def __init__(self, blocks: Sequence[nn.Module]) -> None:
        self.blocks = list(blocks)
        for index, block in enumerate(self.blocks):
            attn = getattr(block, 'attn', None)
            if not isinstance(attn, nn.MultiheadAttention):
                raise TypeError(
                    f'AttentionRecorder: block {index} '
                    f'({type(block).__name__}) has no nn.MultiheadAttention '
                    '`attn`; attention maps need a ViT (open_clip '
                    'VisionTransformer) backbone, not a ResNet.')
        self.attentions: List[torch.Tensor] = []
        self._handles = []

    @staticmethod
    def _ask_weights(module, args, kwargs):
        kwargs = dict(kwargs)
        kwargs['need_weights'] = True
        kwargs['average_attn_weights'] = False
        return args, kwargs

    def _store(self, module, args, output):
        self.attentions.append(output[1].detach())

    def __enter__(self) -> 'AttentionRecorder':
        self.attentions = []
        for block in self.blocks:
            self._handles.append(
                block.attn.register_forward_pre_hook(
                    self._ask_weights, with_kwargs=True))
            self._handles.append(block.attn.register_forward_hook(self._store))
        return self

    def __exit__(self, *exc) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []


def fuse_heads(attn: torch.Tensor, head_fusion: str = 'mean') -> torch.Tensor:
    """``[..., heads, L, L]`` -> ``[..., L, L]`` by mean / max / min."""
    if head_fusion == 'mean':
        return attn.mean(dim=-3)
    if head_fusion == 'max':
        return attn.amax(dim=-3)
    if head_fusion == 'min':
        return attn.amin(dim=-3)
    raise ValueError(f'head_fusion must be one of {HEAD_FUSIONS}, got '
                     f'{head_fusion!r}.')


def attention_rollout(attentions: Sequence[torch.Tensor],
                      head_fusion: str = 'mean',
                      residual: float = 0.5,
                      discard_ratio: float = 0.0) -> torch.Tensor:
    """Rollout ``R = Ã_n ... Ã_1`` of per-block attentions.

    Args:
        attentions: per block, ``[N, heads, L, L]`` (or ``[N, L, L]``,
            already fused), in forward order.
        head_fusion: ``'mean'`` (paper), ``'max'`` or ``'min'``.
        residual: weight ``alpha`` of the identity (0.5 in the paper).
        discard_ratio: fraction of the lowest fused weights per row set to
            0 before adding the identity (0 = none; the CLS column is
            kept).

    Returns:
        ``[N, L, L]`` rollout; rows sum to 1.
    """
    if not attentions:
        raise ValueError('attention_rollout: no attention recorded.')
    result = None
    for index, attn in enumerate(attentions):
        attn = attn.float()
        fused = fuse_heads(attn, head_fusion) if attn.dim() == 4 else attn
        if result is not None and fused.shape[-1] != result.shape[-1]:
            raise ValueError(
                f'attention_rollout: block {index} attends over '
                f'{fused.shape[-1]} tokens, the earlier blocks over '
                f'{result.shape[-1]}; rollout needs the same tokens in '
                'every block (models that append tokens, e.g. a VLD hub, '
                'are not supported).')
        if discard_ratio > 0:
            num = int(fused.shape[-1] * discard_ratio)
            if num:
                low = fused.topk(num, dim=-1, largest=False).indices
                low = low.masked_fill(low == 0, 1)  # keep the CLS column
                fused = fused.scatter(-1, low, 0.0)
        eye = torch.eye(
            fused.shape[-1], dtype=fused.dtype, device=fused.device)
        step = (1.0 - residual) * fused + residual * eye
        step = step / step.sum(dim=-1, keepdim=True)
        result = step if result is None else step @ result
    return result


def cls_attention_map(rollout: torch.Tensor, grid: Tuple[int,
                                                         int]) -> torch.Tensor:
    """Row 0 (CLS) over the patches of ``[N, L, L]`` -> ``[N, h, w]``."""
    h, w = grid
    if rollout.shape[-1] != 1 + h * w:
        raise ValueError(f'rollout over {rollout.shape[-1]} tokens does not '
                         f'match 1 CLS + {h}x{w} patches.')
    return rollout[:, 0, 1:].reshape(-1, h, w)


def _jet(values: np.ndarray) -> np.ndarray:
    """``[H, W]`` in [0, 1] -> ``[H, W, 3]`` uint8 (a blue-red ramp)."""
    v = np.clip(values, 0.0, 1.0)
    r = np.clip(1.5 - np.abs(4 * v - 3), 0, 1)
    g = np.clip(1.5 - np.abs(4 * v - 2), 0, 1)
    b = np.clip(1.5 - np.abs(4 * v - 1), 0, 1)
    return (np.stack([r, g, b], axis=-1) * 255).astype(np.uint8)


def overlay_heatmap(image: np.ndarray,
                    heat: np.ndarray,
                    alpha: float = 0.5,
                    normalise: bool = True) -> Image.Image:
    """An ``[H, W, 3]`` uint8 image with ``heat`` ``[h, w]`` over it.

    The map is min-max normalised (``normalise``), upsampled bilinearly to
    the image size and blended with a blue (low) to red (high) colour ramp.
    """
    heat = np.asarray(heat, dtype=np.float64)
    if normalise:
        span = heat.max() - heat.min()
        heat = (heat - heat.min()) / span if span > 0 else np.zeros_like(heat)
    height, width = image.shape[:2]
    up = Image.fromarray((heat * 255).astype(np.uint8)).resize((width, height),
                                                               Image.BILINEAR)
    colour = _jet(np.asarray(up, dtype=np.float64) / 255.0)
    base = Image.fromarray(np.asarray(image, dtype=np.uint8)).convert('RGB')
    return Image.blend(base, Image.fromarray(colour), alpha)


def rollout_maps(backbone: nn.Module,
                 images: torch.Tensor,
                 modality: Optional[str] = None,
                 head_fusion: str = 'mean',
                 residual: float = 0.5,
                 discard_ratio: float = 0.0) -> torch.Tensor:
    """CLS rollout maps of a :class:`CLIPVisionBackbone` (ViT).

    Args:
        backbone: the ViT backbone.
        images: ``[N, 3, H, W]`` normalised images of one modality.
        modality: the slot (chooses the encoder when weights are not
            shared; None = the backbone's only / shared encoder).

    Returns:
        ``[N, h, w]`` maps (each sums to at most 1).
    """
    if getattr(backbone, 'is_resnet', False):
        raise TypeError('rollout_maps needs a ViT backbone; '
                        f'{backbone.arch_name} is a ModifiedResNet (use '
                        'Grad-CAM for CNNs).')
    if getattr(backbone, 'hub', None) is not None:
        raise ValueError('rollout_maps: backbones with a VLD hub append '
                         'tokens mid-network; rollout is not defined.')
    name = modality if modality is not None else backbone.modalities[0]
    with torch.no_grad(), AttentionRecorder(
            backbone.get_blocks(modality)) as recorder:
        backbone(images[:, None], modalities=(name, ))
    rollout = attention_rollout(recorder.attentions, head_fusion, residual,
                                discard_ratio)
    return cls_attention_map(rollout, backbone.grid)
