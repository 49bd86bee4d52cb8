# Copyright (c) mmreid_text contributors. All rights reserved.
import math
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from mmreid_text.models.necks import SpectralSemanticEmbedding
from mmreid_text.models.necks.deep_sse import FUSION_MODES
from mmreid_text.registry import MODELS

REPO = osp.dirname(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))


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
        fusion_temperature=1.0,
        fusion_mode='literal')  # Eq. 9 as printed (hand-computed below)
    cfg.update(kwargs)
    return SpectralSemanticEmbedding(**cfg)


def test_structure_attention_eq8_eq9_by_hand():
    sse = _sse()
    semantic, structure = sse.structure_attention(TEXT, TOKENS)
    (w_1, w_2), expected = _expected_structure()
    torch.testing.assert_close(semantic[0, 0], torch.tensor(w_1))
    torch.testing.assert_close(semantic[0, 1], torch.tensor(w_2))
    torch.testing.assert_close(structure[0], torch.tensor(expected))


@pytest.mark.parametrize('fusion_mode', FUSION_MODES)
def test_missing_spectrum_is_left_out_of_eq9(fusion_mode):
    sse = _sse(fusion_mode=fusion_mode)
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


def _wide_sse(**kwargs):
    """An SSE sized for ``_feats()`` (C=16, M=3, N=8), default tau and
    tau_f (``None``: sqrt(C))."""
    cfg = dict(
        embed_dims=16,
        num_heads=2,
        ffn_dims=32,
        num_patches=8,
        num_modalities=3,
        temperature=None,
        fusion_temperature=None)
    cfg.update(kwargs)
    return _sse(**cfg)


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
            sse = _wide_sse(mode=mode, pos_embed=pos_embed).eval()
            outputs[pos_embed, mode] = sse(feats)['embedded']
    torch.testing.assert_close(outputs[False, 'sse'], outputs[False,
                                                              'no_rearrange'])
    assert not torch.allclose(outputs[True, 'sse'], outputs[True,
                                                            'no_rearrange'])


def test_default_temperature_and_layer_sharing():
    sse = _wide_sse()
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


# ------------------------------------------------- Eq. 12 slot wiring
def _layer_norm(x: torch.Tensor) -> torch.Tensor:
    """LayerNorm with unit weight and zero bias, eps 1e-5, by hand."""
    mean = x.mean(dim=-1, keepdim=True)
    var = ((x - mean)**2).mean(dim=-1, keepdim=True)
    return (x - mean) / torch.sqrt(var + 1e-5)


def _silence_blocks(sse) -> None:
    """Zero the MSA output projection and the FFN output layer of every
    block: with residuals each block is then ``x -> LN(x)`` token by token,
    so every output slot is the normalised input of the same slot."""
    with torch.no_grad():
        for stack in sse.stacks:
            for block in stack:
                block.attn.out_proj.weight.zero_()
                block.attn.out_proj.bias.zero_()
                block.ffn[3].weight.zero_()
                block.ffn[3].bias.zero_()


