# Copyright (c) mmreid_text contributors. All rights reserved.
"""EEES CMSP (Eq. 12) on hand-computed values. Each test's docstring
names the bug it catches."""
import math

import pytest
import torch

from mmreid_text.models.losses import CMSPLoss
from mmreid_text.models.losses.modality_groups import (group_items,
                                                       pair_across_groups)

# identity-major batch of identity 0: vis a, vis b, ir c, ir d
IMAGE = torch.tensor([[0., 0.], [1., 1.], [0., 1.], [2., 0.]])
TEXT = torch.tensor([[3., 4.], [1., 2.], [0., 3.], [4., 5.]])
LABELS = torch.tensor([0, 0, 0, 0])
MODALITIES = ('vis', 'vis', 'ir', 'ir')


def _d(a, b):
    return math.dist(a, b)


def _expected(image, text, pairs):
    """Eq. 12 for pairs [(vis index, ir index)]."""
    f, t = image.tolist(), text.tolist()
    vis = [(_d(f[v], t[v]) - _d(f[v], t[r]))**2 for v, r in pairs]
    ir = [(_d(f[r], t[r]) - _d(f[r], t[v]))**2 for v, r in pairs]
    return sum(vis) / len(vis) + sum(ir) / len(ir)


def test_value_by_hand():
    """k-th vis pairs with the k-th ir of the identity: (a, c), (b, d)."""
    # vis: a: d_vv = 5, d_vr = |[0,0]-[0,3]| = 3 -> 4; b: d_vv = 1,
    # d_vr = |[1,1]-[4,5]| = 5 -> 16; ir: c: d_rr = 2, d_rv = |[0,1]-[3,4]|
    # = sqrt(18); d: d_rr = |[2,0]-[4,5]| = sqrt(29), d_rv = |[2,0]-[1,2]|
    # = sqrt(5)
    expected = (4 + 16) / 2 + ((2 - math.sqrt(18))**2 +
                               (math.sqrt(29) - math.sqrt(5))**2) / 2
    assert _expected(IMAGE, TEXT, [(0, 2), (1, 3)]) == pytest.approx(expected)
    loss = CMSPLoss()
    value = loss(IMAGE, TEXT, LABELS, MODALITIES)
    torch.testing.assert_close(value, torch.tensor(expected))
    # the wrong pairing (a, d), (b, c) gives another value
    assert _expected(IMAGE, TEXT, [(0, 3), (1, 2)]) != pytest.approx(expected)
    assert loss.last_unpaired == 0


def test_pairing_is_robust_to_the_order_of_the_blocks():
    """Interleaved / reversed blocks pair the same samples."""
    order = [2, 0, 3, 1]  # ir c, vis a, ir d, vis b
    loss = CMSPLoss()
    torch.testing.assert_close(
        loss(IMAGE[order], TEXT[order], LABELS[order],
             [MODALITIES[i] for i in order]),
        loss(IMAGE, TEXT, LABELS, MODALITIES))


def test_pairs_stay_within_the_identity_and_unpaired_are_counted():
    """Two identities; identity 1 has 2 vis and 1 ir image: its second vis
    image is left out and counted."""
    image = torch.cat([IMAGE, torch.tensor([[1., 0.], [5., 5.], [0., 2.]])])
    text = torch.cat([TEXT, torch.tensor([[1., 1.], [0., 0.], [2., 2.]])])
    labels = torch.tensor([0, 0, 0, 0, 1, 1, 1])
    modalities = MODALITIES + ('vis', 'vis', 'ir')
    items = group_items((image, text), labels, modalities, 'test')
    src, dst, unpaired = pair_across_groups(items, 'vis', 'ir')
    assert src.tolist() == [0, 1, 4] and dst.tolist() == [2, 3, 6]
    assert unpaired == 1
    loss = CMSPLoss()
    value = loss(image, text, labels, modalities)
    expected = _expected(image, text, [(0, 2), (1, 3), (4, 6)])
    torch.testing.assert_close(value, torch.tensor(expected))
    assert loss.last_unpaired == 1 and loss.num_unpaired == 1


def test_normalize_option():
    """normalize=True measures the distances on L2-normalised features."""
    image = torch.tensor([[3., 4.], [0., 2.]])
    text = torch.tensor([[1., 0.], [0., 3.]])
    loss = CMSPLoss(normalize=True)
    f = [[.6, .8], [0., 1.]]
    t = [[1., 0.], [0., 1.]]
    d = _d
    expected = (d(f[0], t[0]) - d(f[0], t[1]))**2 + (d(f[1], t[1]) -
                                                     d(f[1], t[0]))**2
    torch.testing.assert_close(
        loss(image, text, torch.tensor([0, 0]), ('vis', 'ir')),
        torch.tensor(expected))
    raw = CMSPLoss()(image, text, torch.tensor([0, 0]), ('vis', 'ir'))
    assert not torch.allclose(raw, torch.tensor(expected))


def test_gradients_reach_image_and_text():
    image = IMAGE.clone().requires_grad_()
    text = TEXT.clone().requires_grad_()
    CMSPLoss()(image, text, LABELS, MODALITIES).backward()
    assert bool((image.grad.abs().sum(1) > 0).all())
    assert bool((text.grad.abs().sum(1) > 0).all())


def test_multi_slot_layout_pairs_the_slots_of_a_sample():
    """[B, 2, E]: slot 0 and slot 1 of a sample are the pair."""
    image = IMAGE[[0, 2, 1, 3]].view(2, 2, 2)  # sample 0: (a, c), 1: (b, d)
    text = TEXT[[0, 2, 1, 3]].view(2, 2, 2)
    torch.testing.assert_close(CMSPLoss()(image, text, torch.tensor([0, 0])),
                               CMSPLoss()(IMAGE, TEXT, LABELS, MODALITIES))


def test_a_batch_without_both_modalities_fails_clearly():
    loss = CMSPLoss(modalities=('vis', 'ir'))
    with pytest.raises(ValueError, match='CrossModalityIdentitySampler'):
        loss(IMAGE[:2], TEXT[:2], LABELS[:2], ('vis', 'vis'))
    with pytest.raises(ValueError, match='CrossModalityIdentitySampler'):
        CMSPLoss()(IMAGE[:2], TEXT[:2], LABELS[:2], ('vis', 'vis'))
    with pytest.raises(ValueError, match='no identity'):
        CMSPLoss()(IMAGE[1:3], TEXT[1:3], torch.tensor([0, 1]), ('vis', 'ir'))
    with pytest.raises(ValueError, match='sample_modalities'):
        CMSPLoss()(IMAGE, TEXT, LABELS)
    with pytest.raises(ValueError, match='joint space'):
        CMSPLoss()(IMAGE, TEXT[:, :1], LABELS, MODALITIES)
    # [B, 1, E] image features with [B, E] text are one layout
    torch.testing.assert_close(
        CMSPLoss()(IMAGE[:, None], TEXT, LABELS, MODALITIES),
        CMSPLoss()(IMAGE, TEXT, LABELS, MODALITIES))
