# Copyright (c) mmreid_text contributors. All rights reserved.
import copy

import open_clip
import pytest
import torch
from torch import nn

from mmreid_text.models.utils import (RESNET_STEM_NAMES, build_clip_text_tower,
                                      build_clip_vision_tower,
                                      get_clip_arch_config,
                                      get_residual_blocks, is_resnet_arch,
                                      resnet_feature_grid, resnet_stem,
                                      set_resnet_last_stride, tiny_clip_arch)
from mmreid_text.models.utils.clip_arch import list_local_clip_archs


def test_arch_config_by_name_and_dict():
    cfg = get_clip_arch_config('ViT-B-16')
    assert cfg['embed_dim'] == 512
    assert cfg['vision_cfg']['patch_size'] == 16
    assert not is_resnet_arch(cfg)
    assert is_resnet_arch(get_clip_arch_config('RN50'))
    arch = tiny_clip_arch()
    cfg = get_clip_arch_config(arch)
    cfg['vision_cfg']['width'] = 1
    assert arch['vision_cfg']['width'] == 128  # a copy, not the input


def test_shipped_tiny_archs_are_found_by_name():
    assert list_local_clip_archs() == ['clip-tiny', 'clip-tiny-rn']
    vit = get_clip_arch_config('clip-tiny')
    assert vit == dict(
        embed_dim=128,
        vision_cfg=dict(
            image_size=64, layers=4, width=128, head_width=64, patch_size=8),
        text_cfg=dict(
            context_length=77, vocab_size=49408, width=128, heads=2, layers=2))
    assert tiny_clip_arch() == vit
    resnet = get_clip_arch_config('clip-tiny-rn')
    assert tiny_clip_arch('resnet') == resnet and is_resnet_arch(resnet)
    # the ResNet twin differs in the vision tower only
    assert resnet['text_cfg'] == vit['text_cfg']
    assert resnet['embed_dim'] == vit['embed_dim']
    # a fresh copy every time
    tiny_clip_arch()['text_cfg']['width'] = 1
    assert get_clip_arch_config('clip-tiny')['text_cfg']['width'] == 128
    with pytest.raises(KeyError, match='clip-tiny-rn'):
        get_clip_arch_config('clip-tiny-typo')


def test_arch_config_errors():
    with pytest.raises(KeyError, match='open_clip.list_models'):
        get_clip_arch_config('ViT-Q-99')
    with pytest.raises(ValueError, match='hub'):
        get_clip_arch_config('hf-hub:org/model')
    with pytest.raises(KeyError, match='embed_dim'):
        get_clip_arch_config({'vision_cfg': {}})
    with pytest.raises(TypeError):
        get_clip_arch_config(3)


def test_vision_tower_size_checks():
    with pytest.raises(ValueError, match='multiple of the patch size'):
        build_clip_vision_tower(tiny_clip_arch(), (250, 128), False)
    arch = tiny_clip_arch()
    arch['vision_cfg']['attentional_pool'] = True
    with pytest.raises(ValueError, match='attentional_pool'):
        build_clip_vision_tower(arch, (64, 64), False)
    arch = tiny_clip_arch()
    arch['text_cfg']['pool_type'] = 'last'
    with pytest.raises(ValueError, match='pool_type'):
        build_clip_text_tower(arch, False)


def test_residual_blocks():
    arch = tiny_clip_arch()
    vit = build_clip_vision_tower(arch, (64, 32), False)
    blocks = get_residual_blocks(vit)
    assert len(blocks) == 4 and blocks[0] is vit.transformer.resblocks[0]
    text = build_clip_text_tower(arch, False)
    assert len(get_residual_blocks(text)) == 2
    assert len(get_residual_blocks(text.transformer)) == 2
    resnet = build_clip_vision_tower(
        get_clip_arch_config('RN50'), (224, 224), False)
    blocks = get_residual_blocks(resnet)
    assert len(blocks) == 3 + 4 + 6 + 3
    assert blocks[-1] is resnet.layer4[-1]
    with pytest.raises(TypeError, match='get_residual_blocks'):
        get_residual_blocks(nn.Linear(2, 2))


def test_resnet_stem_is_a_unit_with_three_relus():
    torch.manual_seed(0)
    tower = build_clip_vision_tower(tiny_clip_arch('resnet'), (64, 64), False)
    tower.eval()
    stem = resnet_stem(tower)
    assert tuple(name for name, _ in stem.named_children()) == \
        RESNET_STEM_NAMES
    assert sum(isinstance(m, nn.ReLU) for m in stem) == 3
    images = torch.randn(2, 3, 64, 32)
    torch.testing.assert_close(stem(images), tower.stem(images))
    # stem weights load by the tower's own key names
    own_stem = copy.deepcopy(stem)
    stem_keys = {
        k
        for k in tower.state_dict() if k.split('.')[0] in RESNET_STEM_NAMES
    }
    assert set(own_stem.state_dict()) == stem_keys
    nn.init.zeros_(own_stem.conv1.weight)
    assert tower.conv1.weight.abs().sum() > 0  # copies are independent
    with pytest.raises(TypeError):
        resnet_stem(nn.Linear(2, 2))


@pytest.mark.parametrize('img_size', [(288, 144), (256, 128), (64, 64)])
@pytest.mark.parametrize('last_stride', [1, 2])
def test_resnet_last_stride_and_grid(img_size, last_stride):
    tower = build_clip_vision_tower(tiny_clip_arch('resnet'), img_size, False)
    names_before = list(tower.state_dict())
    set_resnet_last_stride(tower, last_stride)
    assert list(tower.state_dict()) == names_before
    feature_map = tower.layer4(
        tower.layer3(
            tower.layer2(
                tower.layer1(tower.stem(torch.randn(1, 3, *img_size))))))
    assert tuple(feature_map.shape[-2:]) == resnet_feature_grid(
        img_size, last_stride)
    expected = {
        ((288, 144), 1): (18, 9),
        ((288, 144), 2): (9, 4),
        ((256, 128), 1): (16, 8),
        ((256, 128), 2): (8, 4),
        ((64, 64), 1): (4, 4),
        ((64, 64), 2): (2, 2),
    }[(img_size, last_stride)]
    assert resnet_feature_grid(img_size, last_stride) == expected
    with pytest.raises(ValueError):
        set_resnet_last_stride(tower, 3)


def test_tiny_arch_builds_an_open_clip_model():
    for vision in ('vit', 'resnet'):
        model = open_clip.model.CLIP(**tiny_clip_arch(vision))
        assert model.visual.output_dim == 128
    with pytest.raises(ValueError):
        tiny_clip_arch('swin')
