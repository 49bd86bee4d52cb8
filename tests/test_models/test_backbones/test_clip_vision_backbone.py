# Copyright (c) mmreid_text contributors. All rights reserved.
import copy

import open_clip
import pytest
import torch
from open_clip.transformer import QuickGELU
from safetensors.torch import save_file
from torch import nn

from mmreid_text.models.backbones import CLIPVisionBackbone
from mmreid_text.models.utils import (CLIPCheckpointMismatchError,
                                      clear_clip_checkpoint_cache,
                                      interpolate_pos_embed, tiny_clip_arch)
from mmreid_text.registry import MODELS


@pytest.fixture(autouse=True)
def _fresh_cache():
    clear_clip_checkpoint_cache()
    yield
    clear_clip_checkpoint_cache()


def _tiny_clip(vision='vit', quick_gelu=False, seed=0):
    torch.manual_seed(seed)
    model = open_clip.model.CLIP(
        **tiny_clip_arch(vision), quick_gelu=quick_gelu)
    for module in model.modules():  # open_clip zero-inits bn3 of blocks
        if isinstance(module, nn.BatchNorm2d):
            nn.init.uniform_(module.weight, 0.5, 1.5)
            nn.init.normal_(module.bias, std=0.1)
            module.running_mean.normal_(std=0.1)
            module.running_var.uniform_(0.5, 1.5)
    return model.eval()


def _save_safetensors(model, path):
    save_file({
        k: v.contiguous()
        for k, v in model.state_dict().items()
    }, str(path))
    return str(path)


def _save_openai_style(model, path):
    state_dict = dict(
        model.state_dict(),
        input_resolution=torch.tensor(64),
        context_length=torch.tensor(77),
        vocab_size=torch.tensor(49408))
    torch.save(
        {
            k: v.half() if v.is_floating_point() else v
            for k, v in state_dict.items()
        }, path)
    return str(path)


# clip-tiny: width 128, embed_dim 128, patch 8
@pytest.mark.parametrize('img_size,grid', [((128, 64), (16, 8)),
                                           ((64, 128), (8, 16)),
                                           ((144, 72), (18, 9))])
def test_vit_shapes_and_grids(img_size, grid):
    backbone = CLIPVisionBackbone(arch=tiny_clip_arch(), img_size=img_size)
    feats = backbone(torch.randn(2, 3, 3, *img_size))
    num_tokens = grid[0] * grid[1]
    assert feats['grid'] == grid == backbone.grid
    assert feats['cls'].shape == (2, 3, 128)
    assert feats['tokens'].shape == (2, 3, num_tokens, 128)
    assert feats['proj_cls'].shape == (2, 3, 128)
    assert feats['proj_tokens'].shape == (2, 3, num_tokens, 128)
    assert (backbone.width, backbone.embed_dim) == (128, 128)
    encoder = backbone.encoder
    assert encoder.positional_embedding.shape == (1 + num_tokens, 128)
    torch.testing.assert_close(feats['proj_tokens'],
                               feats['tokens'] @ encoder.proj)


def test_vit_matches_open_clip_at_checkpoint_size(tmp_path):
    reference = _tiny_clip()
    path = _save_safetensors(reference, tmp_path / 'clip.safetensors')
    backbone = CLIPVisionBackbone(
        arch=tiny_clip_arch(),
        img_size=(64, 64),
        pretrained=path,
        modalities=('rgb', )).eval()
    assert backbone.quick_gelu is False
    images = torch.randn(3, 3, 64, 64)
    feats = backbone(images[:, None])
    with torch.no_grad():
        expected = reference.encode_image(images)
        reference.visual.output_tokens = True
        _, expected_tokens = reference.visual(images)
    torch.testing.assert_close(feats['proj_cls'][:, 0], expected)
    torch.testing.assert_close(feats['tokens'][:, 0], expected_tokens)


def test_openai_weights_select_quick_gelu(tmp_path):
    reference = _tiny_clip(quick_gelu=True)
    # the file holds fp16 weights, as OpenAI's; compare to the same values
    reference = reference.half().float()
    path = _save_openai_style(reference, tmp_path / 'openai.pt')
    backbone = CLIPVisionBackbone(
        arch=tiny_clip_arch(),
        img_size=64,
        pretrained=path,
        modalities=('rgb', )).eval()
    assert backbone.quick_gelu is True
    gelu = backbone.encoder.transformer.resblocks[0].mlp.gelu
    assert isinstance(gelu, QuickGELU)
    images = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        expected = reference.encode_image(images)
    torch.testing.assert_close(
        backbone(images[:, None])['proj_cls'][:, 0], expected)
    forced = CLIPVisionBackbone(
        arch=tiny_clip_arch(),
        img_size=64,
        pretrained=path,
        quick_gelu=False,
        modalities=('rgb', ))
    assert not isinstance(forced.encoder.transformer.resblocks[0].mlp.gelu,
                          QuickGELU)


