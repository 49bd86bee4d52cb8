# Copyright (c) mmreid_text contributors. All rights reserved.
"""NEXT TMSE (Eq. 2-7): hand-set routers, the switches of Tables VI / VII
and "w/o Text", gradients through the mask, the feature contract."""
import pytest
import torch
from torch import nn

from mmreid_text.models.necks.next_tmse import TextModulatedSemanticExperts
from mmreid_text.models.utils.feature_contract import (FeatureAccessRecorder,
                                                       get_feature_keys,
                                                       written_keys)
from mmreid_text.structures import ReIDDataSample

B, M, N, D, E = 2, 3, 4, 4, 3


def set_linear(layer: nn.Linear, weight, bias):
    with torch.no_grad():
        layer.weight.copy_(torch.as_tensor(weight, dtype=torch.float))
        layer.bias.copy_(torch.as_tensor(bias, dtype=torch.float))


def identity_experts(module):
    """E_t(x) = x: zero output layer of every expert MLP."""
    for expert in module.experts:
        set_linear(expert.mlp[3], torch.zeros(D, D), torch.zeros(D))


def hand_routers(module, signs=None):
    """alpha = relu-ish score of token channel 0 (times the modality's
    sign), sigma = the class token's score under the same MLP, modulation
    gamma = alpha + 10 * GELU(beta) (FC3 reads beta only)."""
    for e, per_expert in enumerate(module.routers):
        for j, router in enumerate(per_expert):
            sign = 1.0 if signs is None else signs[j]
            w1 = torch.zeros(D, D)
            w1[0, 0] = sign
            set_linear(router.route_mlp[0], w1, torch.zeros(D))
            w2 = torch.zeros(1, D)
            w2[0, 0] = 1.0
            set_linear(router.route_mlp[2], w2, [0.0])
            if router.modulation is not None:
                hidden = router.modulation[0].out_features
                w3 = torch.zeros(hidden, 2)
                w3[0, 1] = 1.0
                set_linear(router.modulation[0], w3, torch.zeros(hidden))
                w4 = torch.zeros(1, hidden)
                w4[0, 0] = 10.0
                set_linear(router.modulation[2], w4, [0.0])


def build(**kwargs):
    kwargs.setdefault('embed_dims', D)
    kwargs.setdefault('num_experts', E)
    module = TextModulatedSemanticExperts(**kwargs).eval()
    identity_experts(module)
    if module.routers is not None:
        hand_routers(module)
    return module


def tokens_with_channel0(values):
    """tokens [B, M, N, D] whose channel 0 is ``values`` [B, M, N]."""
    tokens = torch.zeros(B, M, N, D)
    tokens[..., 0] = torch.as_tensor(values, dtype=torch.float)
    tokens[..., 1] = 0.5  # non-zero norm for the cosine
    return tokens


def base_feats(text=True):
    values = [[[2.0, 0.5, 1.5, -1.0]] * M, [[0.2, 0.1, 3.0, 1.0]] * M]
    cls = torch.zeros(B, M, D)
    cls[..., 0] = 1.0  # sigma = GELU(1) for every sample and modality
    feats = dict(proj_tokens=tokens_with_channel0(values), proj_cls=cls)
    if text:
        feats['next_text'] = torch.zeros(B, E, M, D)
        feats['next_text'][..., 3] = 1.0  # orthogonal to every token
        feats['next_text_valid'] = torch.zeros(B, E, M, dtype=torch.bool)
    return feats


def test_dynamic_threshold_mask_and_eq7_by_hand():
    """Without valid text gamma = alpha = GELU(t0); kept iff t0 > 1 (the
    class token's score); F_hat = Concat(M * E(F)) with E = identity."""
    module = build()
    feats = base_feats()
    out = module(feats)
    expected = torch.tensor([[1., 0., 1., 0.], [0., 0., 1., 0.]])
    mask = out['next_semantic_mask']
    assert mask.shape == (B, E, M, N)
    assert torch.equal(mask, expected[:, None, None].expand(B, E, M, N))
    selected = out['next_semantic']
    assert selected.shape == (B, E, M * N, D)
    manual = (feats['proj_tokens'] * expected[:, None, :, None]).reshape(
        B, M * N, D)
    for e in range(E):
        assert torch.allclose(selected[:, e], manual)
    scalars = module.expert_stats_scalars()
    assert scalars['e1_rgb_tokens'] == 1.5  # (2 + 1) / 2 samples
    assert scalars['e3_tir_text'] == 0.0


