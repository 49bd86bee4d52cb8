# Copyright (c) mmreid_text contributors. All rights reserved.
"""Attention recording and rollout (mmreid_text.visualization)."""
import numpy as np
import pytest
import torch
from open_clip.transformer import ResidualAttentionBlock

from mmreid_text.visualization import (AttentionRecorder, attention_rollout,
                                       cls_attention_map, overlay_heatmap)


def test_identity_attention_rolls_out_to_identity():
    eye = torch.eye(5)[None, None].expand(2, 3, 5, 5)  # [N, heads, L, L]
    rollout = attention_rollout([eye] * 4)
    torch.testing.assert_close(rollout, torch.eye(5).expand(2, 5, 5))
    # the CLS token attends only to itself: zero on every patch
    assert torch.all(cls_attention_map(rollout, (2, 2)) == 0)


def test_uniform_attention_hand_computed():
    """U = 1/L everywhere is idempotent, so (U/2 + I/2)^n =
    I/2^n + (1 - 1/2^n) U: each patch gets (1 - 2^-n) / L."""
    length, blocks = 5, 3
    uniform = torch.full((1, 2, length, length), 1.0 / length)
    rollout = attention_rollout([uniform] * blocks)
    expected = (torch.eye(length) * 0.5**blocks + (1 - 0.5**blocks) / length)
    torch.testing.assert_close(rollout[0], expected)
    cls_map = cls_attention_map(rollout, (2, 2))
    torch.testing.assert_close(
        cls_map, torch.full((1, 2, 2), (1 - 0.5**blocks) / length))


def test_rollout_is_a_product_in_block_order():
    gen = torch.Generator().manual_seed(0)
    a1 = torch.softmax(torch.randn(1, 1, 3, 3, generator=gen), -1)
    a2 = torch.softmax(torch.randn(1, 1, 3, 3, generator=gen), -1)
    eye = torch.eye(3)
    step1, step2 = (a1[0, 0] + eye) / 2, (a2[0, 0] + eye) / 2
    torch.testing.assert_close(attention_rollout([a1, a2])[0], step2 @ step1)
    # max fusion over two heads
    heads = torch.stack([a1[0, 0], a2[0, 0]])[None]
    fused = torch.maximum(a1[0, 0], a2[0, 0])
    step = 0.5 * fused + 0.5 * eye
    torch.testing.assert_close(
        attention_rollout([heads], head_fusion='max')[0],
        step / step.sum(-1, keepdim=True))


def test_recorder_returns_the_blocks_softmax_and_keeps_outputs():
    """The recorded weights are softmax(q k^T / sqrt(d)) recomputed from
    the block's in_proj weights; the block output is unchanged."""
    torch.manual_seed(0)
    width, heads, length = 8, 2, 5
    block = ResidualAttentionBlock(width, heads).eval()
    x = torch.randn(3, length, width)
    with torch.no_grad():
        reference = block(x)
        with AttentionRecorder([block]) as recorder:
            out = block(x)
    torch.testing.assert_close(out, reference)
    (attn, ) = recorder.attentions
    assert attn.shape == (3, heads, length, length)
    h = block.ln_1(x)
    w_q, w_k, _ = block.attn.in_proj_weight.chunk(3)
    b_q, b_k, _ = block.attn.in_proj_bias.chunk(3)
    q = (h @ w_q.T + b_q).view(3, length, heads, -1).transpose(1, 2)
    k = (h @ w_k.T + b_k).view(3, length, heads, -1).transpose(1, 2)
    expected = torch.softmax(
        q @ k.transpose(-1, -2) / (width // heads)**0.5, dim=-1)
    torch.testing.assert_close(attn, expected.detach(), atol=1e-5, rtol=1e-4)
    # hooks are removed on exit
    assert not block.attn._forward_hooks and not block.attn._forward_pre_hooks


def test_recorder_rejects_non_vit_blocks():
    with pytest.raises(TypeError, match='ViT'):
        AttentionRecorder([torch.nn.Linear(2, 2)])


def test_token_count_change_is_an_error():
    with pytest.raises(ValueError, match='same tokens'):
        attention_rollout([torch.eye(3)[None, None], torch.eye(4)[None, None]])


def test_overlay_colours_the_hot_region():
    image = np.full((16, 8, 3), 128, dtype=np.uint8)
    heat = np.zeros((4, 2))
    heat[0, 0] = 1.0  # top-left hot
    out = np.asarray(overlay_heatmap(image, heat, alpha=1.0))
    assert out.shape == (16, 8, 3)
    top_left, bottom_right = out[0, 0].astype(int), out[-1, -1].astype(int)
    assert top_left[0] > top_left[2]  # red
    assert bottom_right[2] > bottom_right[0]  # blue


def test_rollout_maps_of_a_uniform_attention_vit():
    """A clip-tiny ViT whose queries and keys are zeroed attends
    uniformly in every block, so its CLS map is (1 - 2^-n) / L on every
    patch, n blocks, L = 1 + h * w tokens."""
    from mmreid_text.models.backbones import CLIPVisionBackbone
    from mmreid_text.visualization import rollout_maps
    torch.manual_seed(0)
    backbone = CLIPVisionBackbone(
        arch='clip-tiny', img_size=(32, 16), pretrained=None).eval()
    width = backbone.width
    with torch.no_grad():
        for block in backbone.get_blocks():
            block.attn.in_proj_weight[:2 * width] = 0
            block.attn.in_proj_bias[:2 * width] = 0
    maps = rollout_maps(backbone, torch.randn(2, 3, 32, 16), 'nir')
    h, w = backbone.grid
    blocks = backbone.num_blocks
    assert maps.shape == (2, h, w)
    torch.testing.assert_close(
        maps, torch.full((2, h, w), (1 - 0.5**blocks) / (1 + h * w)))