def test_pretrained_pos_embed_is_resized_to_reid_grid(tmp_path):
    reference = _tiny_clip()
    path = tmp_path / 'clip.pt'
    torch.save(reference.state_dict(), path)
    backbone = CLIPVisionBackbone(
        arch=tiny_clip_arch(), img_size=(128, 64), pretrained=str(path))
    source = reference.visual.positional_embedding.detach()  # 8x8 grid
    loaded = backbone.encoder.positional_embedding.detach()
    assert loaded.shape == (1 + 16 * 8, 128)
    assert torch.equal(loaded[0], source[0])
    torch.testing.assert_close(loaded, interpolate_pos_embed(source, (16, 8)))
    for key, value in reference.visual.state_dict().items():
        if key != 'positional_embedding':
            assert torch.equal(backbone.encoder.state_dict()[key], value)


def test_non_square_pretrained_grid(tmp_path):
    reference = _tiny_clip()
    state_dict = reference.state_dict()
    reid_pos = torch.randn(1 + 16 * 8, 128)
    state_dict['visual.positional_embedding'] = reid_pos
    path = tmp_path / 'reid_16x8.pt'
    torch.save(state_dict, path)
    inferred = CLIPVisionBackbone(
        arch=tiny_clip_arch(), img_size=(144, 72), pretrained=str(path))
    torch.testing.assert_close(
        inferred.encoder.positional_embedding.detach(),
        interpolate_pos_embed(reid_pos, (18, 9), old_grid=(16, 8)))
    # same count, other layout: only an explicit grid can tell
    transposed = CLIPVisionBackbone(
        arch=tiny_clip_arch(),
        img_size=(64, 128),
        pretrained=str(path),
        pretrained_grid=(16, 8))
    torch.testing.assert_close(
        transposed.encoder.positional_embedding.detach(),
        interpolate_pos_embed(reid_pos, (8, 16), old_grid=(16, 8)))
    same = CLIPVisionBackbone(
        arch=tiny_clip_arch(), img_size=(128, 64), pretrained=str(path))
    assert torch.equal(same.encoder.positional_embedding.detach(), reid_pos)


def test_resnet_last_stride_one(tmp_path):
    backbone = CLIPVisionBackbone(
        arch=tiny_clip_arch('resnet'),
        img_size=(288, 144),
        last_stride=1,
        modalities=('vis', 'ir'))
    feats = backbone(torch.randn(2, 2, 3, 288, 144))
    assert feats['grid'] == (18, 9)
    assert feats['feature_map'].shape == (2, 2, 512, 18, 9)
    assert feats['tokens'].shape == (2, 2, 162, 512)
    assert feats['cls'].shape == (2, 2, 512)
    torch.testing.assert_close(feats['cls'],
                               feats['feature_map'].mean(dim=(-2, -1)))
    assert feats['proj_cls'].shape == (2, 2, 128)
    attnpool_pos = backbone.encoder.attnpool.positional_embedding
    assert attnpool_pos.shape == (1 + 162, 512)
    stride_two = CLIPVisionBackbone(
        arch=tiny_clip_arch('resnet'), img_size=(288, 144))
    assert stride_two.grid == (9, 4)
    assert stride_two(torch.randn(1, 3, 3, 288, 144))['feature_map'].shape \
        == (1, 3, 512, 9, 4)
    assert len(backbone.get_blocks()) == 4
    stem = backbone.get_stem()
    assert sum(isinstance(m, nn.ReLU) for m in stem) == 3
    assert stem.conv1 is backbone.encoder.conv1
    with pytest.raises(TypeError, match='ModifiedResNet'):
        CLIPVisionBackbone(arch=tiny_clip_arch(), img_size=64).get_stem()


def test_resnet_matches_open_clip_and_loads_attnpool(tmp_path):
    reference = _tiny_clip('resnet')
    path = tmp_path / 'rn.pt'
    torch.save(reference.state_dict(), path)
    native = CLIPVisionBackbone(
        arch=tiny_clip_arch('resnet'),
        img_size=64,
        pretrained=str(path),
        modalities=('rgb', )).eval()
    images = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        expected = reference.encode_image(images)
    torch.testing.assert_close(
        native(images[:, None])['proj_cls'][:, 0], expected)
    reid = CLIPVisionBackbone(
        arch=tiny_clip_arch('resnet'),
        img_size=(288, 144),
        last_stride=1,
        pretrained=str(path))
    source = reference.visual.attnpool.positional_embedding.detach()
    torch.testing.assert_close(
        reid.encoder.attnpool.positional_embedding.detach(),
        interpolate_pos_embed(source, (18, 9), old_grid=(2, 2)))
    assert torch.equal(reid.encoder.layer4[0].conv1.weight,
                       reference.visual.layer4[0].conv1.weight)


