# Copyright (c) mmreid_text contributors. All rights reserved.
"""DEEPHead and the DEEP chain under the missing-modality protocols.

``missing_mode='input'`` (default, DEEP Tables XIII/XIV) blanks the images
only; ``'masked'`` also names the missing spectra in
``metainfo['missing_modalities']``, which the chain tests below set
directly."""
import pytest
import torch
import torch.nn.functional as F

import mmreid_text.models.heads.deep_head  # noqa: F401
from mmreid_text.models.text import TextEncoder
from mmreid_text.models.utils import modality_presence_mask, tiny_clip_arch
from mmreid_text.registry import MODELS
from mmreid_text.structures import ReIDDataSample
from mmreid_text.utils import register_all_modules

register_all_modules()
DIMS = 128  # clip-tiny: embed_dim = text width
MODALITIES = ('rgb', 'nir', 'tir')
IMG = (32, 16)  # clip-tiny patch 8: 4 x 2 grid


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


def _sgsf_cfg():
    return dict(
        type='SemanticGuidedSpectralFusion',
        embed_dims=DIMS,
        num_heads=2,
        ffn_dims=64)


def _sse_cfg(num_patches):
    """SSE config for ``num_patches`` (N) patch tokens per spectrum."""
    return dict(
        type='SpectralSemanticEmbedding',
        embed_dims=DIMS,
        num_heads=2,
        ffn_dims=64,
        num_layers=1,
        num_patches=num_patches)


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
        MODELS.build(_sgsf_cfg()),
        MODELS.build(_sse_cfg(num_patches=6)),
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


# ------------------------------------------------ retrieval normalisation
def test_per_block_norm_by_hand():
    """One spectrum, 2-d blocks. The visual block has norm 100, the text
    block norm 1. g1 has the query's visual feature and the opposite text,
    g2 the same text and a visual feature 36.87 deg away (cos = 0.8)."""
    feats = dict(
        embedded=torch.tensor([[[100., 0.]], [[100., 0.]], [[80., 60.]]]),
        text=torch.tensor([[[0., 1.]], [[0., -1.]], [[0., 1.]]]))
    kwargs = dict(in_channels=2, num_modalities=1, modalities=('rgb', ))
    glob = _head(**kwargs).eval()(feats)['retrieval']
    per_block = _head(
        retrieval_norm='per_block', **kwargs).eval()(feats)['retrieval']
    torch.testing.assert_close(
        glob, torch.cat([feats['embedded'][:, 0], feats['text'][:, 0]], dim=1))
    r = 2**-0.5
    torch.testing.assert_close(
        per_block,
        torch.tensor([[r, 0, 0, r], [r, 0, 0, -r], [0.8 * r, 0.6 * r, 0, r]]))
    torch.testing.assert_close(per_block.norm(dim=1), torch.ones(3))

    def squared_distances(x):  # ReIDMetric: L2-normalise, Euclidean
        x = F.normalize(x, dim=1)
        return (x[:1] - x[1:]).pow(2).sum(dim=1)

    # global: |q - g|^2 = 2 - 2 cos over the whole vector, cos(q, g1) =
    # (100^2 - 1) / (100^2 + 1), cos(q, g2) = (8000 + 1) / (100^2 + 1)
    torch.testing.assert_close(
        squared_distances(glob), torch.tensor([4 / 10001, 4000 / 10001]))
    # per block: each block gives half, 2 - (1 + cos_F) - ... = 2 and 0.2
    torch.testing.assert_close(
        squared_distances(per_block), torch.tensor([2.0, 0.2]))
    # the visual block decides under 'global' (g1 first), not per block
    assert squared_distances(glob).argmin() == 0
    assert squared_distances(per_block).argmin() == 1


def test_retrieval_norm_errors():
    with pytest.raises(ValueError, match="'global', 'per_block'"):
        _head(retrieval_norm='l2')
    with pytest.raises(ValueError, match='text_key=None'):
        _head(retrieval_norm='per_block', text_key=None)


def test_per_block_keeps_missing_slots_zero():
    head = _head(retrieval_norm='per_block').eval()
    feats = dict(
        embedded=torch.randn(2, 3, DIMS), text=torch.randn(2, 3, DIMS))
    out = head(feats, _samples(2, ('nir', )))['retrieval']
    text = out[:, 3 * DIMS:].view(2, 3, DIMS)
    assert text[:, 1].abs().sum() == 0
    torch.testing.assert_close(
        text.flatten(1).norm(dim=1), torch.full((2, ), 2**-0.5))
    torch.testing.assert_close(
        text[:, 0],
        F.normalize(feats['text'][:, [0, 2]].flatten(1))[:, :DIMS] * 2**-0.5)


