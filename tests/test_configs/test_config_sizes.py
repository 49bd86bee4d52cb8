# Copyright (c) mmreid_text contributors. All rights reserved.
"""Every config: pipeline output size == backbone img_size, num_patches ==
backbone grid.

The sizes are measured, not read: both pipelines of the config run on a
dummy image of an odd size written to disk (so the loading transform runs
too), and the packed ``inputs`` tensor gives ``(H, W)``. The backbone grid
comes from the arch config (ViT: ``H / patch x W / patch``; ModifiedResNet:
:func:`resnet_feature_grid`), without building the backbone.
"""
import glob
import os.path as osp
from typing import List, Tuple

import numpy as np
import pytest
from mmengine.dataset import Compose
from PIL import Image

from mmreid_text.models.utils import (get_clip_arch_config, is_resnet_arch,
                                      resnet_feature_grid)
from mmreid_text.registry import DATASETS
from mmreid_text.utils import register_all_modules
from mmreid_text.utils.config import load_config

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = sorted(
    p for p in glob.glob(
        osp.join(REPO, 'configs', '**', '*.py'), recursive=True)
    if '_base_' not in p) + sorted(
        glob.glob(osp.join(REPO, 'tests', 'data', 'configs', '*.py')))
#: (H, W) of the dummy input: no config uses it, so a pipeline that does
#: not resize is caught.
DUMMY_SIZE = (97, 45)

register_all_modules()


def pipeline_output_size(pipeline: List[dict], modalities: Tuple[str, ...],
                         tmp_dir: str) -> Tuple[int, int]:
    """Run ``pipeline`` on a dummy sample; ``(H, W)`` of its ``inputs``."""
    load = next((t for t in pipeline if t['type'] == 'LoadMultiModalImages'),
                {})
    tiles = load.get('tiles') or 1
    path = osp.join(tmp_dir, f'dummy_{tiles}.png')
    height, width = DUMMY_SIZE
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 255, (height, width * tiles, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path)
    sample = dict(
        img_path={m: path
                  for m in modalities},
        modalities=modalities,
        pid=0,
        camid=0,
        scene_id=-1,
        is_query=True,
        is_gallery=True,
        sample_idx=0)
    # captions do not change sizes (and need caption files)
    pipeline = [t for t in pipeline if t['type'] != 'LoadCaptions']
    packed = Compose(pipeline)(sample)
    return tuple(int(s) for s in packed['inputs'].shape[-2:])


def backbone_grid(backbone: dict) -> Tuple[int, int]:
    """``(h, w)`` feature grid of a CLIPVisionBackbone config."""
    arch = get_clip_arch_config(backbone['arch'])
    height, width = backbone['img_size']
    if is_resnet_arch(arch):
        stride = backbone.get('last_stride')
        return resnet_feature_grid((height, width),
                                   2 if stride is None else stride)
    patch = arch['vision_cfg'].get('patch_size', 16)
    return height // patch, width // patch


def find_key(node, key: str, where: str = 'model'):
    """``(dotted path, value)`` of every ``key`` inside a nested config."""
    if isinstance(node, dict):
        for k, v in node.items():
            if k == key:
                yield f'{where}.{k}', v
            yield from find_key(v, key, f'{where}.{k}')
    elif isinstance(node, (list, tuple)):
        for i, v in enumerate(node):
            yield from find_key(v, key, f'{where}[{i}]')