def test_text_modulation_changes_selection():
    """beta = cos(text, token) = 1 for a text aligned with one token: gamma
    = alpha + 10 GELU(1) exceeds sigma, so that token is now kept."""
    module = build()
    feats = base_feats()
    feats['next_text'] = torch.zeros(B, E, M, D)
    feats['next_text'][:, 1, :, 0] = -1.0  # expert 2: cos = -1 with t0 > 0
    feats['next_text'][:, 1, :, 1] = 0.0
    # expert 1: aligned with token 1 of sample 0 ([0.5, 0.5, 0, 0])
    feats['next_text'][:, 0, :, 0] = 0.5
    feats['next_text'][:, 0, :, 1] = 0.5
    feats['next_text_valid'] = torch.ones(B, E, M, dtype=torch.bool)
    mask = module(feats)['next_semantic_mask']
    # sample 0, t0 = [2, .5, 1.5, -1], sigma = GELU(1) = 0.84. Expert 1:
    # beta = cos([t0, .5], [.5, .5]) = [.86, 1, .89, -.32], gamma = GELU(t0)
    # + 10 GELU(beta): token 1 (alpha .35 alone < sigma) is now kept
    assert mask[0, 0, 0].tolist() == [1.0, 1.0, 1.0, 0.0]
    # expert 2: beta = -t0 / |t| = [-.97, -.71, -.95, .89]: 10 GELU(beta)
    # = [-1.6, -1.7, -1.6, 6.9] flips the selection to the last token
    assert mask[0, 1, 0].tolist() == [0.0, 0.0, 0.0, 1.0]
    # invalid text for expert 1 of sample 0 only: back to alpha
    feats['next_text_valid'][0, 0] = False
    mask2 = module(feats)['next_semantic_mask']
    assert mask2[0, 0, 0].tolist() == [1.0, 0.0, 1.0, 0.0]
    assert torch.equal(mask2[1], mask[1])


def test_without_text_equals_model_without_modulation():
    """'NEXT w/o Text': all text invalid with no_text_mode='alpha' gives
    the same output as a model built without text (same weights)."""
    with_text = build()
    without = build(text_key=None)
    assert without.reads == ('proj_tokens', 'proj_cls')
    assert all(r.modulation is None for rs in without.routers for r in rs)
    missing = without.load_state_dict(with_text.state_dict(), strict=False)
    assert all('modulation' in k for k in missing.unexpected_keys)
    feats = base_feats()
    a = with_text(feats)
    b = without({k: v for k, v in feats.items() if 'text' not in k})
    assert torch.equal(a['next_semantic'], b['next_semantic'])
    # zero_beta runs the modulation with beta = 0: 10 GELU(0) = 0 here, so
    # a bias in FC4 shows the difference
    zero = build(no_text_mode='zero_beta')
    for rs in zero.routers:
        for r in rs:
            r.modulation[2].bias.data.fill_(-5.0)
    assert zero(feats)['next_semantic_mask'].sum() == 0


def test_router_sharing_modality_specific_vs_shared():
    specific = build()
    assert len(specific.routers) == E
    assert all(len(r) == M for r in specific.routers)
    hand_routers(specific, signs=[1.0, -1.0, 1.0])  # NIR router flipped
    mask = specific(base_feats())['next_semantic_mask']
    # the NIR router scores GELU(-t0) against sigma = GELU(-1) = -0.159:
    # kept unless t0 = 1 (sample 1, token 3); RGB / TIR as before
    nir = torch.tensor([[1., 1., 1., 1.], [1., 1., 1., 0.]])
    assert torch.equal(mask[:, :, 1], nir[:, None].expand(B, E, N))
    assert mask[:, :, 0].sum() > 0 and torch.equal(mask[:, :, 0], mask[:, :,
                                                                       2])
    shared = build(router_sharing='shared')
    assert all(len(r) == 1 for r in shared.routers)
    assert shared.router(0, 2) is shared.router(0, 0)
    mask = shared(base_feats())['next_semantic_mask']
    assert torch.equal(mask[:, :, 0], mask[:, :, 1])
    params = sum(p.numel() for p in shared.parameters())
    assert params < sum(p.numel() for p in specific.parameters())


