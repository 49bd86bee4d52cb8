# Copyright (c) mmreid_text contributors. All rights reserved.
import pytest
import torch

from mmreid_text.models.text import TextEncoder
from mmreid_text.models.text.prompt_learners import (InversionNetwork,
                                                     SpectralInversionPrompt)
from mmreid_text.models.utils import tiny_clip_arch
from mmreid_text.registry import MODELS
from mmreid_text.structures import ReIDDataSample

DIMS = 128  # clip-tiny: text width = embed_dim = 128
MODALITIES = ('rgb', 'nir', 'tir')


@pytest.fixture(scope='module')
def encoder():
    torch.manual_seed(0)
    return TextEncoder(arch=tiny_clip_arch())


def _prompt(encoder, **kwargs):
    cfg = dict(
        type='SpectralInversionPrompt',
        embed_dims=DIMS,
        token_dims=DIMS,
        inversion=dict(hidden_dims=16))
    cfg.update(kwargs)
    prompt = MODELS.build(cfg)
    prompt.set_text_encoder(encoder)
    return prompt


def _word_embedding(encoder, word):
    ids = encoder.tokenize(word)
    assert int(ids[0, 2]) == encoder.eot_token_id, f'{word} is not 1 token'
    return encoder.embed_tokens(ids)[0, 1].detach()


