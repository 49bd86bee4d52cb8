# Copyright (c) mmreid_text contributors. All rights reserved.
"""NEXT's expert block (Eq. 1) and routing pieces (Eq. 2-3, 5-6, Table VI)
on hand-computed tiny cases."""
import math

import pytest
import torch
from torch import nn

from mmreid_text.models.utils.expert_stats import (ExpertStats,
                                                   expert_modality_names)
from mmreid_text.models.utils.next_expert import ExpertBlock
from mmreid_text.models.utils.next_routing import (SamplingRouter,
                                                   cosine_similarity_map,
                                                   selection_mask,
                                                   topk_selection)


def gelu(x):
    return 0.5 * x * (1 + math.erf(x / math.sqrt(2)))


def set_linear(layer: nn.Linear, weight, bias):
    with torch.no_grad():
        layer.weight.copy_(torch.tensor(weight, dtype=torch.float))
        layer.bias.copy_(torch.tensor(bias, dtype=torch.float))


def test_expert_block_is_residual_mlp_of_layer_norm():
    """E(F) = Dropout(MLP(LN(F))) + F with hand-set weights: x = [1, 3]
    -> LN = [-1, 1] -> W1 = I -> GELU -> W2 = 2I, b2 = [0.5, 0]."""
    block = ExpertBlock(2, mlp_ratio=1.0).eval()
    assert block.dropout.p == 0.1
    set_linear(block.mlp[0], [[1, 0], [0, 1]], [0, 0])
    set_linear(block.mlp[3], [[2, 0], [0, 2]], [0.5, 0])
    out = block(torch.tensor([[1.0, 3.0]]))
    ln = 1 / math.sqrt(1 + 1e-5)
    expected = [1 + 2 * gelu(-ln) + 0.5, 3 + 2 * gelu(ln)]
    assert out[0].tolist() == pytest.approx(expected, abs=1e-5)
    block.train()  # dropout active on the MLP branch only
    torch.manual_seed(0)
    outs = torch.stack([block(torch.tensor([[1.0, 3.0]])) for _ in range(50)])
    assert not torch.allclose(outs.std(0), torch.zeros(2))


def test_expert_block_width():
    assert ExpertBlock(8, mlp_ratio=4.0).mlp[0].out_features == 32
    assert ExpertBlock(8).mlp[0].out_features == 8
    with pytest.raises(ValueError, match='mlp_ratio'):
        ExpertBlock(8, mlp_ratio=0.0)


def hand_router(**kwargs) -> SamplingRouter:
    """alpha(t) = GELU(t_0); modulation gamma = alpha + 3 GELU(alpha +
    2 beta) + 0.1."""
    router = SamplingRouter(2, modulation_dims=1, **kwargs)
    set_linear(router.route_mlp[0], [[1, 0], [0, 1]], [0, 0])
    set_linear(router.route_mlp[2], [[1, 0]], [0])
    set_linear(router.modulation[0], [[1, 2]], [0])
    set_linear(router.modulation[2], [[3]], [0.1])
    return router


def test_routing_map_threshold_and_mask_by_hand():
    router = hand_router()
    tokens = torch.tensor([[[1.0, 0.0], [-1.0, 5.0], [2.0, 0.0]]])
    alpha = router.route(tokens)
    assert alpha[0].tolist() == pytest.approx(
        [gelu(1), gelu(-1), gelu(2)], abs=1e-6)
    # shared FC1/FC2 (Eq. 2): sigma is the class token's score
    sigma = router.threshold(torch.tensor([[1.5, 0.0]]))
    assert sigma.shape == (1, 1)
    assert float(sigma.detach()) == pytest.approx(gelu(1.5), abs=1e-6)
    mask, hard = selection_mask(alpha, sigma, training=False)
    assert hard[0].tolist() == [0.0, 0.0, 1.0]  # only GELU(2) > GELU(1.5)
    assert torch.equal(mask, hard)


def test_separate_threshold_mlp():
    router = hand_router(share_threshold_mlp=False)
    assert router.threshold_mlp is not None
    set_linear(router.threshold_mlp[0], [[0, 0], [0, 0]], [0, 0])
    set_linear(router.threshold_mlp[2], [[0, 0]], [0.25])
    assert float(router.threshold(torch.tensor([[9.0, 9.0]]))) == 0.25
    assert SamplingRouter(
        2, with_threshold=False,
        share_threshold_mlp=False).threshold_mlp is None