def test_sampling_strategies_table_vi():
    feats = base_feats()
    fixed = build(threshold_mode='fixed', fixed_threshold=0.0)
    # GELU(t0) > 0 iff t0 > 0
    assert fixed(feats)['next_semantic_mask'][0, 0, 0].tolist() == [
        1.0, 1.0, 1.0, 0.0
    ]
    assert all(r.threshold_mlp is None for rs in fixed.routers for r in rs)
    topk = build(threshold_mode='topk', topk_ratio=0.5)
    mask = topk(feats)['next_semantic_mask']
    assert bool((mask.sum(-1) == 2).all())
    assert mask[1, 0, 0].tolist() == [0.0, 0.0, 1.0, 1.0]
    everything = build(threshold_mode='all')
    assert everything.routers is None and everything.reads == ('proj_tokens', )
    out = everything({'proj_tokens': feats['proj_tokens']})
    assert bool((out['next_semantic_mask'] == 1).all())
    dynamic = build()(feats)['next_semantic_mask']
    assert not torch.equal(dynamic, mask)


@pytest.mark.parametrize('grad_mode', ['ste', 'sigmoid'])
@pytest.mark.parametrize('share', [True, False])
def test_gradients_reach_routers_threshold_and_modulation(grad_mode, share):
    torch.manual_seed(0)
    module = TextModulatedSemanticExperts(
        embed_dims=D,
        num_experts=E,
        grad_mode=grad_mode,
        share_threshold_mlp=share).train()
    feats = dict(
        proj_tokens=torch.randn(B, M, N, D, requires_grad=True),
        proj_cls=torch.randn(B, M, D, requires_grad=True),
        next_text=torch.randn(B, E, M, D),
        next_text_valid=torch.ones(B, E, M, dtype=torch.bool))
    out = module(feats)
    mask = out['next_semantic_mask']
    if grad_mode == 'ste':
        assert bool(((mask == 0) | (mask == 1)).all())
    else:
        assert bool(((mask > 0) & (mask < 1)).all())
    (out['next_semantic'] *
     torch.randn_like(out['next_semantic'])).sum().backward()
    router = module.routers[0][0]
    parts = [router.route_mlp[0].weight, router.modulation[0].weight]
    if not share:
        parts.append(router.threshold_mlp[0].weight)
    for param in parts + [module.experts[0].mlp[0].weight]:
        assert param.grad is not None and float(param.grad.abs().sum()) > 0
    assert float(feats['proj_cls'].grad.abs().sum()) > 0  # via sigma


def test_sigmoid_mode_is_hard_at_test():
    module = build(grad_mode='sigmoid')
    mask = module(base_feats())['next_semantic_mask']
    assert bool(((mask == 0) | (mask == 1)).all())


def test_missing_modality_selects_nothing_in_masked_protocol():
    module = build(threshold_mode='all')
    samples = [
        ReIDDataSample(
            metainfo=dict(
                modalities=('rgb', 'nir',
                            'tir'), missing_modalities=('nir', )))
        for _ in range(B)
    ]
    mask = module(base_feats(False), samples)['next_semantic_mask']
    assert mask[:, :, 1].sum() == 0 and bool((mask[:, :, 0] == 1).all())
    assert module.expert_stats_scalars()['e1_nir_tokens'] == 0.0
    off = build(threshold_mode='all', mask_missing_modalities=False)
    assert bool((off(base_feats(False),
                     samples)['next_semantic_mask'] == 1).all())


def test_declarations_equal_forward():
    for kwargs in (dict(), dict(text_key=None), dict(threshold_mode='all'),
                   dict(similarity_tokens_key='tokens')):
        module = build(**kwargs)
        feats = base_feats(text=kwargs.get('text_key', 1) is not None)
        feats['tokens'] = feats['proj_tokens'].clone()
        recorder = FeatureAccessRecorder(feats)
        out = module(recorder)
        keys = get_feature_keys(module)
        assert recorder.accessed == set(keys.reads), kwargs
        assert set(written_keys(feats, out)) == set(keys.writes)


def test_errors_name_the_problem():
    module = build()
    feats = base_feats()
    feats['next_text'] = torch.zeros(B, E + 1, M, D)
    with pytest.raises(ValueError, match='num_experts'):
        module(feats)
    feats = base_feats()
    feats['next_text'] = torch.zeros(B, E, M, D + 1)
    with pytest.raises(ValueError, match='similarity_tokens_key'):
        module(feats)
    with pytest.raises(ValueError, match='threshold_mode'):
        TextModulatedSemanticExperts(threshold_mode='median')
    with pytest.raises(ValueError, match='router_sharing'):
        TextModulatedSemanticExperts(router_sharing='none')
