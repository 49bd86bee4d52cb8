# Copyright (c) mmreid_text contributors. All rights reserved.
import pytest
import torch
from torchreid.reid.losses import CrossEntropyLoss
from torchreid.reid.losses import TripletLoss as TRTriplet

from mmreid_text.models.losses import TripletLoss
from mmreid_text.registry import MODELS
from mmreid_text.utils import register_all_modules

register_all_modules()


def test_triplet_matches_hand_computed_values():
    # 1-D features: ids 0 -> {0, 1}, id 1 -> {3, 7}
    feats = torch.tensor([[0.], [1.], [3.], [7.]])
    labels = torch.tensor([0, 0, 1, 1])
    # hardest pos / neg per anchor: (1,3) (1,2) (4,2) (4,6)
    loss = TripletLoss(margin=0.3)(feats, labels)
    expect = (0 + 0 + 2.3 + 0) / 4
    assert loss.item() == pytest.approx(expect, abs=1e-5)
    soft = TripletLoss(soft_margin=True)(feats, labels)
    diffs = torch.tensor([1 - 3, 1 - 2, 4 - 2, 4 - 6.])
    assert soft.item() == pytest.approx(
        torch.nn.functional.softplus(diffs).mean().item(), abs=1e-5)


@pytest.mark.parametrize('seed', range(5))
def test_triplet_equals_torchreid(seed):
    g = torch.Generator().manual_seed(seed)
    feats = torch.randn(16, 8, generator=g)
    labels = torch.arange(4).repeat_interleave(4)
    ours = TripletLoss(margin=0.3)(feats, labels)
    ref = TRTriplet(margin=0.3)(feats, labels)
    torch.testing.assert_close(ours, ref, atol=1e-5, rtol=1e-5)


def test_triplet_gradients_and_degenerate_batch():
    feats = torch.randn(8, 4, requires_grad=True)
    labels = torch.arange(4).repeat_interleave(2)
    TripletLoss()(feats, labels).backward()
    assert feats.grad.abs().sum() > 0
    # no positives at all -> zero loss, still differentiable
    loss = TripletLoss()(feats, torch.arange(8))
    assert loss.item() == 0 and loss.requires_grad


@pytest.mark.parametrize('seed', range(3))
def test_label_smoothing_loss_equals_torchreid(seed):
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(8, 5, generator=g)
    labels = torch.randint(0, 5, (8, ), generator=g)
    ours = MODELS.build(
        dict(type='LabelSmoothLoss', label_smooth_val=0.1,
             mode='original'))(logits, labels)
    ref = CrossEntropyLoss(5, use_gpu=False, label_smooth=True)(logits, labels)
    torch.testing.assert_close(ours, ref, atol=1e-6, rtol=1e-6)