def _samples(batch, missing=()):
    return [
        ReIDDataSample(
            metainfo=dict(
                pid=i // 2, modalities=MODALITIES, missing_modalities=missing))
        for i in range(batch)
    ]


def test_placeholders_located_by_token_id(encoder):
    prompt = _prompt(encoder)
    assert prompt.prompt_text == 'A X X X X photo of a X person.'
    assert prompt.spectral_positions.tolist() == [2, 3, 4, 5]
    assert prompt.content_positions.tolist() == [9]
    x_id = encoder.word_token_id('X')
    for pos in [*prompt.spectral_positions, *prompt.content_positions]:
        assert int(prompt.token_ids[pos]) == x_id
    # other counts / another slot order: positions follow the tokens
    prompt = _prompt(
        encoder,
        num_spectral_tokens=2,
        num_content_tokens=3,
        class_name='vehicle',
        template='a {content} {class_name} seen in {spectral} light.')
    assert prompt.prompt_text == 'a X X X vehicle seen in X X light.'
    assert prompt.content_positions.tolist() == [2, 3, 4]
    assert prompt.spectral_positions.tolist() == [8, 9]


@pytest.mark.parametrize('trim_context', [False, True])
def test_spliced_prompt_equals_the_written_sentence(encoder, trim_context):
    """S_m := embedding('red'), S* := embedding('tall') -> p_m must equal
    the text encoder's feature of "A red photo of a tall person."."""
    prompt = _prompt(
        encoder, num_spectral_tokens=1, trim_context=trim_context).eval()
    with torch.no_grad():
        prompt.spectral_tokens.copy_(
            _word_embedding(encoder, 'red').expand(3, 1, DIMS))
        last = prompt.content_inverter.mlp[-1]
        last.weight.zero_()
        last.bias.zero_()
        prompt.content_inverter.norm.bias.copy_(
            _word_embedding(encoder, 'tall'))
    feats = dict(proj_cls=torch.randn(2, 3, DIMS))
    out = prompt(feats, _samples(2))
    with torch.no_grad():
        expected = encoder.encode_text('A red photo of a tall person.')[0]
    assert out['text'].shape == (2, 3, DIMS)
    torch.testing.assert_close(out['text'], expected.expand(2, 3, DIMS))
    assert out['text_mask'].all()


def test_fixed_template_is_the_plain_sentence(encoder):
    prompt = _prompt(encoder, spectral_prompt='none', content_prompt='none')
    assert prompt.prompt_text == 'A photo of a person.'
    assert list(prompt.parameters()) == []
    out = prompt(dict(proj_cls=torch.randn(3, 3, DIMS)))
    with torch.no_grad():
        expected = encoder.encode_text('A photo of a person.')[0]
    torch.testing.assert_close(out['text'], expected.expand(3, 3, DIMS))


@pytest.mark.parametrize('spectral,content,per_spectrum_differs', [
    ('learnable', 'inverted', True),
    ('learnable', 'none', True),
    ('none', 'inverted', False),
    ('inverted', 'inverted', True),
    ('learnable', 'learnable', True),
    ('inverted', 'learnable', True),
])
def test_table_vii_variants(encoder, spectral, content, per_spectrum_differs):
    prompt = _prompt(encoder, spectral_prompt=spectral, content_prompt=content)
    visual = torch.randn(4, 3, DIMS).expand(4, 3, DIMS).clone()
    visual[:, 1:] = visual[:, :1]  # same visual feature in every spectrum
    out = prompt(dict(proj_cls=visual), _samples(4))['text']
    assert out.shape == (4, 3, DIMS)
    differs = not torch.allclose(out[:, 0], out[:, 1])
    assert differs == per_spectrum_differs
    instance_level = 'inverted' in (spectral, content)
    assert (not torch.allclose(out[0], out[1])) == instance_level


def test_gradients_reach_tokens_inversion_and_visual_not_encoder(encoder):
    prompt = _prompt(encoder).train()
    visual = torch.randn(4, 3, DIMS, requires_grad=True)
    out = prompt(dict(proj_cls=visual), _samples(4))
    out['text'].pow(2).sum().backward()
    assert prompt.spectral_tokens.grad.abs().sum(dim=(1, 2)).min() > 0
    for name, param in prompt.content_inverter.named_parameters():
        assert param.grad is not None and param.grad.abs().sum() > 0, name
    assert visual.grad.abs().sum() > 0
    assert all(p.grad is None for p in encoder.parameters())
    assert not any(p.requires_grad for p in encoder.parameters())
    # the shared encoder is not a submodule (no duplicate state_dict keys)
    assert not any('encoder' in k for k in prompt.state_dict())

    detached = _prompt(encoder, detach_visual=True)
    visual = torch.randn(4, 3, DIMS, requires_grad=True)
    detached(dict(proj_cls=visual))['text'].sum().backward()
    assert visual.grad is None


def test_missing_spectra_are_zeroed_and_masked(encoder):
    prompt = _prompt(encoder).eval()
    feats = dict(proj_cls=torch.randn(2, 3, DIMS))
    full = prompt(feats, _samples(2))
    missing = prompt(feats, _samples(2, missing=('nir', )))
    assert missing['text_mask'].tolist() == [[True, False, True]] * 2
    assert missing['text'][:, 1].abs().sum() == 0
    torch.testing.assert_close(missing['text'][:, [0, 2]],
                               full['text'][:, [0, 2]])


def test_inversion_network_defaults():
    net = InversionNetwork(512, 512)
    linears = [m for m in net.mlp if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features)
            for m in linears] == [(512, 512)] * 3
    assert isinstance(net.norm, torch.nn.BatchNorm1d)
    assert net(torch.randn(4, 3, 512)).shape == (4, 3, 1, 512)
    with pytest.raises(ValueError, match='512-d'):
        net(torch.randn(2, 16))


def test_bad_configuration(encoder):
    with pytest.raises(ValueError, match="unknown class_name 'car'"):
        SpectralInversionPrompt(
            embed_dims=DIMS, token_dims=DIMS, class_name='car')
    with pytest.raises(ValueError, match='77-token context'):
        _prompt(encoder, num_spectral_tokens=80)
    with pytest.raises(ValueError, match='exactly once'):
        SpectralInversionPrompt(template='A photo of a {class_name}.')
    with pytest.raises(ValueError, match='unknown fields'):
        SpectralInversionPrompt(template='A {spectral} {content} {cls}.')
    with pytest.raises(ValueError, match='placeholder'):
        _prompt(encoder, class_name='x', known_class_names=('x', ))
    with pytest.raises(ValueError, match='token_dims'):
        _prompt(encoder, token_dims=64)
    with pytest.raises(ValueError, match='spectral_prompt'):
        SpectralInversionPrompt(spectral_prompt='fixed')
    with pytest.raises(RuntimeError, match='text encoder'):
        SpectralInversionPrompt(
            embed_dims=DIMS, token_dims=DIMS)(
                dict(proj_cls=torch.randn(1, 3, DIMS)))
    prompt = _prompt(encoder)
    with pytest.raises(ValueError, match='M=3'):
        prompt(dict(proj_cls=torch.randn(2, 2, DIMS)))
    wrong = [
        ReIDDataSample(metainfo=dict(pid=0, modalities=('vis', 'ir', 'x')))
    ]
    with pytest.raises(ValueError, match='same spectra'):
        prompt(dict(proj_cls=torch.randn(1, 3, DIMS)), wrong)