def test_shared_and_separate_branches(tmp_path):
    path = _save_safetensors(_tiny_clip(), tmp_path / 'clip.safetensors')
    shared = CLIPVisionBackbone(
        arch=tiny_clip_arch(), img_size=(64, 32), pretrained=path)
    separate = CLIPVisionBackbone(
        arch=tiny_clip_arch(),
        img_size=(64, 32),
        pretrained=path,
        share_weights=False)
    count = sum(p.numel() for p in shared.parameters())
    assert sum(p.numel() for p in separate.parameters()) == 3 * count
    encoders = [separate.get_encoder(m) for m in ('rgb', 'nir', 'tir')]
    assert len({id(e) for e in encoders}) == 3
    for encoder in encoders:
        for key, value in shared.encoder.state_dict().items():
            assert torch.equal(encoder.state_dict()[key], value)
    images = torch.randn(2, 3, 3, 64, 32)
    shared.eval()
    separate.eval()
    torch.testing.assert_close(
        separate(images)['proj_cls'],
        shared(images)['proj_cls'])
    # branches are independent: changing NIR's encoder only changes slot 1
    with torch.no_grad():
        separate.get_encoder('nir').proj.mul_(2)
    out = separate(images)['proj_cls']
    reference = shared(images)['proj_cls']
    torch.testing.assert_close(out[:, 0], reference[:, 0])
    torch.testing.assert_close(out[:, 1], 2 * reference[:, 1])
    torch.testing.assert_close(out[:, 2], reference[:, 2])
    # slot names choose the branch
    only_tir = separate(images[:, 2:], modalities=('tir', ))['proj_cls']
    torch.testing.assert_close(only_tir[:, 0], reference[:, 2])
    with pytest.raises(ValueError, match='modalities='):
        separate(images[:, :2])
    with pytest.raises(ValueError, match='Unknown modalities'):
        separate(images[:, :1], modalities=('depth', ))
    assert shared(images[:, :1])['proj_cls'].shape == (2, 1, 128)


def test_video_input_keeps_time_axis():
    backbone = CLIPVisionBackbone(
        arch=tiny_clip_arch(),
        img_size=(64, 32),
        modalities=('vis', 'ir'),
        out_layers=(0, )).eval()
    clips = torch.randn(2, 2, 4, 3, 64, 32)
    feats = backbone(clips)
    assert feats['cls'].shape == (2, 2, 4, 128)
    assert feats['tokens'].shape == (2, 2, 4, 32, 128)  # 8x4 patches
    assert feats['proj_cls'].shape == (2, 2, 4, 128)
    assert feats['proj_tokens'].shape == (2, 2, 4, 32, 128)
    assert feats['layer0_cls'].shape == (2, 2, 4, 128)
    frame = backbone(clips[:, :, 3])
    torch.testing.assert_close(feats['proj_cls'][:, :, 3], frame['proj_cls'])
    separate = CLIPVisionBackbone(
        arch=tiny_clip_arch('resnet'),
        img_size=(64, 32),
        modalities=('vis', 'ir'),
        share_weights=False)
    feats = separate(clips)
    assert feats['feature_map'].shape == (2, 2, 4, 512, 2, 1)


def test_out_layers_return_block_cls():
    backbone = CLIPVisionBackbone(
        arch=tiny_clip_arch(),
        img_size=(64, 32),
        out_layers=(-1, 1),
        modalities=('rgb', )).eval()
    assert backbone.out_layers == (1, 3)  # 4 blocks
    captured = {}
    for index, block in enumerate(backbone.get_blocks()):
        block.register_forward_hook(lambda m, args, out, index=index: captured.
                                    __setitem__(index, out[:, 0]))
    feats = backbone(torch.randn(2, 1, 3, 64, 32))
    assert not any(key.startswith(('layer0', 'layer2')) for key in feats)
    for index in (1, 3):
        torch.testing.assert_close(feats[f'layer{index}_cls'][:, 0],
                                   captured[index])
    # the last block's CLS after ln_post is 'cls'
    torch.testing.assert_close(feats['cls'][:, 0],
                               backbone.encoder.ln_post(captured[3]))
    with pytest.raises(ValueError, match='out of range'):
        CLIPVisionBackbone(
            arch=tiny_clip_arch(), img_size=64, out_layers=(4, ))
    with pytest.raises(ValueError, match='only supported for ViT'):
        CLIPVisionBackbone(
            arch=tiny_clip_arch('resnet'), img_size=64, out_layers=(1, ))


