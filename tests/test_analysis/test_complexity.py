# Copyright (c) mmreid_text contributors. All rights reserved.
import json
import os.path as osp
import sys

import pytest
import torch
from mmengine.config import Config
from torch import nn

from mmreid_text.analysis import (count_flops, disable_pretrained,
                                  make_data_samples, model_complexity,
                                  model_input_shape)
from mmreid_text.models.utils import (build_clip_vision_tower,
                                      get_clip_arch_config, tiny_clip_arch)
from mmreid_text.registry import MODELS
from mmreid_text.utils import register_all_modules

register_all_modules()

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def vit_b16_params(num_tokens: int) -> int:
    """Hand count of open_clip's ViT-B/16 visual tower (with proj)."""
    width, mlp, layers = 768, 3072, 12
    block = (
        width * 3 * width + 3 * width  # in_proj
        + width * width + width  # out_proj
        + width * mlp + mlp + mlp * width + width  # MLP
        + 4 * width)  # two LayerNorms
    return (layers * block + 3 * 16 * 16 * width  # patch conv (no bias)
            + width + num_tokens * width  # class + positional embedding
            + 4 * width  # ln_pre, ln_post
            + width * 512)  # proj


def attention_macs(batch, heads, tokens, head_dim, layers):
    """Q K^T and A V products: 2 * B * heads * N^2 * head_dim per layer."""
    return layers * 2 * batch * heads * tokens * tokens * head_dim


@pytest.fixture(scope='module')
def vit_b16_288x144():
    return build_clip_vision_tower(
        get_clip_arch_config('ViT-B-16'), (288, 144), quick_gelu=True)


def test_vit_b16_288x144_matches_the_papers_convention(vit_b16_288x144):
    # VLD's table: plain CLIP ViT-B/16 at 288x144 = 86.17 M / 13.96 G
    result = count_flops(vit_b16_288x144, torch.randn(1, 3, 288, 144))
    assert result.params == vit_b16_params(18 * 9 + 1) == 86_166_528
    numbers = result.to_dict()
    assert round(numbers['params_m'], 2) == 86.17
    assert round(numbers['gflops'], 2) == 13.96
    assert result.attention_flops == attention_macs(1, 12, 163, 64, 12)
    assert result.flops_full == result.flops + result.attention_flops


def test_counts_do_not_depend_on_grad_mode_or_frozen_weights(vit_b16_288x144):
    # frozen encoders in eval mode would take nn.MultiheadAttention's fused
    # path (projections invisible to fvcore); counting_mode prevents that
    reference = count_flops(vit_b16_288x144, torch.randn(1, 3, 288, 144))
    for param in vit_b16_288x144.parameters():
        param.requires_grad_(False)
    try:
        with torch.no_grad():
            frozen = count_flops(vit_b16_288x144, torch.randn(1, 3, 288, 144))
    finally:
        for param in vit_b16_288x144.parameters():
            param.requires_grad_(True)
    assert frozen.flops == reference.flops
    assert frozen.attention_flops == reference.attention_flops
    assert frozen.learnable_params == 0
    assert torch.backends.mha.get_fastpath_enabled()  # restored


def tiny_model_cfg(necks=None, text_encoder=None, img_size=(64, 32)):
    arch = tiny_clip_arch('vit')
    return dict(
        type='ReIDModel',
        backbone=dict(
            type='CLIPVisionBackbone',
            arch=arch,
            img_size=img_size,
            pretrained='no/such/file.pt',
            modalities=('rgb', 'nir', 'tir')),
        necks=necks,
        text_encoder=text_encoder,
        head=dict(
            type='BNNeckHead',
            in_key='proj_cls',
            in_channels=128,
            num_modalities=3,
            num_classes=5))


def test_tiny_model_attention_handle_matches_formula():
    # clip-tiny: 4 blocks, width 128, 2 heads of 64; 64x32 / 8 -> 8x4 grid
    result = model_complexity(tiny_model_cfg())
    assert result.input_shape == (1, 3, 3, 64, 32)
    assert result.flops_full > result.flops > 0
    tokens = 8 * 4 + 1
    assert result.attention_flops == 3 * attention_macs(1, 2, tokens, 64, 4)
    bigger = model_complexity(tiny_model_cfg(), shape=(128, 64))
    assert bigger.input_shape == (1, 3, 3, 128, 64)
    assert bigger.attention_flops == 3 * attention_macs(1, 2, 129, 64, 4)
    assert bigger.flops > result.flops


