# Copyright (c) mmreid_text contributors. All rights reserved.
"""FLOPs per frame of video (tracklet) models: whole tracklet / T.

A tiny video model is built from existing components (clip-tiny backbone,
BNNeck head) plus a test neck that averages the frames, as VLD's temporal
pooling does.
"""
import json
import os.path as osp
import sys

import pytest
import torch
from torch import nn

from mmreid_text.analysis import (count_flops, find_num_frames,
                                  model_complexity, model_input_shape,
                                  sample_modalities)
from mmreid_text.models.utils import tiny_clip_arch
from mmreid_text.registry import MODELS
from mmreid_text.utils import register_all_modules

register_all_modules()
REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
T = 4


@MODELS.register_module(name='_ComplexityTestTemporalMean')
class TemporalMean(nn.Module):
    """Averages ``proj_cls`` over the frame axis: ``[B, M, T, E]`` ->
    ``[B, M, E]`` (images ``[B, M, E]`` pass through)."""

    def __init__(self, num_frames=None) -> None:
        super().__init__()
        self.num_frames = num_frames

    def forward(self, feats, data_samples):
        feats = dict(feats)
        if feats['proj_cls'].dim() == 4:
            if self.num_frames is not None:
                assert feats['proj_cls'].shape[2] == self.num_frames
            feats['proj_cls'] = feats['proj_cls'].mean(dim=2)
        return feats


def video_model_cfg(num_frames=None, modalities=('vis', 'ir')):
    return dict(
        type='ReIDModel',
        backbone=dict(
            type='CLIPVisionBackbone',
            arch=tiny_clip_arch('vit'),
            img_size=(64, 32),
            pretrained='no/such/file.pt',
            modalities=modalities),
        necks=[
            dict(type='_ComplexityTestTemporalMean', num_frames=num_frames)
        ],
        head=dict(
            type='BNNeckHead',
            in_key='proj_cls',
            in_channels=128,
            num_modalities=1,
            num_classes=5))


class ProjCls(nn.Module):
    """Backbone only, ``proj_cls`` as the traced output."""

    def __init__(self, backbone):
        super().__init__()
        self.backbone = backbone

    def forward(self, inputs):
        return self.backbone(inputs)['proj_cls']


def test_per_frame_flops_are_the_tracklet_total_over_t():
    cfg = video_model_cfg()
    assert sample_modalities(cfg) == ('vis', )  # one VI slot per sample
    video = model_complexity(cfg, num_frames=T)
    assert video.input_shape == (1, 1, T, 3, 64, 32)
    assert video.num_frames == T
    assert video.flops_per_frame * T == video.flops
    assert video.flops_full_per_frame * T == video.flops_full
    numbers = video.to_dict()
    assert numbers['num_frames'] == T
    assert numbers['gflops_per_frame'] == round(video.flops / T / 1e9, 4)

    # the backbone runs once per frame: T times the cost of one image
    backbone = ProjCls(MODELS.build(dict(cfg['backbone'], pretrained=None)))
    frame = count_flops(backbone, torch.randn(1, 1, 3, 64, 32))
    tracklet = count_flops(backbone, torch.randn(1, 1, T, 3, 64, 32))
    assert frame.num_frames is None and frame.flops_per_frame is None
    assert tracklet.num_frames == T  # from the [B, M, T, 3, H, W] shape
    assert tracklet.flops == T * frame.flops > 0
    assert tracklet.attention_flops == T * frame.attention_flops > 0
    # the same model on one image: the head once, the backbone once
    image = model_complexity(cfg)
    assert image.input_shape == (1, 1, 3, 64, 32)
    assert image.num_frames is None
    assert video.flops == image.flops + (T - 1) * frame.flops
    assert video.params == image.params


def test_num_frames_from_the_config_and_shapes():
    cfg = video_model_cfg(num_frames=3)
    assert find_num_frames(cfg) == 3
    assert model_input_shape(cfg) == (1, 1, 3, 3, 64, 32)
    assert model_complexity(cfg).num_frames == 3
    with pytest.raises(ValueError, match='num_frames=3; counting with 5'):
        model_input_shape(cfg, num_frames=5)
    cfg['backbone']['num_frames'] = 6
    with pytest.raises(ValueError, match='num_frames differs'):
        find_num_frames(cfg)
    # image configs are unchanged
    image = video_model_cfg(modalities=('rgb', 'nir', 'tir'))
    assert find_num_frames(image) is None
    assert model_input_shape(image) == (1, 3, 3, 64, 32)
    assert model_input_shape(image, modalities=('rgb', )) == (1, 1, 3, 64, 32)


def test_get_flops_cli_reports_per_frame(tmp_path, capsys):
    sys.path.insert(0, osp.join(REPO_ROOT, 'tools', 'analysis_tools'))
    try:
        import get_flops
    finally:
        sys.path.pop(0)
    config = tmp_path / 'tiny_video.py'
    model = video_model_cfg()
    config.write_text(
        f'model = {model!r}\n'
        'test_dataloader = dict(dataset=dict(pipeline=[\n'
        f"    dict(type='SampleFrames', num_frames={T}, mode='uniform'),\n"
        "    dict(type='PackReIDInputs', video=True)]))\n")
    numbers = get_flops.main([str(config), '--json'])
    lines = capsys.readouterr().out.strip().splitlines()
    assert json.loads(lines[-1]) == numbers
    direct = model_complexity(model, num_frames=T).to_dict()
    assert numbers == direct
    assert set(numbers) == {
        'params_m', 'learnable_params_m', 'gflops', 'gflops_full',
        'num_frames', 'gflops_per_frame', 'gflops_full_per_frame'
    }
    text = '\n'.join(lines)
    assert f'1x1x{T}x3x64x32 (B x M x T x 3 x H x W: one vis tracklet' in text
    assert (f'per frame (whole tracklet / T={T}, as the VLD paper reports'
            in text)
    assert 'GFLOPs per tracklet' in text
    # the model and the pipeline must agree on T
    config.write_text(f'model = {video_model_cfg(num_frames=T + 1)!r}\n'
                      'test_dataloader = dict(dataset=dict(pipeline=[\n'
                      f"    dict(type='SampleFrames', num_frames={T})]))\n")
    with pytest.raises(SystemExit, match='one config value'):
        get_flops.main([str(config)])
