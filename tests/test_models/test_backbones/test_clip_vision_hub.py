# Copyright (c) mmreid_text contributors. All rights reserved.
"""Spatial-temporal hub of CLIPVisionBackbone (VLD Eq. 6-8)."""
import pytest
import torch
from torch import nn

from mmreid_text.models.backbones import CLIPVisionBackbone
from mmreid_text.models.utils import tiny_clip_arch

IMG = (32, 16)  # clip-tiny patch 8 -> 4x2 grid, 1 + 8 tokens per frame
T = 3


def _backbone(hub=None, seed=0, **kwargs):
    torch.manual_seed(seed)
    return CLIPVisionBackbone(
        arch=tiny_clip_arch(),
        img_size=IMG,
        modalities=('vis', 'ir'),
        hub=hub,
        **kwargs).eval()


class _AddCLS(nn.Module):
    """Stand-in block: every token plus half of its frame's CLS; records
    its input."""

    def __init__(self):
        super().__init__()
        self.inputs = []

    def forward(self, x):
        self.inputs.append(x.detach().clone())
        return x + 0.5 * x[:, :1]


def test_hub_tokens_move_as_eq_6_to_8_say():
    backbone = _backbone(hub=dict(start_layer=1, num_frames=T))
    blocks = backbone.encoder.transformer.resblocks
    for index in range(len(blocks)):
        blocks[index] = _AddCLS()
    with torch.no_grad():
        backbone.hub.copy_(torch.randn(T, T, backbone.width))
    hub = backbone.hub.detach()
    images = torch.randn(2, 1, T, 3, *IMG)
    with torch.no_grad():
        feats = backbone(images)
    L0 = 1 + 8
    ins = [b.inputs[0] for b in blocks]
    assert ins[0].shape == (2 * T, L0, 128)  # no hub before start_layer
    assert all(x.shape == (2 * T, L0 + T, 128) for x in ins[1:])
    for n in range(2):
        row = lambda t: n * T + t  # noqa: E731  (frame t of tracklet n)
        cls = [[ins[k][row(t), 0] for t in range(T)] for k in range(4)]
        for t in range(T):
            for j in range(T):
                # Eq. 6: frame t carries H[t] at the end of its tokens
                torch.testing.assert_close(ins[1][row(t), L0 + j], hub[t, j])
                # Eq. 7: before block 2, slot j of frame t holds what frame
                # j carried in slot t (hub[j][t] after block 1)
                torch.testing.assert_close(ins[2][row(t), L0 + j],
                                           hub[j, t] + 0.5 * cls[1][j])
                # transposed back before block 3
                torch.testing.assert_close(
                    ins[3][row(t), L0 + j],
                    hub[t, j] + 0.5 * cls[1][t] + 0.5 * cls[2][j])
                # output: the last block's layout, before ln_post
                torch.testing.assert_close(
                    feats['hub_tokens'][n, 0, t, j],
                    ins[3][row(t), L0 + j] + 0.5 * cls[3][t])
            torch.testing.assert_close(feats['cls_pre_ln'][n, 0, t],
                                       1.5 * cls[3][t])
    # patch tokens exclude the hub
    assert feats['tokens'].shape == (2, 1, T, 8, 128)


def test_hub_off_is_bit_identical_to_open_clip():
    backbone = _backbone()
    assert backbone.hub is None
    assert not any('hub' in k for k in backbone.state_dict())
    images = torch.randn(2, 1, T, 3, *IMG)
    with torch.no_grad():
        feats = backbone(images)
        plain = backbone.encoder(images.flatten(0, 2))
    assert torch.equal(feats['proj_cls'].flatten(0, 2), plain)
    assert 'hub_tokens' not in feats and 'cls_pre_ln' not in feats
    assert 'hub_tokens' not in backbone.writes


def test_hub_on_keeps_blocks_before_start_and_adds_only_the_hub():
    off = _backbone(out_layers=(0, 1))
    on = _backbone(
        hub=dict(start_layer=2, num_frames=T, init_std=0.5), out_layers=(0, 1))
    assert set(on.state_dict()) - set(off.state_dict()) == {'hub'}
    assert on.hub.shape == (T, T, 128)
    assert 0.3 < float(on.hub.detach().std()) < 0.7  # init_std
    images = torch.randn(1, 1, T, 3, *IMG)
    with torch.no_grad():
        a, b = off(images), on(images)
    assert torch.equal(a['layer1_cls'], b['layer1_cls'])
    assert not torch.allclose(a['cls'], b['cls'])
    assert set(on.writes) - set(off.writes) == {'hub_tokens', 'cls_pre_ln'}
    assert b['hub_tokens'].shape == (1, 1, T, T, 128)
    # a plain checkpoint loads into the hub model except for the hub
    result = on.load_state_dict(off.state_dict(), strict=False)
    assert result.missing_keys == ['hub'] and not result.unexpected_keys


