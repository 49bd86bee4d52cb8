# Copyright (c) mmreid_text contributors. All rights reserved.
"""NEXT CSSE (Eq. 8-9): soft routing over the concatenated tokens by
hand, shared vs modality-specific routers, sample-level routing,
gradients, the feature contract."""
import math

import pytest
import torch
from torch import nn

from mmreid_text.models.necks.next_csse import ContextSharedStructureExperts
from mmreid_text.models.utils.feature_contract import (FeatureAccessRecorder,
                                                       get_feature_keys,
                                                       written_keys)

B, M, N, D, E = 2, 3, 2, 2, 3


def set_linear(layer: nn.Linear, weight, bias):
    with torch.no_grad():
        layer.weight.copy_(torch.as_tensor(weight, dtype=torch.float))
        layer.bias.copy_(torch.as_tensor(bias, dtype=torch.float))


def build(**kwargs):
    """Expert i adds the constant c_i = [i + 1, -(i + 1)]: E_i(x) = x + c_i.
    """
    module = ContextSharedStructureExperts(
        embed_dims=D, num_experts=E, **kwargs).eval()
    for i, expert in enumerate(module.experts):
        set_linear(expert.mlp[3], torch.zeros(D, D), [i + 1.0, -(i + 1.0)])
    return module


def test_constant_router_mixes_experts_by_softmax_weights():
    """Router logits [0, ln 2, ln 3] -> omega = [1, 2, 3] / 6, so
    F_tilde = x + (1 c_1 + 2 c_2 + 3 c_3) / 6 = x + [14/6, -14/6]."""
    module = build()
    assert len(module.routers) == 1  # one router shared by all modalities
    set_linear(module.routers[0], torch.zeros(E, D),
               [0.0, math.log(2), math.log(3)])
    tokens = torch.randn(B, M, N, D)
    out = module(dict(proj_tokens=tokens))['next_structure']
    assert out.shape == (B, M * N, D)
    expected = tokens.reshape(B, M * N, D) + torch.tensor([14 / 6, -14 / 6])
    assert torch.allclose(out, expected, atol=1e-5)
    stats = module.expert_stats_scalars()
    assert stats['e3_nir_weight'] == pytest.approx(0.5)


def test_token_level_routing_by_hand():
    """Logits = [t0, 0, 0]: a token with t0 = ln 2 gets omega = [1/2, 1/4,
    1/4]; the same router applies to the tokens of every modality."""
    module = build()
    set_linear(module.routers[0], [[1.0, 0.0], [0.0, 0.0], [0.0, 0.0]],
               [0.0, 0.0, 0.0])
    tokens = torch.zeros(1, M, N, D)
    tokens[0, :, 0, 0] = math.log(2)  # first token of every modality
    weights = module.routing_weights(tokens)
    assert weights.shape == (1, M, N, E)
    for m in range(M):
        assert weights[0, m, 0].tolist() == pytest.approx([.5, .25, .25])
        assert weights[0, m, 1].tolist() == pytest.approx([1 / 3] * 3)
    out = module(dict(proj_tokens=tokens))['next_structure']
    # token 0: x + (.5 * 1 + .25 * 2 + .25 * 3) [1, -1]
    assert out[0, 0].tolist() == pytest.approx([math.log(2) + 1.75, -1.75],
                                               abs=1e-5)


def test_modality_specific_routers_and_sample_routing():
    module = build(router_sharing='modality')
    assert len(module.routers) == M
    for m, router in enumerate(module.routers):
        bias = [0.0, 0.0, 0.0]
        bias[m] = 5.0  # router m prefers expert m
        set_linear(router, torch.zeros(E, D), bias)
    weights = module.routing_weights(torch.randn(B, M, N, D))
    assert [int(weights[0, m, 0].argmax()) for m in range(M)] == [0, 1, 2]

    sample = build(routing='sample')
    set_linear(sample.routers[0], [[1.0, 0.0], [0.0, 0.0], [0.0, 0.0]],
               [0.0, 0.0, 0.0])
    tokens = torch.randn(B, M, N, D)
    weights = sample.routing_weights(tokens)
    # one omega per sample: softmax of FC(mean token)
    mean = tokens.reshape(B, M * N, D).mean(1)
    expected = torch.stack(
        [mean[:, 0], torch.zeros(B),
         torch.zeros(B)], -1).softmax(-1)
    for b in range(B):
        assert torch.allclose(
            weights[b].reshape(-1, E), expected[b].expand(M * N, E), atol=1e-6)


def test_gradients_reach_router_and_experts():
    torch.manual_seed(0)
    module = ContextSharedStructureExperts(embed_dims=D, num_experts=E)
    tokens = torch.randn(B, M, N, D, requires_grad=True)
    out = module(dict(proj_tokens=tokens))['next_structure']
    (out * torch.randn_like(out)).sum().backward()
    for param in (module.routers[0].weight, module.experts[1].mlp[0].weight,
                  module.experts[2].norm.weight):
        assert param.grad is not None and float(param.grad.abs().sum()) > 0


def test_declarations_equal_forward_and_errors():
    module = build()
    feats = dict(proj_tokens=torch.randn(B, M, N, D), proj_cls=torch.ones(1))
    recorder = FeatureAccessRecorder(feats)
    out = module(recorder)
    keys = get_feature_keys(module)
    assert recorder.accessed == set(keys.reads) == {'proj_tokens'}
    assert set(written_keys(feats, out)) == set(keys.writes)
    with pytest.raises(ValueError, match='M=3'):
        module(dict(proj_tokens=torch.randn(B, 2, N, D)))
    with pytest.raises(ValueError, match='routing'):
        ContextSharedStructureExperts(routing='expert')