def test_f_tilde_is_the_output_at_the_f_hat_slot_by_hand():
    """Eq. 12: the sequence is ``[f_hat, p_hat, v_hat]`` and ``f_tilde`` is
    the output at the ``f_hat`` slot, ``embedded_text`` the one at the
    ``p_hat`` slot. With blocks reduced to ``LN`` per token,
    ``f_tilde = LN(f_hat)`` and ``embedded_text = LN(p_m + W . v_m)`` (W
    from Eq. 8-9 by hand). Catches: the output read from the second token,
    ``p_hat`` and ``f_hat`` swapped in the input sequence, ``p`` instead of
    ``p_hat`` in the sequence."""
    # C = 3 (LayerNorm of a 2-vector is always +-1); the third channel of
    # the patches is 0, so Eq. 8-9 are those of TEXT / TOKENS above
    text = torch.cat([TEXT, torch.tensor([[[0.5], [-0.5]]])], dim=2)
    tokens = torch.cat([TOKENS, torch.zeros(1, 2, 3, 1)], dim=3)
    fused = torch.tensor([[[3., -1., 0.], [0.5, 2., 1.]]])  # f_hat
    sse = _sse(embed_dims=3, num_layers=2, pos_embed=False)
    _silence_blocks(sse)
    out = sse(dict(fused=fused, text=text, proj_tokens=tokens))
    _, structure = _expected_structure()
    text_hat = text.clone()
    for m in range(2):
        for j in range(3):
            text_hat[0, m] += structure[j] * tokens[0, m, j]
    norm = _layer_norm
    torch.testing.assert_close(out['embedded'], norm(norm(fused)))
    torch.testing.assert_close(out['embedded_text'], norm(norm(text_hat)))
    # the wrong slot or p instead of p_hat would give something else
    assert not torch.allclose(out['embedded'], out['embedded_text'])
    assert not torch.allclose(norm(text), norm(text_hat), atol=1e-3)


@pytest.mark.parametrize('share_layers', [True, False])
def test_eq12_sequence_order_and_output_slots(share_layers):
    """The real blocks, position embedding on: ``embedded`` / ``embedded_
    text`` equal the blocks applied to ``[f_hat, p_hat, v_hat] + pos`` at
    slots 0 / 1, for the shared stack and for one stack per spectrum.
    Catches a swapped sequence, the wrong output slot, the position
    embedding added to the wrong slots, and stack ``m`` applied to another
    spectrum."""
    torch.manual_seed(0)
    num_layers = 2 if share_layers else 1
    sse = _wide_sse(num_layers=num_layers, share_layers=share_layers).eval()
    with torch.no_grad():
        sse.pos_embed.normal_()  # make slot positions matter
    feats = _feats(seed=3)
    out = sse(feats)
    text_hat, tokens_hat, _, _ = sse.refine(feats['text'],
                                            feats['proj_tokens'], None)
    for m in range(3):
        hidden = torch.cat([
            feats['fused'][:, m, None], text_hat[:, m, None], tokens_hat[:, m]
        ],
                           dim=1) + sse.pos_embed
        stack = sse.stacks[0 if share_layers else m]
        for block in stack:
            hidden = block(hidden)
        torch.testing.assert_close(out['embedded'][:, m], hidden[:, 0])
        torch.testing.assert_close(out['embedded_text'][:, m], hidden[:, 1])


# ---------------------------------------- added after mutation testing
def test_eq8_eq9_temperatures_divide():
    """tau (Eq. 8) and tau_f (Eq. 9) divide the logits; with tau = tau_f =
    1 (the cases above) multiplying would pass unnoticed."""
    sse = _sse(temperature=2.0, fusion_temperature=0.25)
    semantic, structure = sse.structure_attention(TEXT, TOKENS)
    w_1 = _softmax([1., 0., 2.], 2.0)
    w_2 = _softmax([1., 3., 0.], 2.0)
    torch.testing.assert_close(semantic[0, 0], torch.tensor(w_1))
    expected = []
    for j in range(3):
        weights = _softmax([w_1[j], w_2[j]], 0.25)
        expected.append(weights[0] * w_1[j] + weights[1] * w_2[j])
    torch.testing.assert_close(structure[0], torch.tensor(expected))


def test_forward_uses_the_text_mask():
    """``feats['text_mask']`` reaches Eq. 9 through ``forward`` (and
    ``refine``): a missing spectrum is left out of ``W``."""
    sse = _sse()
    feats = dict(
        fused=torch.zeros(1, 2, 2),
        text=TEXT,
        proj_tokens=TOKENS,
        text_mask=torch.tensor([[True, False]]))
    out = sse(feats)
    (w_1, _), expected = _expected_structure((True, False))
    torch.testing.assert_close(out['structure_attention'][0],
                               torch.tensor(expected))
    full = sse(dict(feats, text_mask=torch.tensor([[True, True]])))
    assert not torch.allclose(full['structure_attention'],
                              out['structure_attention'])
    text_hat, _, _, _ = sse.refine(TEXT, TOKENS, feats['text_mask'])
    torch.testing.assert_close(text_hat[0, 0],
                               TEXT[0, 0] + torch.tensor(w_1) @ TOKENS[0, 0])


