# Copyright (c) mmreid_text contributors. All rights reserved.
"""``CLIPVisionBackbone(modality_stems=True)``: one ModifiedResNet stem per
modality (AGW / EEES "two parallel first convolutional layers"), shared
layer1-4 and attnpool, per-sample routing."""
import open_clip
import pytest
import torch
from torch import nn

from mmreid_text.models.backbones import CLIPVisionBackbone
from mmreid_text.models.utils import (RESNET_STEM_NAMES,
                                      clear_clip_checkpoint_cache,
                                      tiny_clip_arch)

IMG = (64, 32)
ROUTES = ('vis', 'ir', 'ir', 'vis', 'ir')  # interleaved batch


@pytest.fixture(autouse=True)
def _fresh_cache():
    clear_clip_checkpoint_cache()
    yield
    clear_clip_checkpoint_cache()


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory):
    """A tiny RN CLIP saved as a state dict, with non-trivial BN stats."""
    torch.manual_seed(0)
    model = open_clip.model.CLIP(**tiny_clip_arch('resnet'))
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            nn.init.uniform_(module.weight, 0.5, 1.5)
            nn.init.normal_(module.bias, std=0.1)
            module.running_mean.normal_(std=0.1)
            module.running_var.uniform_(0.5, 1.5)
    path = tmp_path_factory.mktemp('rn') / 'rn.pt'
    torch.save(model.state_dict(), path)
    return str(path), model.visual.eval()


def _build(path=None, **kwargs):
    kwargs.setdefault('modalities', ('vis', 'ir'))
    return CLIPVisionBackbone(
        arch=tiny_clip_arch('resnet'), img_size=IMG, pretrained=path, **kwargs)


def _stem_state(stem):
    return {k: v.clone() for k, v in stem.state_dict().items()}


def test_stems_are_separate_copies_of_the_pretrained_stem(checkpoint):
    path, reference = checkpoint
    plain = _build(path)
    stems = _build(path, modality_stems=True)
    assert stems.needs_sample_modalities and not plain.needs_sample_modalities
    assert set(stems.stems) == {'vis', 'ir'}
    vis, ir = stems.get_stem('vis'), stems.get_stem('ir')
    assert vis is stems.stems['vis'] and vis is not ir
    for stem in (vis, ir):
        assert tuple(name for name, _ in stem.named_children()) == \
            RESNET_STEM_NAMES
        assert sum(isinstance(m, nn.ReLU) for m in stem) == 3  # not CSDN's 1
        for key, value in stem.state_dict().items():
            assert torch.equal(value, reference.state_dict()[key]), key
    assert not set(map(id, vis.parameters())) & set(map(id, ir.parameters()))
    # the shared tower keeps no stem (no unused parameters) ...
    keys = set(stems.state_dict())
    assert not any(k.startswith('encoder.conv1') for k in keys)
    assert 'stems.vis.conv1.weight' in keys and 'stems.ir.bn3.bias' in keys
    # ... and the rest is the plain tower, loaded from the checkpoint
    assert torch.equal(stems.encoder.layer4[0].conv1.weight,
                       reference.layer4[0].conv1.weight)
    stem_params = sum(p.numel() for p in vis.parameters())
    assert stem_params > 0
    assert (sum(
        p.numel()
        for p in stems.parameters()) == sum(p.numel()
                                            for p in plain.parameters()) +
            stem_params)
    # the default keeps the plain tower: stem in the encoder, no copies
    assert plain.stems is None and 'encoder.conv1.weight' in plain.state_dict()
    assert plain.get_stem().conv1 is plain.encoder.conv1


def test_equal_to_plain_backbone_when_stems_hold_the_same_weights(checkpoint):
    path, _ = checkpoint
    plain = _build(path).eval()
    stems = _build(path, modality_stems=True).eval()
    images = torch.randn(len(ROUTES), 1, 3, *IMG)
    expected = plain(images)
    out = stems(images, sample_modalities=ROUTES)
    assert set(out) == set(expected)
    for key in ('feature_map', 'tokens', 'cls', 'proj_cls'):
        torch.testing.assert_close(out[key], expected[key])
    assert out['grid'] == expected['grid']


def test_routing_keeps_the_order_of_an_interleaved_batch(checkpoint):
    path, _ = checkpoint
    backbone = _build(path, modality_stems=True).eval()
    with torch.no_grad():  # make the stems differ
        backbone.get_stem('ir').conv1.weight.mul_(-1.5)
    images = torch.randn(len(ROUTES), 1, 3, *IMG)
    batched = backbone(images, sample_modalities=ROUTES)['proj_cls']
    for index, modality in enumerate(ROUTES):
        alone = backbone(images[index:index + 1], sample_modalities=[modality])
        torch.testing.assert_close(batched[index], alone['proj_cls'][0])
        other = 'vis' if modality == 'ir' else 'ir'
        wrong = backbone(images[index:index + 1], sample_modalities=[other])
        assert not torch.allclose(batched[index], wrong['proj_cls'][0])