@MODELS.register_module(name='_ComplexityTestPromptNeck')
class PromptNeck(nn.Module):
    """Adds the text feature of a fixed per-modality prompt to proj_cls."""

    def __init__(self) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.ones(1))

    def set_text_encoder(self, encoder) -> None:
        self._text_encoder = [encoder]

    def forward(self, feats, data_samples):
        modalities = data_samples[0].metainfo['modalities']
        text = self._text_encoder[0].encode_text(
            [f'a {mod} photo of a person.' for mod in modalities])
        feats = dict(feats)
        feats['proj_cls'] = feats['proj_cls'] + self.scale * text[None]
        return feats


def test_text_encoder_flops_counted_but_not_learnable():
    text_cfg = dict(type='TextEncoder', arch=tiny_clip_arch('vit'))
    plain = model_complexity(tiny_model_cfg())
    with_text = model_complexity(
        tiny_model_cfg(
            necks=[dict(type='_ComplexityTestPromptNeck')],
            text_encoder=text_cfg))

    encoder = MODELS.build(text_cfg)
    text_params = sum(p.numel() for p in encoder.parameters())
    assert with_text.params == plain.params + text_params + 1
    assert with_text.learnable_params == plain.learnable_params + 1

    class EncodePrompts(nn.Module):

        def __init__(self):
            super().__init__()
            self.encoder = encoder

        def forward(self, dummy):
            return self.encoder.encode_text(
                [f'a {m} photo of a person.' for m in ('rgb', 'nir', 'tir')])

    text_only = count_flops(EncodePrompts(), torch.zeros(1))
    assert text_only.flops > 0
    assert with_text.flops == plain.flops + text_only.flops
    assert with_text.attention_flops == (
        plain.attention_flops + text_only.attention_flops)


def test_baseline_config_parameters():
    cfg = Config.fromfile(
        osp.join(REPO_ROOT, 'configs', 'baseline', 'clip_vitb16_rgbnt201.py'))
    assert cfg.model.backbone.pretrained  # a weight file that is not needed
    result = model_complexity(cfg.model)
    assert result.input_shape == (1, 3, 3, 256, 128)
    feat = 3 * 512  # concatenated projected CLS tokens
    head = 2 * feat + feat * 171  # BNNeck (bias frozen) + classifier
    assert result.params == vit_b16_params(16 * 8 + 1) + head
    assert result.learnable_params == result.params - feat
    numbers = result.to_dict()
    assert numbers['learnable_params_m'] == pytest.approx(86.4046, abs=1e-4)
    # three passes of the shared encoder at 256x128 (16x8 grid)
    assert result.attention_flops == 3 * attention_macs(1, 12, 129, 64, 12)


def test_disable_pretrained_and_input_shape():
    cfg = dict(
        backbone=dict(pretrained='a.pt', img_size=(256, 128)),
        text_encoder=dict(pretrained='b.pt'),
        necks=[dict(init_cfg=dict(type='Pretrained', checkpoint='c.pth'))])
    clean = disable_pretrained(cfg)
    assert clean['backbone']['pretrained'] is None
    assert clean['text_encoder']['pretrained'] is None
    assert clean['necks'][0]['init_cfg'] is None
    assert cfg['backbone']['pretrained'] == 'a.pt'  # input untouched
    assert model_input_shape(clean) == (1, 3, 3, 256, 128)
    assert model_input_shape(clean, (128, 256)) == (1, 3, 3, 128, 256)
    with pytest.raises(ValueError, match='--shape'):
        model_input_shape(dict(backbone=dict()))
    samples = make_data_samples(2, ('rgb', 'tir'), caption='a car.')
    assert samples[1].metainfo['captions'] == {
        'rgb': 'a car.',
        'tir': 'a car.'
    }
    assert samples[0].metainfo['missing_modalities'] == ()


def test_get_flops_cli_json_last_line(capsys):
    sys.path.insert(0, osp.join(REPO_ROOT, 'tools', 'analysis_tools'))
    try:
        import get_flops
    finally:
        sys.path.pop(0)
    config = osp.join(REPO_ROOT, 'configs', 'demo',
                      'clip_tiny_synthetic_rgbnt201.py')
    get_flops.main([
        config, '--json', '--shape', '32', '16', '--cfg-options',
        'model.head.num_classes=7'
    ])
    lines = capsys.readouterr().out.strip().splitlines()
    numbers = json.loads(lines[-1])
    assert set(numbers) == {
        'params_m', 'learnable_params_m', 'gflops', 'gflops_full'
    }
    assert numbers['gflops_full'] > numbers['gflops'] > 0
    assert any('32x16' in line for line in lines)
    # demo: tiny ViT (4 blocks, width 128) + BNNeck with 7 classes
    cfg = Config.fromfile(config)
    cfg.model.head.num_classes = 7
    direct = model_complexity(cfg.model, shape=(32, 16)).to_dict()
    assert numbers == direct
