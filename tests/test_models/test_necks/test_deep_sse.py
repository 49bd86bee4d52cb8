# Copyright (c) mmreid_text contributors. All rights reserved.
import math

import pytest
import torch

from mmreid_text.models.necks import SpectralSemanticEmbedding
from mmreid_text.registry import MODELS


def _softmax(values, temperature=1.0):
    exps = [math.exp(v / temperature) for v in values]
    return [e / sum(exps) for e in exps]


# B=1, M=2 spectra, N=3 patches, C=2
TEXT = torch.tensor([[[1., 0.], [0., 1.]]])
TOKENS = torch.tensor([[[[1., 0.], [0., 0.], [2., 0.]],
                        [[0., 1.], [0., 3.], [0., 0.]]]])


def _expected_structure(present=(True, True)):
    """Eq. 8-9 by hand with tau = tau_f = 1."""
    w_1 = _softmax([1., 0., 2.])  # p_1 . v_1j
    w_2 = _softmax([1., 3., 0.])  # p_2 . v_2j
    structure = []
    for j in range(3):
        candidates = [w[j] for w, p in zip((w_1, w_2), present) if p]
        weights = _softmax(candidates)
        structure.append(sum(a * w for a, w in zip(weights, candidates)))
    return (w_1, w_2), structure


def _sse(**kwargs):
    cfg = dict(
        embed_dims=2,
        num_heads=1,
        ffn_dims=4,
        num_layers=1,
        num_patches=3,
        num_modalities=2,
        temperature=1.0,
        fusion_temperature=1.0)
    cfg.update(kwargs)
    return SpectralSemanticEmbedding(**cfg)


def test_structure_attention_eq8_eq9_by_hand():
    sse = _sse()
    semantic, structure = sse.structure_attention(TEXT, TOKENS)
    (w_1, w_2), expected = _expected_structure()
    torch.testing.assert_close(semantic[0, 0], torch.tensor(w_1))
    torch.testing.assert_close(semantic[0, 1], torch.tensor(w_2))
    torch.testing.assert_close(structure[0], torch.tensor(expected))


def test_missing_spectrum_is_left_out_of_eq9():
    sse = _sse()
    present = torch.tensor([[True, False]])
    _, structure = sse.structure_attention(TEXT, TOKENS, present)
    (w_1, _), expected = _expected_structure((True, False))
    torch.testing.assert_close(structure[0], torch.tensor(w_1))
    torch.testing.assert_close(structure[0], torch.tensor(expected))
    with pytest.raises(ValueError, match='at least one present'):
        sse.structure_attention(TEXT, TOKENS, torch.tensor([[False, False]]))


def test_refine_eq10_eq11_by_hand():
    sse = _sse()
    text_hat, tokens_hat, structure, order = sse.refine(TEXT, TOKENS, None)
    _, expected = _expected_structure()
    expected_order = sorted(range(3), key=lambda j: -expected[j])
    assert order[0].tolist() == expected_order
    # Eq. 10: same permutation for every spectrum, no token dropped
    for m in range(2):
        torch.testing.assert_close(tokens_hat[0, m], TOKENS[0, m,
                                                            expected_order])
    # Eq. 11: p_hat_m = sum_j W_j v_mj + p_m
    for m in range(2):
        manual = TEXT[0, m].clone()
        for j in range(3):
            manual += expected[j] * TOKENS[0, m, j]
        torch.testing.assert_close(text_hat[0, m], manual)


@pytest.mark.parametrize('mode', ['no_rearrange', 'mean_pool', 'no_refine'])
def test_table_xi_variants(mode):
    sse = _sse(mode=mode)
    text_hat, tokens_hat, structure, order = sse.refine(TEXT, TOKENS, None)
    assert order[0].tolist() == [0, 1, 2]
    torch.testing.assert_close(tokens_hat, TOKENS)
    if mode == 'no_refine':
        torch.testing.assert_close(text_hat, TEXT)
    elif mode == 'mean_pool':
        torch.testing.assert_close(text_hat, TEXT + TOKENS.mean(dim=2))
    else:
        _, expected = _expected_structure()
        torch.testing.assert_close(structure[0], torch.tensor(expected))


def _feats(batch=2, modalities=3, patches=8, dims=16, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return dict(
        fused=torch.randn(batch, modalities, dims, generator=gen),
        text=torch.randn(batch, modalities, dims, generator=gen),
        proj_tokens=torch.randn(
            batch, modalities, patches, dims, generator=gen),
        grid=(4, 2))


def test_forward_shapes_and_gradients():
    sse = MODELS.build(
        dict(
            type='SpectralSemanticEmbedding',
            embed_dims=16,
            num_heads=2,
            ffn_dims=32,
            num_layers=2,
            num_patches=8))
    feats = _feats()
    for key in ('fused', 'text', 'proj_tokens'):
        feats[key].requires_grad_(True)
    out = sse(feats)
    assert out['embedded'].shape == (2, 3, 16)
    assert out['embedded_text'].shape == (2, 3, 16)
    assert out['structure_attention'].shape == (2, 8)
    assert sorted(out['patch_order'][0].tolist()) == list(range(8))
    (out['embedded'].sum() + out['embedded_text'].sum()).backward()
    for key in ('fused', 'text', 'proj_tokens'):
        assert feats[key].grad.abs().sum() > 0, key
    for name, param in sse.named_parameters():
        assert param.grad is not None, name


def test_rearrangement_needs_positions():
    """MSA is permutation-equivariant: without slot positions Eq. 10 would
    not change f_tilde; with them it does."""
    feats = _feats(seed=1)
    outputs = {}
    for pos_embed in (False, True):
        for mode in ('sse', 'no_rearrange'):
            torch.manual_seed(0)
            sse = _sse(
                embed_dims=16,
                num_heads=2,
                ffn_dims=32,
                num_patches=8,
                num_modalities=3,
                temperature=None,
                fusion_temperature=None,
                mode=mode,
                pos_embed=pos_embed).eval()
            outputs[pos_embed, mode] = sse(feats)['embedded']
    torch.testing.assert_close(outputs[False, 'sse'], outputs[False,
                                                              'no_rearrange'])
    assert not torch.allclose(outputs[True, 'sse'], outputs[True,
                                                            'no_rearrange'])


def test_default_temperature_and_layer_sharing():
    sse = _sse(
        embed_dims=16,
        num_heads=2,
        ffn_dims=32,
        num_patches=8,
        temperature=None,
        fusion_temperature=None)
    assert sse.temperature == sse.fusion_temperature == 4.0
    common = dict(embed_dims=16, num_heads=2, ffn_dims=32, num_modalities=3)
    shared = _sse(num_layers=3, **common)
    separate = _sse(num_layers=1, share_layers=False, **common)

    def count(module):
        return sum(p.numel() for p in module.stacks.parameters())

    assert count(shared) == count(separate)  # 1 stack x 3 = 3 stacks x 1
    out = separate(_feats(patches=3))
    assert out['embedded'].shape == (2, 3, 16)


def test_bad_inputs():
    with pytest.raises(ValueError, match='mode'):
        _sse(mode='rearrange')
    sse = _sse(embed_dims=16, num_heads=2, ffn_dims=32, num_patches=8)
    with pytest.raises(ValueError, match='num_patches'):
        sse(_feats(modalities=2, patches=5))
    with pytest.raises(ValueError, match='M=2'):
        sse(_feats(modalities=3))
    feats = _feats(modalities=2)
    del feats['text']
    with pytest.raises(KeyError, match='text'):
        sse(feats)