def test_a_vis_stem_change_changes_only_visible_samples(checkpoint):
    path, _ = checkpoint
    backbone = _build(path, modality_stems=True).eval()
    images = torch.randn(len(ROUTES), 1, 3, *IMG)
    before = backbone(images, sample_modalities=ROUTES)['feature_map']
    with torch.no_grad():
        backbone.get_stem('vis').conv1.weight.mul_(2.0)
    after = backbone(images, sample_modalities=ROUTES)['feature_map']
    for index, modality in enumerate(ROUTES):
        if modality == 'vis':
            assert not torch.allclose(after[index], before[index])
        else:
            torch.testing.assert_close(after[index], before[index])


def test_shared_stages_see_the_whole_batch_and_get_all_gradients():
    backbone = _build(modality_stems=True).train()
    seen = []
    backbone.encoder.layer1.register_forward_hook(
        lambda module, args, out: seen.append(args[0].shape[0]))
    stem_batches = {m: [] for m in ('vis', 'ir')}
    for modality, stem in backbone.stems.items():
        stem.register_forward_hook(lambda module, args, out, m=modality:
                                   stem_batches[m].append(args[0].shape[0]))
    images = torch.randn(len(ROUTES), 1, 3, *IMG)
    backbone(images, sample_modalities=ROUTES)['proj_cls'].sum().backward()
    assert seen == [len(ROUTES)]  # one batch through the shared layers
    assert stem_batches == {'vis': [2], 'ir': [3]}  # one group per stem
    for name in ('vis', 'ir'):
        assert backbone.get_stem(name).conv1.weight.grad.abs().sum() > 0
    # (random init: open_clip zero-inits bn3, whose weight still gets grad)
    assert backbone.encoder.layer1[0].bn3.weight.grad.abs().sum() > 0
    # an infrared-only batch leaves the visible stem without gradient
    backbone.zero_grad(set_to_none=True)
    backbone(
        images[:2], sample_modalities=('ir', 'ir'))['cls'].sum().backward()
    assert backbone.get_stem('vis').conv1.weight.grad is None
    assert backbone.get_stem('ir').conv1.weight.grad is not None


def test_multi_slot_and_video_inputs_route_by_slot_name(checkpoint):
    path, _ = checkpoint
    backbone = _build(path, modality_stems=True).eval()
    with torch.no_grad():
        backbone.get_stem('vis').conv1.weight.mul_(0.5)
    pairs = torch.randn(2, 2, 3, *IMG)  # slots ('vis', 'ir')
    out = backbone(pairs)['proj_cls']
    as_samples = backbone(
        pairs.flatten(0, 1)[:, None],
        sample_modalities=('vis', 'ir', 'vis', 'ir'))['proj_cls']
    torch.testing.assert_close(out.flatten(0, 1), as_samples[:, 0])
    only_ir = backbone(pairs[:, 1:], modalities=('ir', ))['proj_cls']
    torch.testing.assert_close(only_ir[:, 0], out[:, 1])
    # tracklets [B, 1, T, ...]: every frame through its sample's stem
    clips = torch.randn(2, 1, 3, 3, *IMG)
    video = backbone(clips, sample_modalities=('ir', 'vis'))['proj_cls']
    assert video.shape == (2, 1, 3, 128)
    frame = backbone(clips[:, :, 2], sample_modalities=('ir', 'vis'))
    torch.testing.assert_close(video[:, :, 2], frame['proj_cls'])


def test_pretrained_weights_load_into_both_stems_and_shared_layers(checkpoint):
    path, reference = checkpoint
    backbone = _build(path, modality_stems=True, last_stride=1).eval()
    images = torch.randn(3, 3, *IMG)
    with torch.no_grad():
        stem_out = reference.stem(images)
    for modality in ('vis', 'ir'):
        torch.testing.assert_close(
            backbone.get_stem(modality)(images), stem_out)
    assert backbone.grid == (4, 2)  # last stride 1 at 64x32


def test_errors_say_what_to_pass():
    backbone = _build(modality_stems=True)
    images = torch.randn(2, 1, 3, *IMG)
    with pytest.raises(ValueError, match='pass sample_modalities='):
        backbone(images)
    with pytest.raises(ValueError, match='2 samples'):
        backbone(images, sample_modalities=('vis', ))
    with pytest.raises(ValueError, match=r"unknown modalities \['rgb'\]"):
        backbone(images, sample_modalities=('vis', 'rgb'))
    with pytest.raises(ValueError, match=r'samples \[1\] have no modality'):
        backbone(images, sample_modalities=('vis', None))
    with pytest.raises(ValueError, match='not both'):
        backbone(images, modalities=('vis', ), sample_modalities=('vis', 'ir'))
    with pytest.raises(ValueError, match='routed by their names'):
        backbone(torch.randn(2, 2, 3, *IMG), sample_modalities=('vis', 'ir'))
    with pytest.raises(KeyError, match='one stem per modality'):
        backbone.get_stem()
    with pytest.raises(ValueError, match='ModifiedResNet'):
        CLIPVisionBackbone(
            arch=tiny_clip_arch(), img_size=IMG, modality_stems=True)
    with pytest.raises(ValueError, match='share_weights=False'):
        _build(modality_stems=True, share_weights=False)
    # one modality: nothing to route
    single = _build(modalities=('ir', ), modality_stems=True)
    assert single.get_stem() is single.stems['ir']
    assert single(images)['cls'].shape == (2, 1, 512)