def size_problems(cfg, tmp_dir: str) -> List[str]:
    """Every disagreement between pipelines, backbone and num_patches."""
    model = cfg.model.to_dict()
    backbone = model['backbone']
    problems = []
    if 'img_size' not in backbone:
        return [
            'model.backbone has no img_size; set it from the dataset '
            "config's img_size (img_size=_base_.img_size)"
        ]
    img_size = backbone['img_size']
    img_size = (img_size,
                img_size) if isinstance(img_size, int) else tuple(img_size)
    backbone['img_size'] = img_size
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        dataset = cfg[loader]['dataset']
        modalities = tuple(
            DATASETS.get(dataset['type']).METAINFO['modalities'])
        size = pipeline_output_size(dataset['pipeline'], modalities, tmp_dir)
        if size != img_size:
            problems.append(f'{loader} pipeline outputs {size} but '
                            f'model.backbone.img_size is {img_size}')
    if 'img_size' in cfg and tuple(cfg.img_size) != img_size:
        problems.append(f'img_size is {tuple(cfg.img_size)} but '
                        f'model.backbone.img_size is {img_size}')
    grid_h, grid_w = backbone_grid(backbone)
    for where, value in find_key(model, 'num_patches'):
        if value != grid_h * grid_w:
            problems.append(f'{where}={value} but the backbone grid at '
                            f'{img_size} is {grid_h}x{grid_w} = '
                            f'{grid_h * grid_w}')
    return problems


@pytest.mark.parametrize(
    'path', CONFIGS, ids=[osp.relpath(p, REPO) for p in CONFIGS])
def test_pipelines_backbone_and_num_patches_agree(path, tmp_path):
    problems = size_problems(load_config(path), str(tmp_path))
    assert not problems, f'{osp.relpath(path, REPO)}: ' + '; '.join(problems)


def test_every_deep_config_sizes_its_sse():
    """The check above is not vacuous: SSE configs do carry num_patches."""
    with_sse = []
    for path in CONFIGS:
        necks = load_config(path).model.get('necks') or []
        sse = [n for n in necks if n.type == 'SpectralSemanticEmbedding']
        if sse:
            with_sse.append(path)
            assert all('num_patches' in n
                       for n in sse), (f'{path}: no SSE num_patches')
    assert len(with_sse) > 10


def _write(path, text):
    with open(path, 'w') as f:
        f.write(text)
    return str(path)


def test_child_changing_img_size_without_pipelines_is_caught(tmp_path):
    # Only the backbone follows the new size: the inherited pipelines were
    # computed from the base's img_size and still output 256x128.
    base = osp.join(REPO, 'configs', 'deep', 'deep_vitb16_rgbnt201.py')
    child = _write(
        tmp_path / 'child.py', f'_base_ = [{base!r}]\n'
        'img_size = (384, 192)\n'
        'model = dict(backbone=dict(img_size=img_size))\n')
    problems = size_problems(load_config(child), str(tmp_path))
    text = '; '.join(problems)
    assert 'train_dataloader pipeline outputs (256, 128)' in text
    assert 'test_dataloader pipeline outputs (256, 128)' in text
    # ... and SSE still expects 16x8 = 128 patches instead of 24x12 = 288
    assert 'num_patches=128 but the backbone grid at (384, 192) is 24x12' \
        in text


def test_stale_num_patches_and_unresized_pipeline_are_caught(tmp_path):
    base = osp.join(REPO, 'configs', 'deep', 'deep_tiny_synthetic_rgbnt201.py')
    child = _write(
        tmp_path / 'child.py', f'_base_ = [{base!r}]\n'
        'model = dict(necks=[*_base_.model.necks[:2],\n'
        '    dict(_base_.model.necks[2], num_patches=33)])\n'
        'test_pipeline = [dict(type="LoadMultiModalImages"),\n'
        '    dict(type="PackReIDInputs")]\n'
        'test_dataloader = dict(dataset=dict(pipeline=test_pipeline))\n')
    problems = size_problems(load_config(child), str(tmp_path))
    assert problems == [
        f'test_dataloader pipeline outputs {DUMMY_SIZE} but '
        'model.backbone.img_size is (64, 32)',
        'model.necks[2].num_patches=33 but the backbone grid at (64, 32) is '
        '8x4 = 32'
    ]


def test_resnet_grid():
    backbone = dict(arch='RN50', img_size=(256, 128))
    assert backbone_grid(backbone) == (8, 4)
    assert backbone_grid(dict(backbone, last_stride=1)) == (16, 8)
    assert backbone_grid(dict(arch='clip-tiny', img_size=(64, 32))) == (8, 4)