def test_hub_gets_gradients():
    backbone = _backbone(hub=dict(start_layer=3, num_frames=T)).train()
    cls = backbone(torch.randn(1, 1, T, 3, *IMG))['cls']
    (cls * torch.randn_like(cls)).sum().backward()
    assert backbone.hub.grad is not None
    assert float(backbone.hub.grad.abs().sum()) > 0


@pytest.mark.parametrize('shape', [(1, 1, 3, *IMG), (1, 1, 2, 3, *IMG)])
def test_hub_refuses_images_and_wrong_frame_count(shape):
    backbone = _backbone(hub=dict(num_frames=T, start_layer=1))
    with pytest.raises(ValueError, match='num_frames=3'):
        backbone(torch.randn(*shape))


@pytest.mark.parametrize('hub,match', [
    (dict(start_layer=1), 'num_frames'),
    (dict(num_frames=T, start_layer=4), 'start_layer=4'),
    (dict(num_frames=T, start_layer=1, init_std=0), 'init_std'),
    (dict(num_frames=T, layer=1), 'unknown keys'),
])
def test_hub_config_errors(hub, match):
    with pytest.raises(ValueError, match=match):
        _backbone(hub=hub)


def test_hub_needs_a_vit():
    with pytest.raises(ValueError, match='needs a ViT'):
        CLIPVisionBackbone(
            arch=tiny_clip_arch('resnet'),
            img_size=(64, 32),
            hub=dict(num_frames=2))


def _moving_squares(num: int, gen: torch.Generator):
    """``num`` tracklets of a square moving right (label 0) and the same
    tracklets played backwards (moving left, label 1): both classes have
    exactly the same frames, only their order differs."""
    frames = torch.zeros(num, 4, 3, *IMG)
    start = torch.randint(0, 6, (num, ), generator=gen)
    speed = torch.randint(2, 4, (num, ), generator=gen)
    top = torch.randint(0, IMG[0] - 8, (num, ), generator=gen)
    for i in range(num):
        for t in range(4):
            left = int(start[i] + speed[i] * t)
            frames[i, t, :, top[i]:top[i] + 8, left:left + 4] = 1.
    frames += 0.1 * torch.randn(frames.shape, generator=gen)
    inputs = torch.cat([frames, frames.flip(1)])[:, None]  # [2n, 1, 4, ...]
    return inputs, torch.cat([torch.zeros(num), torch.ones(num)]).long()


def test_hub_learns_frame_order_that_temporal_pooling_cannot():
    """The point of the hub: with it, the time-pooled CLS feature can tell
    a tracklet from the same frames in reverse order; without it the
    pooled feature of the two is identical, whatever the weights.

    A 4-block clip-tiny with the hub from block 2 and a linear classifier
    on the frame-averaged CLS learn 'moving right' vs 'moving left' to
    (near) perfect accuracy on new tracklets in 120 Adam steps (the loss
    leaves ln 2 after about 80). This needs the hub's tokens to reach the
    CLS (a hub that is appended but never attended, or not appended, stays
    at chance). It does not by itself prove the frame/hub transposition:
    frame-specific hub tokens are also a temporal position code (checked
    by mutation: with the transposition removed this still learns), which
    ``test_hub_tokens_move_as_eq_6_to_8_say`` pins token by token.
    """
    images, _ = _moving_squares(4, torch.Generator().manual_seed(0))
    with torch.no_grad():
        pooled = _backbone()(images)['cls'].mean(2)
    torch.testing.assert_close(pooled[:4], pooled[4:])  # order-blind

    backbone = _backbone(hub=dict(start_layer=2, num_frames=4)).train()
    torch.manual_seed(0)
    head = nn.Linear(backbone.width, 2)
    optimizer = torch.optim.Adam([*backbone.parameters(), *head.parameters()],
                                 lr=1e-3)
    gen = torch.Generator().manual_seed(1)
    for _ in range(120):
        images, labels = _moving_squares(16, gen)
        logits = head(backbone(images)['cls'].mean(2)[:, 0])
        loss = nn.functional.cross_entropy(logits, labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    backbone.eval()
    images, labels = _moving_squares(64, torch.Generator().manual_seed(2))
    with torch.no_grad():
        logits = head(backbone(images)['cls'].mean(2)[:, 0])
    accuracy = float((logits.argmax(1) == labels).float().mean())
    assert accuracy > 0.9, accuracy
