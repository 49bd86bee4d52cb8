# Copyright (c) mmreid_text contributors. All rights reserved.
"""DEEPHead and the DEEP chain under the missing-modality protocol."""
import pytest
import torch

import mmreid_text.models.heads.deep_head  # noqa: F401
from mmreid_text.models.text import TextEncoder
from mmreid_text.models.utils import modality_presence_mask, tiny_clip_arch
from mmreid_text.registry import MODELS
from mmreid_text.structures import ReIDDataSample

DIMS = 128  # clip-tiny: embed_dim = text width
MODALITIES = ('rgb', 'nir', 'tir')


def _samples(batch, missing=None):
    meta = [dict(pid=i // 2, modalities=MODALITIES) for i in range(batch)]
    if missing is not None:
        for m in meta:
            m['missing_modalities'] = tuple(missing)
    return [ReIDDataSample(metainfo=m) for m in meta]


def _head(**kwargs):
    cfg = dict(type='DEEPHead', in_channels=DIMS, num_classes=4)
    cfg.update(kwargs)
    return MODELS.build(cfg)


def test_presence_mask():
    mask = modality_presence_mask(
        _samples(2, ('nir', 'tir')), MODALITIES, 2, torch.device('cpu'))
    assert mask.tolist() == [[True, False, False]] * 2
    assert modality_presence_mask(None, MODALITIES, 3,
                                  torch.device('cpu')).all()
    with pytest.raises(ValueError, match="'ir'"):
        modality_presence_mask(
            _samples(1, ('ir', )), MODALITIES, 1, torch.device('cpu'))


def test_retrieval_is_visual_then_text_and_missing_slots_are_zero():
    head = _head().eval()
    feats = dict(
        embedded=torch.randn(2, 3, DIMS), text=torch.randn(2, 3, DIMS))
    out = head(feats, _samples(2))
    assert out['retrieval'].shape == (2, 6 * DIMS)
    torch.testing.assert_close(
        out['retrieval'],
        torch.cat([feats['embedded'].flatten(1), feats['text'].flatten(1)],
                  dim=1))
    missing = head(feats, _samples(2, ('rgb', 'tir')))['retrieval']
    text_part = missing[:, 3 * DIMS:].view(2, 3, DIMS)
    assert text_part[:, [0, 2]].abs().sum() == 0
    torch.testing.assert_close(text_part[:, 1], feats['text'][:, 1])
    torch.testing.assert_close(missing[:, :3 * DIMS],
                               out['retrieval'][:, :3 * DIMS])
    no_text = _head(text_key=None).eval()
    assert no_text(feats, _samples(2))['retrieval'].shape == (2, 3 * DIMS)


def test_training_outputs_and_label_check():
    head = _head().train()
    feats = dict(
        embedded=torch.randn(4, 3, DIMS), text=torch.randn(4, 3, DIMS))
    out = head(feats, _samples(4))
    assert out['logits'].shape == (4, 4)
    assert out['global_feat'].shape == (4, 3 * DIMS)
    samples = [
        ReIDDataSample(metainfo=dict(pid=p, modalities=MODALITIES))
        for p in (0, 0, 9, 9)
    ]
    with pytest.raises(ValueError, match='num_classes=4'):
        head(feats, samples)


@pytest.fixture(scope='module')
def chain():
    torch.manual_seed(0)
    encoder = TextEncoder(arch=tiny_clip_arch())
    dsp = MODELS.build(
        dict(
            type='SpectralInversionPrompt',
            embed_dims=DIMS,
            token_dims=DIMS,
            in_key='inversion_input',
            inversion=dict(hidden_dims=16)))
    dsp.set_text_encoder(encoder)
    necks = [
        dsp,
        MODELS.build(
            dict(
                type='SemanticGuidedSpectralFusion',
                embed_dims=DIMS,
                num_heads=2,
                ffn_dims=64)),
        MODELS.build(
            dict(
                type='SpectralSemanticEmbedding',
                embed_dims=DIMS,
                num_heads=2,
                ffn_dims=64,
                num_layers=1,
                num_patches=6)),
    ]
    head = _head()
    for module in (*necks, head):
        module.eval()
    return necks, head


def _retrieval(chain, feats, samples):
    necks, head = chain
    with torch.no_grad():
        for neck in necks:
            feats = neck(feats, samples)
        return head(feats, samples)['retrieval']


def test_nothing_from_a_missing_spectrums_prompt_reaches_the_feature(chain):
    gen = torch.Generator().manual_seed(1)
    cls = torch.randn(2, 3, DIMS, generator=gen)
    feats = dict(
        proj_cls=cls,
        inversion_input=cls.clone(),
        proj_tokens=torch.randn(2, 3, 6, DIMS, generator=gen),
        grid=(3, 2))
    # the inversion input of NIR and its spectral tokens change, nothing
    # else: the prompt path of NIR is the only thing that differs
    changed = dict(feats, inversion_input=cls.clone())
    changed['inversion_input'][:, 1] += 3.0
    dsp = chain[0][0]
    tokens = dsp.spectral_tokens.detach().clone()
    for missing, same in ((('nir', ), True), ((), False)):
        before = _retrieval(chain, feats, _samples(2, missing))
        with torch.no_grad():
            dsp.spectral_tokens[1] += 1.0
        after = _retrieval(chain, changed, _samples(2, missing))
        with torch.no_grad():
            dsp.spectral_tokens.copy_(tokens)
        assert torch.equal(before, after) == same, missing
        assert before.shape == (2, 6 * DIMS)
