# Copyright (c) mmreid_text contributors. All rights reserved.
"""EEES ESE / CVSC contrastive loss (Eq. 3-5, 8-10) on hand-computed
values. Each test's docstring names the bug it catches."""
import math

import pytest
import torch

from mmreid_text.models.losses import (ImageTextContrastiveLoss,
                                       image_text_contrast)

# batch: vis samples 0 and 2, ir samples 1 and 3 (identities 0, 0, 1, 1)
IMAGE = torch.tensor([[1., 0.], [2., 1.], [1., 1.], [0., 1.]])
TEXT = torch.tensor([[1., 0.], [1., 0.], [0., 2.], [1., -1.]])
LABELS = torch.tensor([0, 0, 1, 1])
MODALITIES = ('vis', 'ir', 'vis', 'ir')


def _nll(row, target):
    """-log softmax(row)[target]."""
    return math.log(sum(math.exp(v) for v in row)) - row[target]


def _dot(a, b):
    return sum(x * y for x, y in zip(a, b))


def _expected(rows, cols, direction):
    """Mean over i of -log softmax_j s(rows_i, cols_j)[i] (dot, tau=1)."""
    n = len(rows)
    logits = [[_dot(rows[i], cols[j]) for j in range(n)] for i in range(n)]
    if direction == 't2i':
        logits = [list(c) for c in zip(*logits)]
    return sum(_nll(logits[i], i) for i in range(n)) / n


VIS = ([[1, 0], [1, 1]], [[1, 0], [0, 2]])
IR = ([[2, 1], [0, 1]], [[1, 0], [1, -1]])


def test_i2t_direction_by_hand():
    """Softmax over the texts (dim 1) for i2t: the wrong axis changes it."""
    # vis logits [[1, 0], [1, 2]]: rows -> log(1 + e^-1) twice
    vis_i2t = math.log(1 + math.exp(-1))
    # ir logits [[2, 1], [0, -1]]: rows -> log(1 + e^-1), log(1 + e^1) + 0
    ir_i2t = (math.log(1 + math.exp(-1)) + math.log(1 + math.exp(1))) / 2
    assert _expected(*VIS, 'i2t') == pytest.approx(vis_i2t)
    loss = ImageTextContrastiveLoss(
        similarity='dot', temperature=1.0, directions=('i2t', ))
    value = loss(IMAGE, TEXT, LABELS, MODALITIES)
    torch.testing.assert_close(value, torch.tensor(vis_i2t + ir_i2t))
    # the column softmax (t2i) differs on this batch
    assert _expected(*VIS, 't2i') + _expected(*IR, 't2i') != \
        pytest.approx(vis_i2t + ir_i2t)


def test_t2i_direction_and_symmetric_sum_by_hand():
    """t2i softmaxes over the images; Eq. 3 sums both directions."""
    vis_t2i = (math.log(2) + math.log(1 + math.exp(-2))) / 2
    assert _expected(*VIS, 't2i') == pytest.approx(vis_t2i)
    t2i = ImageTextContrastiveLoss(
        similarity='dot', temperature=1.0, directions=('t2i', ))
    expected_t2i = vis_t2i + _expected(*IR, 't2i')
    torch.testing.assert_close(
        t2i(IMAGE, TEXT, LABELS, MODALITIES), torch.tensor(expected_t2i))
    both = ImageTextContrastiveLoss(similarity='dot', temperature=1.0)
    expected = (_expected(*VIS, 'i2t') + _expected(*IR, 'i2t') + expected_t2i)
    torch.testing.assert_close(
        both(IMAGE, TEXT, LABELS, MODALITIES), torch.tensor(expected))


def test_modalities_are_contrasted_separately_and_summed():
    """Softmax over the whole batch (modalities mixed) or the mean over
    modalities instead of the sum of Eq. 4 / 5 change the value."""
    loss = ImageTextContrastiveLoss(similarity='dot', temperature=1.0)
    per_modality = loss(IMAGE, TEXT, LABELS, MODALITIES)
    mixed = loss(IMAGE, TEXT, LABELS)  # one group: all four samples
    rows, cols = IMAGE.tolist(), TEXT.tolist()
    torch.testing.assert_close(
        mixed,
        torch.tensor(
            _expected(rows, cols, 'i2t') + _expected(rows, cols, 't2i')))
    assert not torch.allclose(per_modality, mixed)
    # each modality's term alone
    vis = loss(IMAGE[[0, 2]], TEXT[[0, 2]], LABELS[[0, 2]], ('vis', 'vis'))
    ir = loss(IMAGE[[1, 3]], TEXT[[1, 3]], LABELS[[1, 3]], ('ir', 'ir'))
    torch.testing.assert_close(per_modality, vis + ir)
    # one modality slot [B, 1, E] is the same input
    torch.testing.assert_close(
        loss(IMAGE[:, None], TEXT, LABELS, MODALITIES), per_modality)


