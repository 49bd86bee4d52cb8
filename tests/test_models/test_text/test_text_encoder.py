# Copyright (c) mmreid_text contributors. All rights reserved.
import warnings

import open_clip
import pytest
import torch
from safetensors.torch import save_file

import mmreid_text.models.utils.clip_checkpoint as clip_checkpoint
from mmreid_text.models.backbones import CLIPVisionBackbone
from mmreid_text.models.text import TextEncoder
from mmreid_text.models.utils import (CLIPCheckpointMismatchError,
                                      clear_clip_checkpoint_cache,
                                      tiny_clip_arch)
from mmreid_text.registry import MODELS

TEXTS = ['a photo of a tall person wearing a red coat.', 'X', '']


@pytest.fixture(autouse=True)
def _fresh_cache():
    clear_clip_checkpoint_cache()
    yield
    clear_clip_checkpoint_cache()


def _tiny_clip(quick_gelu=False, seed=0):
    torch.manual_seed(seed)
    return open_clip.model.CLIP(
        **tiny_clip_arch(), quick_gelu=quick_gelu).eval()


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory):
    """(reference open_clip model, safetensors path)."""
    model = _tiny_clip()
    path = tmp_path_factory.mktemp('clip') / 'clip.safetensors'
    save_file({
        k: v.contiguous()
        for k, v in model.state_dict().items()
    }, str(path))
    return model, str(path)


@pytest.fixture
def encoder(checkpoint):
    return TextEncoder(arch=tiny_clip_arch(), pretrained=checkpoint[1])


def test_encode_text_matches_open_clip(checkpoint, encoder):
    reference, _ = checkpoint
    tokenizer = open_clip.get_tokenizer('ViT-B-16')
    with torch.no_grad():
        expected = reference.encode_text(tokenizer(TEXTS))
        ours = encoder.encode_text(TEXTS)
    assert ours.shape == (3, 128)  # clip-tiny embed_dim
    torch.testing.assert_close(ours, expected)
    torch.testing.assert_close(encoder(tokenizer(TEXTS)), expected)


def test_openai_archive_matches_open_clip_with_quick_gelu(tmp_path):
    reference = _tiny_clip(quick_gelu=True, seed=1)
    path = tmp_path / 'openai.pt'
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        traced = torch.jit.trace(
            reference,
            (torch.randn(1, 3, 64, 64), torch.zeros(1, 77, dtype=torch.long)),
            check_trace=False)
    traced.save(str(path))
    encoder = TextEncoder(arch=tiny_clip_arch(), pretrained=str(path))
    assert encoder.quick_gelu is True
    ids = encoder.tokenize(TEXTS)
    with torch.no_grad():
        torch.testing.assert_close(
            encoder.encode_text(ids), reference.encode_text(ids))


def test_tokenize_matches_open_clip_and_rejects_long_text(encoder):
    tokenizer = open_clip.get_tokenizer('ViT-B-16')
    ids = encoder.tokenize(TEXTS)
    assert ids.dtype == torch.long and ids.shape == (3, 77)
    assert torch.equal(ids, tokenizer(TEXTS))
    assert torch.equal(encoder.tokenize('X'), tokenizer(['X']))
    long_text = ' '.join(['person'] * 80)
    with pytest.raises(ValueError) as error:
        encoder.tokenize(['short', long_text])
    assert '82 tokens' in str(error.value)
    assert 'person person' in str(error.value)
    assert 'truncate=True' in str(error.value)
    truncated = encoder.tokenize(long_text, truncate=True)
    assert torch.equal(truncated, tokenizer([long_text]))
    assert truncated[0, -1] == encoder.eot_token_id
    with pytest.raises(TypeError):
        encoder.tokenize([3])


def test_spliced_embeddings_equal_the_written_word(encoder):
    template = encoder.tokenize('a photo of a X person.')
    positions = encoder.find_placeholder_positions(template[0])
    assert positions.tolist() == [5]
    word_embedding = encoder.embed_tokens(
        torch.tensor([encoder.word_token_id('tall')]))
    embeddings = encoder.embed_tokens(template).clone()
    embeddings[:, positions] = word_embedding
    spliced = encoder.encode_embeddings(embeddings, template)
    written = encoder.encode_text('a photo of a tall person.')
    torch.testing.assert_close(spliced, written)