def test_defaults_are_the_paper_configuration():
    """The main DEEP config leaves these at their defaults: residual
    blocks without dropout, the slot position embedding (N + 2 slots,
    std 0.02), the presence mask under ``text_mask``."""
    torch.manual_seed(0)
    sse = SpectralSemanticEmbedding()
    assert sse.text_mask_key == 'text_mask'
    assert len(sse.stacks) == 1 and len(sse.stacks[0]) == 3
    for block in sse.stacks[0]:
        assert block.residual is True
        assert block.attn.dropout == 0.0
        assert block.attn.embed_dim == 512 and block.attn.num_heads == 8
        assert block.ffn[0].out_features == 2048
    assert sse.pos_embed.shape == (1, 130, 512)
    assert 0.015 < sse.pos_embed.std().item() < 0.025
    literal = _sse(residual=False, dropout=0.1)
    assert all(not b.residual and b.attn.dropout == 0.1
               for b in literal.stacks[0])


def test_constructor_limits():
    _sse(num_patches=1, num_layers=1)  # the smallest valid sizes
    with pytest.raises(ValueError, match='num_layers and num_patches'):
        _sse(num_layers=0)
    with pytest.raises(ValueError, match='num_layers and num_patches'):
        _sse(num_patches=0)
    for bad in (dict(temperature=0.0), dict(fusion_temperature=0.0)):
        with pytest.raises(ValueError, match='temperatures must be positive'):
            _sse(**bad)
    assert _sse(temperature=2.0, fusion_temperature=None).fusion_temperature \
        == 2.0


# ------------------------------- Eq. 9 readings (configs/deep/README.md #10)
def test_eq9_relative_reading_by_hand():
    """``fusion_mode='relative'``: the softmax over the spectra compares
    ``N * w_{m,j}`` (here N = 3), the multiplier stays ``w_{m,j}``; equal to
    the literal formula with ``tau_f / N``."""
    sse = _sse(fusion_mode='relative', fusion_temperature=2.0)
    _, structure = sse.structure_attention(TEXT, TOKENS)
    w_1 = _softmax([1., 0., 2.])
    w_2 = _softmax([1., 3., 0.])
    expected = []
    for j in range(3):
        weights = _softmax([3 * w_1[j], 3 * w_2[j]], 2.0)
        expected.append(weights[0] * w_1[j] + weights[1] * w_2[j])
    torch.testing.assert_close(structure[0], torch.tensor(expected))
    literal = _sse(fusion_mode='literal', fusion_temperature=2.0 / 3)
    torch.testing.assert_close(
        literal.structure_attention(TEXT, TOKENS)[1], structure)
    # patch 2: w = (0.665, 0.035); relative 0.97 / 0.03 vs literal 0.58
    weights = _softmax([3 * w_1[2], 3 * w_2[2]], 2.0)
    assert weights[0] > 0.7


def test_eq9_scores_reading_by_hand():
    """``fusion_mode='scores'``: the softmax over the spectra compares the
    unnormalised ``p_m . v_{p,m,j}`` of Eq. 8, the multiplier stays
    ``w``."""
    sse = _sse(fusion_mode='scores', fusion_temperature=0.5)
    _, structure = sse.structure_attention(TEXT, TOKENS)
    scores_1, scores_2 = [1., 0., 2.], [1., 3., 0.]
    w_1, w_2 = _softmax(scores_1), _softmax(scores_2)
    expected = []
    for j in range(3):
        weights = _softmax([scores_1[j], scores_2[j]], 0.5)
        expected.append(weights[0] * w_1[j] + weights[1] * w_2[j])
    torch.testing.assert_close(structure[0], torch.tensor(expected))