def test_frozen_backbone_stays_in_eval():
    backbone = CLIPVisionBackbone(
        arch=tiny_clip_arch(), img_size=(64, 32), frozen=True)
    assert not any(p.requires_grad for p in backbone.parameters())
    backbone.train()
    assert not any(m.training for m in backbone.modules())
    trainable = CLIPVisionBackbone(arch=tiny_clip_arch(), img_size=(64, 32))
    trainable.train()
    assert all(p.requires_grad for p in trainable.parameters())
    assert all(m.training for m in trainable.modules())


def test_gradient_checkpointing_gives_same_result():
    torch.manual_seed(0)
    plain = CLIPVisionBackbone(arch=tiny_clip_arch(), img_size=(64, 32))
    checkpointed = copy.deepcopy(plain)
    checkpointed.with_cp = True
    images = torch.randn(2, 3, 3, 64, 32)
    for model in (plain, checkpointed):
        model.train()
        model(images)['proj_cls'].sum().backward()
    torch.testing.assert_close(checkpointed.encoder.conv1.weight.grad,
                               plain.encoder.conv1.weight.grad)


def test_input_and_argument_errors(tmp_path):
    backbone = CLIPVisionBackbone(arch=tiny_clip_arch(), img_size=(64, 32))
    with pytest.raises(ValueError, match='img_size'):
        backbone(torch.randn(1, 3, 3, 64, 64))
    with pytest.raises(ValueError, match=r'\[B, M, 3, H, W\]'):
        backbone(torch.randn(3, 3, 64, 32))
    with pytest.raises(ValueError, match='last_stride'):
        CLIPVisionBackbone(arch=tiny_clip_arch(), img_size=64, last_stride=1)
    with pytest.raises(ValueError, match='unique'):
        CLIPVisionBackbone(
            arch=tiny_clip_arch(), img_size=64, modalities=('a', 'a'))
    with pytest.raises(FileNotFoundError, match='get_started'):
        CLIPVisionBackbone(
            arch=tiny_clip_arch(),
            img_size=64,
            pretrained=str(tmp_path / 'missing.pt'))


def test_wrong_architecture_lists_keys(tmp_path):
    path = tmp_path / 'rn.pt'
    torch.save(_tiny_clip('resnet').state_dict(), path)
    with pytest.raises(CLIPCheckpointMismatchError) as error:
        CLIPVisionBackbone(
            arch=tiny_clip_arch(), img_size=64, pretrained=str(path))
    message = str(error.value)
    assert str(path) in message
    assert 'missing keys:' in message and 'class_embedding' in message
    assert 'unexpected keys:' in message and 'layer1.0.conv1.weight' in message
    wider = tiny_clip_arch()
    wider['vision_cfg']['width'] = 256
    vit_path = tmp_path / 'vit.pt'
    torch.save(_tiny_clip().state_dict(), vit_path)
    with pytest.raises(CLIPCheckpointMismatchError, match='shape mismatches'):
        CLIPVisionBackbone(arch=wider, img_size=64, pretrained=str(vit_path))
    text_only = tmp_path / 'text_only.pt'
    torch.save({'token_embedding.weight': torch.zeros(2, 2)}, text_only)
    with pytest.raises(CLIPCheckpointMismatchError, match='visual'):
        CLIPVisionBackbone(
            arch=tiny_clip_arch(), img_size=64, pretrained=str(text_only))


def test_registry_build():
    backbone = MODELS.build(
        dict(
            type='CLIPVisionBackbone',
            arch=tiny_clip_arch(),
            img_size=(64, 32),
            modalities=('rgb', 'nir')))
    assert isinstance(backbone, CLIPVisionBackbone)
    assert backbone(torch.randn(1, 2, 3, 64, 32))['cls'].shape == (1, 2, 128)


def test_real_vit_b16_parameter_count():
    """ViT-B/16 visual at 256x128: ~86.1 M parameters, from the formula."""
    backbone = CLIPVisionBackbone(arch='ViT-B-16', img_size=(256, 128))
    width, layers, patch, embed, tokens = 768, 12, 16, 512, 16 * 8 + 1
    block = (
        2 * 2 * width  # ln_1, ln_2
        + 3 * width * width + 3 * width  # qkv
        + width * width + width  # attention out
        + 4 * width * width + 4 * width  # c_fc
        + 4 * width * width + width)  # c_proj
    expected = (3 * patch * patch * width + width + tokens * width +
                2 * width + layers * block + 2 * width + width * embed)
    count = sum(p.numel() for p in backbone.parameters())
    assert count == expected
    assert abs(count - 86.1e6) < 0.1e6
    assert backbone.grid == (16, 8)
    assert (backbone.width, backbone.embed_dim) == (768, 512)
    assert backbone.num_blocks == 12
