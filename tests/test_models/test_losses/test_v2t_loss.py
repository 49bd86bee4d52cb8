# Copyright (c) mmreid_text contributors. All rights reserved.
"""VLD visual-to-text loss (Eq. 5) on hand-computed values."""
import math

import pytest
import torch

from mmreid_text.models.losses import VisualToTextLoss

VISUAL = torch.tensor([[1., 2.], [0., -1.]])
TEXT = torch.tensor([[1., 0.], [0., 1.], [1., 1.]])
LABELS = torch.tensor([2, 0])


def _ce(row, label):
    return -row[label] + math.log(sum(math.exp(v) for v in row))


def test_dot_product_without_scale_is_the_public_code():
    # logits: [1, 2, 3] and [0, -1, -1]
    expected = (_ce([1, 2, 3], 2) + _ce([0, -1, -1], 0)) / 2
    loss = VisualToTextLoss()(VISUAL, TEXT, LABELS)
    torch.testing.assert_close(loss, torch.tensor(expected))
    # one modality slot [B, 1, E] is accepted
    torch.testing.assert_close(
        VisualToTextLoss()(VISUAL[:, None], TEXT, LABELS), loss)


def test_cosine_with_logit_scale():
    r5, r2 = math.sqrt(5), math.sqrt(2)
    row0 = [10 * v for v in (1 / r5, 2 / r5, 3 / (r5 * r2))]
    row1 = [10 * v for v in (0, -1, -1 / r2)]
    expected = (_ce(row0, 2) + _ce(row1, 0)) / 2
    loss = VisualToTextLoss(
        similarity='cosine', logit_scale=10)(VISUAL, TEXT, LABELS)
    torch.testing.assert_close(loss, torch.tensor(expected))


def test_gradient_reaches_both_sides_and_errors():
    visual = VISUAL.clone().requires_grad_()
    text = TEXT.clone().requires_grad_()
    VisualToTextLoss()(visual, text, LABELS).backward()
    assert visual.grad.abs().sum() > 0 and text.grad.abs().sum() > 0
    with pytest.raises(ValueError, match='0..3 do not index the 3 identity'):
        VisualToTextLoss()(VISUAL, TEXT, torch.tensor([3, 0]))
    with pytest.raises(ValueError, match=r'text \[N_y, E\]'):
        VisualToTextLoss()(VISUAL, TEXT[:, :1], LABELS)
    with pytest.raises(ValueError, match='similarity'):
        VisualToTextLoss(similarity='l2')


def test_label_smoothing_by_hand():
    # (1 - eps) * CE + eps * mean over classes of -log p
    eps, rows = 0.3, ([1, 2, 3], [0, -1, -1])

    def smoothed(row, label):
        log_z = math.log(sum(math.exp(v) for v in row))
        return (1 - eps) * _ce(row, label) + eps * sum(log_z - v
                                                       for v in row) / 3

    expected = (smoothed(rows[0], 2) + smoothed(rows[1], 0)) / 2
    loss = VisualToTextLoss(label_smooth=eps)(VISUAL, TEXT, LABELS)
    torch.testing.assert_close(loss, torch.tensor(expected))


def test_shapes_and_smoothing_range_are_checked():
    # two modality slots are not one visual feature: refused, never sliced
    with pytest.raises(ValueError, match=r'visual \[B, E\]'):
        VisualToTextLoss()(torch.stack([VISUAL, VISUAL], 1), TEXT, LABELS)
    with pytest.raises(ValueError, match=r'text \[N_y, E\]'):
        VisualToTextLoss()(VISUAL, TEXT[None], LABELS)
    with pytest.raises(ValueError, match=r'^VisualToTextLoss: label_smooth'):
        VisualToTextLoss(label_smooth=1.0)
    VisualToTextLoss(label_smooth=0.99)