def test_modulation_residual_by_hand():
    """gamma = FC4(GELU(FC3([alpha, beta]))) + alpha (Eq. 6)."""
    router = hand_router()
    alpha = torch.tensor([[0.5, -1.0]])
    beta = torch.tensor([[0.25, 1.0]])
    gamma = router.modulate(alpha, beta)
    expected = [
        a + 3 * gelu(a + 2 * b) + 0.1 for a, b in ((0.5, 0.25), (-1.0, 1.0))
    ]
    assert gamma[0].tolist() == pytest.approx(expected, abs=1e-6)
    # no text: gamma = alpha ('alpha') or beta = 0 ('zero_beta')
    assert torch.equal(router.modulate(alpha, None), alpha)
    zero = router.modulate(alpha, None, no_text_mode='zero_beta')
    assert zero[0].tolist() == pytest.approx(
        [a + 3 * gelu(a) + 0.1 for a in (0.5, -1.0)], abs=1e-6)
    # per-sample validity: the second sample has no text
    alpha2, beta2 = alpha.repeat(2, 1), beta.repeat(2, 1)
    valid = torch.tensor([True, False])
    mixed = router.modulate(alpha2, beta2, valid)
    assert torch.allclose(mixed[0], gamma[0]) and torch.equal(
        mixed[1], alpha[0])
    mixed = router.modulate(alpha2, beta2, valid, 'zero_beta')
    assert torch.allclose(mixed[1], zero[0])
    with pytest.raises(ValueError, match='no_text_mode'):
        router.modulate(alpha, beta, no_text_mode='drop')
    assert SamplingRouter(2, use_text=False).modulation is None


def test_cosine_similarity_map_by_hand():
    text = torch.tensor([[1.0, 0.0]])
    tokens = torch.tensor([[[2.0, 0.0], [0.0, 3.0], [1.0, 1.0], [-1.0, 0.0]]])
    beta = cosine_similarity_map(text, tokens)
    assert beta[0].tolist() == pytest.approx(
        [1.0, 0.0, 1 / math.sqrt(2), -1.0], abs=1e-6)


def test_straight_through_forward_is_hard_backward_is_sigmoid():
    score = torch.tensor([[0.5, -0.2, 1.0]], requires_grad=True)
    threshold = torch.tensor([[0.3]], requires_grad=True)
    mask, hard = selection_mask(score, threshold, 'ste', temperature=0.5)
    assert mask.tolist() == [[1.0, 0.0, 1.0]] == hard.tolist()
    mask.sum().backward()
    s = torch.sigmoid((score.detach() - 0.3) / 0.5)
    expected = s * (1 - s) / 0.5
    assert torch.allclose(score.grad, expected)
    assert float(threshold.grad) == pytest.approx(-float(expected.sum()))


def test_sigmoid_relaxation_soft_in_training_hard_at_test():
    score = torch.tensor([[0.5, -0.2]], requires_grad=True)
    threshold = torch.tensor([[0.0]])
    soft, hard = selection_mask(score, threshold, 'sigmoid', training=True)
    assert torch.allclose(soft, torch.sigmoid(score.detach()))
    assert hard.tolist() == [[1.0, 0.0]]
    soft.sum().backward()
    assert score.grad is not None and bool((score.grad > 0).all())
    mask, _ = selection_mask(score, threshold, 'sigmoid', training=False)
    assert mask.tolist() == [[1.0, 0.0]]
    mask, _ = selection_mask(
        score, threshold, 'sigmoid', training=False, hard_at_eval=False)
    assert torch.allclose(mask, torch.sigmoid(score.detach()))
    with pytest.raises(ValueError, match='grad_mode'):
        selection_mask(score, threshold, 'gumbel')


def test_topk_selection_by_hand():
    score = torch.tensor([[0.1, 0.5, 0.3, 0.9], [4.0, 3.0, 2.0, 1.0]])
    hard, threshold = topk_selection(score, 0.5)
    assert hard.tolist() == [[0, 1, 0, 1], [1, 1, 0, 0]]
    assert threshold.flatten().tolist() == pytest.approx([0.4, 2.5])
    hard, _ = topk_selection(score, 0.01)  # at least one token
    assert hard.sum(-1).tolist() == [1, 1]
    hard, threshold = topk_selection(score, 1.0)
    assert bool((hard == 1).all()) and bool((score > threshold).all())


def test_expert_stats_means_and_reset():
    stats = ExpertStats()
    stats.add('tokens', torch.tensor([2.0, 4.0]), 2)
    stats.add('tokens', torch.tensor([1.0, 0.0]), 1)
    assert stats.means()['tokens'].tolist() == pytest.approx([1.0, 4 / 3])
    with pytest.raises(ValueError, match='shape'):
        stats.add('tokens', torch.zeros(3), 1)
    stats.reset()
    assert len(stats) == 0 and stats.means() == {}
    assert expert_modality_names(2, ('rgb', 'nir'))[(1, 0)] == 'e2_rgb'