def _one_sharp_spectrum(embed_dims, num_patches, patch=5, seed=0):
    """Spectrum 0's prompt is aligned with patch ``patch`` (its Eq. 8 logit
    there is 4 above the others' mean), the prompts of spectra 1 and 2 are
    near zero (flat ``w``)."""
    gen = torch.Generator().manual_seed(seed)
    tokens = torch.randn(1, 3, num_patches, embed_dims, generator=gen)
    text = 1e-3 * torch.randn(1, 3, embed_dims, generator=gen)
    key = tokens[0, 0, patch]
    text[0, 0] = 4 * math.sqrt(embed_dims) * key / key.dot(key)
    fused = torch.randn(1, 3, embed_dims, generator=gen)
    return dict(fused=fused, text=text, proj_tokens=tokens)


@pytest.mark.parametrize('config', [
    'configs/deep/deep_vitb16_rgbnt201.py',
    'configs/deep/deep_tiny_synthetic_rgbnt201.py'
])
def test_shipped_eq9_lets_the_sharper_spectrum_dominate(config):
    """At the shipped settings (the SSE exactly as the config builds it),
    a spectrum whose attention is clearly sharper at a patch dominates the
    cross-spectral weights of Eq. 9 there, and ``W`` at that patch is well
    above the plain mean of the three ``w_m``. The literal reading with
    ``tau = sqrt(C)`` keeps every weight within about [0.32, 0.35] and
    fails."""
    from mmreid_text.utils import register_all_modules
    register_all_modules()
    cfg = Config.fromfile(osp.join(REPO, config))
    sse_cfg = [
        n for n in cfg.model.necks if n.type == 'SpectralSemanticEmbedding'
    ][0]
    torch.manual_seed(0)
    sse = MODELS.build(sse_cfg).eval()
    assert sse.fusion_mode == 'relative'
    patch = 5
    feats = _one_sharp_spectrum(sse.embed_dims, sse.num_patches, patch)
    scores = torch.einsum('bmc,bmnc->bmn', feats['text'], feats['proj_tokens'])
    semantic, structure = sse.structure_attention(feats['text'],
                                                  feats['proj_tokens'])
    # the input is as intended: spectrum 0 sharp at the patch, others flat
    assert semantic[0, 0, patch] > 0.2
    assert semantic[0, 1:].max() < 1.5 / sse.num_patches
    weights = sse.spectrum_weights(scores, semantic)[0, :, patch]
    assert weights[0] > 0.6, weights
    assert weights[0] > weights[1:].max() + 0.3, weights
    mean = semantic[0, :, patch].mean()
    assert structure[0, patch] > 1.5 * mean
    with torch.no_grad():
        out = sse(feats)
    torch.testing.assert_close(out['structure_attention'], structure)
    assert out['patch_order'][0, 0] == patch
    # the literal reading at the same settings is (near-)uniform: w <= 1
    # bounds every weight by e^(1/tau) / (e^(1/tau) + 2) (0.343 for
    # C = 512, 0.353 for the tiny C = 128)
    sse.fusion_mode = 'literal'
    literal = sse.spectrum_weights(scores, semantic)
    bound = math.exp(1 / sse.temperature)
    assert literal.max() <= bound / (bound + 2) < 0.36
    assert literal.min() > 0.31


def test_eq9_default_reading():
    """The class default and the base DEEP model config use the relative
    reading with one tau for Eq. 8 and 9."""
    assert SpectralSemanticEmbedding().fusion_mode == 'relative'
    base = Config.fromfile(
        osp.join(REPO, 'configs/_base_/models/deep_vitb16.py'))
    sse = base.model.necks[2]
    assert sse.fusion_mode == 'relative'
    assert sse.temperature is None and sse.fusion_temperature is None
    with pytest.raises(ValueError, match='fusion_mode must be one of'):
        _sse(fusion_mode='uniform')