def test_cosine_similarity_with_temperature():
    """s = cos / tau (features normalised, then scaled)."""
    image = torch.tensor([[3., 4.], [0., 2.]])
    text = torch.tensor([[1., 0.], [0., 5.]])
    tau = 0.5
    # cos: [[0.6, 0.8], [0, 1]] / 0.5 -> [[1.2, 1.6], [0, 2]]
    i2t = (_nll([1.2, 1.6], 0) + _nll([0, 2], 1)) / 2
    t2i = (_nll([1.2, 0], 0) + _nll([1.6, 2], 1)) / 2
    loss = ImageTextContrastiveLoss(temperature=tau)
    torch.testing.assert_close(
        loss(image, text, torch.tensor([0, 1]), ('vis', 'vis')),
        torch.tensor(i2t + t2i))
    # scaling a feature does not change the cosine loss, it does the dot one
    torch.testing.assert_close(
        loss(image * 3, text, torch.tensor([0, 1]), ('vis', 'vis')),
        torch.tensor(i2t + t2i))


def test_identity_positives_supcon_variant():
    """positives='identity': mean log-prob over the same identity."""
    image = torch.tensor([[1., 0.], [0., 1.], [1., 1.]])
    text = torch.tensor([[1., 0.], [1., 1.], [0., 1.]])
    labels = torch.tensor([0, 0, 1])
    logits = [[_dot(a, b) for b in text.tolist()] for a in image.tolist()]

    def supcon(rows):
        total = 0.
        for i, row in enumerate(rows):
            pos = [j for j in range(3) if labels[j] == labels[i]]
            total += sum(_nll(row, j) for j in pos) / len(pos)
        return total / 3

    cols = [list(c) for c in zip(*logits)]
    expected = supcon(logits) + supcon(cols)
    loss = ImageTextContrastiveLoss(
        similarity='dot', temperature=1.0, positives='identity')
    value = loss(image, text, labels, ('ir', ) * 3)
    torch.testing.assert_close(value, torch.tensor(expected))
    own = ImageTextContrastiveLoss(similarity='dot', temperature=1.0)
    assert not torch.allclose(own(image, text, labels, ('ir', ) * 3), value)
    # the functional form gives the two directions
    i2t, t2i = image_text_contrast(image, text, labels, 1.0, 'identity', 'dot')
    torch.testing.assert_close(i2t, torch.tensor(supcon(logits)))
    torch.testing.assert_close(t2i, torch.tensor(supcon(cols)))


def test_gradients_reach_image_and_text():
    image = IMAGE.clone().requires_grad_()
    text = TEXT.clone().requires_grad_()
    ImageTextContrastiveLoss()(image, text, LABELS, MODALITIES).backward()
    assert bool((image.grad.abs().sum(1) > 0).all())
    assert bool((text.grad.abs().sum(1) > 0).all())


def test_missing_modality_is_skipped_counted_and_single_sample_is_zero():
    loss = ImageTextContrastiveLoss(
        similarity='dot', temperature=1.0, modalities=('vis', 'ir'))
    vis_only = loss(IMAGE[[0, 2]], TEXT[[0, 2]], LABELS[[0, 2]],
                    ('vis', 'vis'))
    assert loss.skipped == {'ir': 1}
    torch.testing.assert_close(
        vis_only,
        torch.tensor(_expected(*VIS, 'i2t') + _expected(*VIS, 't2i')))
    loss(IMAGE[[0, 2]], TEXT[[0, 2]], LABELS[[0, 2]], ('vis', 'vis'))
    assert loss.skipped == {'ir': 2}
    # one sample of a modality: softmax over one entry, 0
    single = loss(IMAGE[:2], TEXT[:2], LABELS[:2], ('vis', 'ir'))
    torch.testing.assert_close(single, torch.tensor(0.))


def test_multi_slot_layout_contrasts_every_slot():
    """[B, M, E]: slot m of all samples is one modality group."""
    image = IMAGE.view(2, 2, 2)  # sample b = rows 2b (slot 0), 2b+1 (slot 1)
    text = TEXT.view(2, 2, 2)
    loss = ImageTextContrastiveLoss(similarity='dot', temperature=1.0)
    expected = loss(IMAGE, TEXT, LABELS, MODALITIES)
    torch.testing.assert_close(
        loss(image, text, torch.tensor([0, 1])), expected)
    named = ImageTextContrastiveLoss(
        similarity='dot', temperature=1.0, modalities=('vis', 'ir'))
    torch.testing.assert_close(
        named(image, text, torch.tensor([0, 1])), expected)


def test_errors_are_clear():
    loss = ImageTextContrastiveLoss(modalities=('vis', 'ir'))
    with pytest.raises(TypeError, match='LossTerm split'):
        loss(IMAGE, TEXT, LABELS, 'vis')
    with pytest.raises(ValueError, match='one modality name'):
        loss(IMAGE, TEXT, LABELS, ('vis', 'ir'))
    with pytest.raises(ValueError, match='sample_modalities'):
        loss(IMAGE, TEXT, LABELS)
    with pytest.raises(ValueError, match=r"\['rgb'\]"):
        loss(IMAGE, TEXT, LABELS, ('vis', 'rgb', 'vis', 'ir'))
    with pytest.raises(ValueError, match='joint space'):
        loss(IMAGE, torch.zeros(4, 3), LABELS, MODALITIES)
    with pytest.raises(ValueError, match='labels'):
        loss(IMAGE, TEXT, LABELS[:3], MODALITIES)
    with pytest.raises(ValueError, match='positives'):
        ImageTextContrastiveLoss(positives='all')
    with pytest.raises(ValueError, match='temperature'):
        ImageTextContrastiveLoss(temperature=0)
    with pytest.raises(ValueError, match='directions'):
        ImageTextContrastiveLoss(directions=('f2t', ))