# --------------------------------------- input vs masked, the whole model
@pytest.fixture(scope='module')
def deep_model():
    torch.manual_seed(0)
    model = MODELS.build(
        dict(
            type='ReIDModel',
            data_preprocessor=dict(type='ReIDDataPreprocessor'),
            backbone=dict(
                type='CLIPVisionBackbone',
                arch=tiny_clip_arch('vit'),
                img_size=IMG),
            text_encoder=dict(
                type='TextEncoder', arch=tiny_clip_arch('vit'), frozen=True),
            necks=[
                dict(
                    type='SpectralInversionPrompt',
                    embed_dims=DIMS,
                    token_dims=DIMS,
                    num_spectral_tokens=2,
                    inversion=dict(hidden_dims=DIMS),
                    trim_context=True),
                _sgsf_cfg(),
                _sse_cfg(num_patches=8),
            ],
            head=dict(
                type='DEEPHead',
                in_key='embedded',
                in_channels=DIMS,
                num_classes=4)))
    return model.eval()


def _raw_batch(batch=4):
    gen = torch.Generator().manual_seed(3)
    return dict(
        inputs=[
            torch.randint(
                0, 256, (3, 3, *IMG), generator=gen, dtype=torch.uint8)
            for _ in range(batch)
        ],
        data_samples=[
            ReIDDataSample(metainfo=dict(pid=i // 2, modalities=MODALITIES))
            for i in range(batch)
        ])


def _run(model, missing=(), mode='input', blank_by_hand=()):
    """Test-time outputs; ``blank_by_hand`` sets the normalised images of
    those spectra to 0 after the preprocessor, with no protocol."""
    pre = model.data_preprocessor
    pre.missing_modalities, pre.missing_mode = tuple(missing), mode
    try:
        data = pre(_raw_batch(), training=False)
    finally:
        pre.missing_modalities, pre.missing_mode = (), 'input'
    inputs = data['inputs']
    for name in blank_by_hand:
        inputs[:, MODALITIES.index(name)] = 0.0  # normalised 0 = mean grey
    with torch.no_grad():
        return model(inputs, data['data_samples'], mode='tensor')


def test_input_mode_is_the_model_on_zero_images(deep_model):
    """Default protocol = the unchanged model on a batch whose missing
    spectra's (normalised) images are zeros, feature for feature."""
    for missing in (('nir', ), ('rgb', 'tir')):
        protocol = _run(deep_model, missing)
        by_hand = _run(deep_model, blank_by_hand=missing)
        for key in ('text', 'text_mask', 'embedded', 'retrieval'):
            assert torch.equal(protocol[key], by_hand[key]), (missing, key)
        assert protocol['text_mask'].all()
        full = _run(deep_model)
        assert not torch.equal(protocol['retrieval'], full['retrieval'])


def test_masked_mode_differs_from_input_mode(deep_model):
    input_mode = _run(deep_model, ('nir', ))
    masked = _run(deep_model, ('nir', ), mode='masked')
    assert masked['text_mask'].tolist() == [[True, False, True]] * 4
    text = masked['retrieval'][:, 3 * DIMS:].view(4, 3, DIMS)
    assert text[:, 1].abs().sum() == 0
    # the blank NIR image still gives a (non-zero) prompt in input mode
    assert input_mode['retrieval'][:, 3 * DIMS:].view(4, 3,
                                                      DIMS)[:,
                                                            1].abs().sum() > 0
    # the masked NIR prompt leaves Eq. 9, so W and f_tilde change too
    assert not torch.allclose(masked['embedded'], input_mode['embedded'])
    # the present spectra's prompts are the same in both modes
    torch.testing.assert_close(text[:, [0, 2]], input_mode['text'][:, [0, 2]])


def test_masked_mode_is_zero_images_plus_metainfo(deep_model):
    """Masked = blank images and ``missing_modalities`` in the metainfo (the
    protocol before input mode existed), bit for bit."""
    masked = _run(deep_model, ('tir', ), mode='masked')
    pre = deep_model.data_preprocessor
    data = pre(_raw_batch(), training=False)
    data['inputs'][:, 2] = 0.0
    for sample in data['data_samples']:
        sample.set_metainfo(dict(missing_modalities=('tir', )))
    with torch.no_grad():
        by_hand = deep_model(
            data['inputs'], data['data_samples'], mode='tensor')
    for key in ('text', 'text_mask', 'embedded', 'retrieval'):
        assert torch.equal(masked[key], by_hand[key]), key