def test_gradients_reach_inputs_not_frozen_weights(encoder):
    ids = encoder.tokenize(['a X X person.', 'a photo of a X X person.'])
    embeddings = encoder.embed_tokens(ids).detach().requires_grad_(True)
    encoder.train()
    assert not encoder.training and not encoder.encoder.training
    encoder.encode_embeddings(embeddings, ids).pow(2).sum().backward()
    assert embeddings.grad is not None
    assert embeddings.grad.abs().sum() > 0
    assert all(not p.requires_grad and p.grad is None
               for p in encoder.parameters())
    # the causal mask: tokens after EOT get no gradient
    eot = encoder.eot_positions(ids)
    assert embeddings.grad[0, eot[0] + 1:].abs().sum() == 0


def test_unfrozen_encoder_trains():
    encoder = TextEncoder(arch=tiny_clip_arch(), frozen=False)
    encoder.train()
    assert encoder.encoder.training
    encoder.encode_text(['a person']).sum().backward()
    assert encoder.encoder.text_projection.grad is not None


def test_shorter_sequences_and_broadcast_ids(encoder):
    ids = encoder.tokenize('a photo of a X person.')
    full = encoder.encode_text(ids)
    short = encoder.encode_embeddings(
        encoder.embed_tokens(ids[:, :12]), ids[0, :12])
    torch.testing.assert_close(short, full)
    batch = encoder.embed_tokens(ids).expand(4, -1, -1)
    out = encoder.encode_embeddings(batch, ids)
    torch.testing.assert_close(out, full.expand(4, -1))
    with pytest.raises(ValueError, match='do not match'):
        encoder.encode_embeddings(batch, ids[:, :10])
    with pytest.raises(ValueError, match='end-of-text'):
        encoder.encode_embeddings(encoder.embed_tokens(ids[:, :3]), ids[:, :3])


def test_placeholder_positions(encoder):
    template = 'A X X X X person observed in both day and night conditions.'
    ids = encoder.tokenize([template, template])
    assert encoder.find_placeholder_positions(ids[0]).tolist() == \
        [2, 3, 4, 5]
    assert encoder.find_placeholder_positions(ids).tolist() == \
        [[2, 3, 4, 5]] * 2
    deep = encoder.tokenize('A X X photo of a X person.')
    assert encoder.find_placeholder_positions(deep[0]).tolist() == [2, 3, 7]
    with pytest.raises(ValueError, match='different numbers'):
        encoder.find_placeholder_positions(
            encoder.tokenize(['a X person', 'a X X person']))
    with pytest.raises(ValueError, match='does not occur'):
        encoder.find_placeholder_positions(ids[0], placeholder='Y')
    with pytest.raises(ValueError, match='single token'):
        encoder.find_placeholder_positions(ids[0], placeholder='photograph!')


def test_backbone_and_text_encoder_read_the_file_once(checkpoint, monkeypatch):
    calls = []
    read_file = clip_checkpoint._read_file

    def counting_read(path):
        calls.append(path)
        return read_file(path)

    monkeypatch.setattr(clip_checkpoint, '_read_file', counting_read)
    CLIPVisionBackbone(
        arch=tiny_clip_arch(), img_size=(64, 32), pretrained=checkpoint[1])
    TextEncoder(arch=tiny_clip_arch(), pretrained=checkpoint[1])
    assert len(calls) == 1


def test_wrong_text_architecture_lists_keys(checkpoint):
    wider = tiny_clip_arch()
    wider['text_cfg'].update(width=256, layers=3)
    with pytest.raises(CLIPCheckpointMismatchError) as error:
        TextEncoder(arch=wider, pretrained=checkpoint[1])
    message = str(error.value)
    assert 'text weights' in message
    assert 'transformer.resblocks.2.attn.in_proj_weight' in message
    assert 'token_embedding.weight: checkpoint (49408, 128) vs model ' \
        '(49408, 256)' in message


def test_registry_build_and_attributes():
    encoder = MODELS.build(dict(type='TextEncoder', arch=tiny_clip_arch()))
    assert isinstance(encoder, TextEncoder)
    assert (encoder.context_length, encoder.width, encoder.embed_dim) == \
        (77, 128, 128)
    assert (encoder.sot_token_id, encoder.eot_token_id) == (49406, 49407)
    real = TextEncoder(arch='ViT-B-16')
    assert (real.width, real.embed_dim) == (512, 512)
    assert real.embed_tokens(real.tokenize('X')).shape == (1, 77, 512)
