# Copyright (c) mmreid_text contributors. All rights reserved.
"""VLD IMLP identity prompts: splice, all-identity bank, gradients."""
import pytest
import torch

from mmreid_text.models.text import TextEncoder
from mmreid_text.models.text.prompt_learners import IdentityPrompt
from mmreid_text.models.utils import tiny_clip_arch

E = tiny_clip_arch()['embed_dim']


@pytest.fixture(scope='module')
def encoder():
    torch.manual_seed(0)
    return TextEncoder(arch=tiny_clip_arch(), frozen=True)


def _prompt(encoder, **kwargs):
    kwargs.setdefault('num_ids', 3)
    prompt = IdentityPrompt(token_dims=E, embed_dims=E, **kwargs)
    prompt.set_text_encoder(encoder)
    return prompt


def test_template_is_tokenised_and_identity_tokens_spliced(encoder):
    prompt = _prompt(encoder)
    assert prompt.prompt_text == ('A X X X X person observed in both day '
                                  'and night conditions.')
    ids = encoder.tokenize(prompt.prompt_text)[0]
    x_id = encoder.word_token_id('X')
    # SOT, "a", then the four placeholders, found from the token ids
    assert prompt.token_positions.tolist() == [2, 3, 4, 5]
    assert (ids[2:6] == x_id).all() and (ids[6] != x_id)
    # trimmed at EOT
    assert len(prompt.token_ids) == int((ids != 0).sum())
    assert int(prompt.token_ids[-1]) == encoder.eot_token_id
    embeddings = prompt.build_embeddings()
    template = encoder.embed_tokens(prompt.token_ids[None])[0]
    assert embeddings.shape == (3, len(prompt.token_ids), E)
    for y in range(3):
        torch.testing.assert_close(embeddings[y, 2:6], prompt.id_tokens[y])
        torch.testing.assert_close(embeddings[y, :2], template[:2])
        torch.testing.assert_close(embeddings[y, 6:], template[6:])


def test_bank_holds_every_identity_in_training_only(encoder):
    prompt = _prompt(encoder, num_ids=5).train()
    out = prompt(dict(cls=torch.zeros(1)))
    bank = out['id_text']
    assert bank.shape == (5, E)
    # identity y's row is the encoder output of its own spliced prompt
    for y in (0, 4):
        emb = prompt.build_embeddings()[y:y + 1]
        torch.testing.assert_close(
            bank[y],
            encoder.encode_embeddings(emb, prompt.token_ids)[0])
    # the trimmed context gives the full-context result (causal mask)
    full = _prompt(encoder, num_ids=5, trim_context=False)
    full.id_tokens.data.copy_(prompt.id_tokens.data)
    torch.testing.assert_close(
        full.identity_text_features(), bank, rtol=1e-5, atol=1e-5)
    assert prompt.train_writes == ('id_text', )
    assert prompt.reads == () and prompt.writes == ()
    prompt.eval()
    feats = dict(cls=torch.zeros(1))
    assert prompt(feats) is feats  # nothing computed at test time


def test_gradient_reaches_only_the_identity_tokens(encoder):
    prompt = _prompt(encoder).train()
    bank = prompt(dict())['id_text']
    (bank * torch.randn_like(bank)).sum().backward()
    grad = prompt.id_tokens.grad
    assert grad is not None and bool((grad.abs().sum((1, 2)) > 0).all())
    assert all(p.grad is None for p in encoder.parameters())
    assert all(not p.requires_grad for p in encoder.parameters())
    assert [n for n, p in prompt.named_parameters()] == ['id_tokens']


def test_templates_and_errors(encoder):
    short = _prompt(encoder, template='{tokens} person.', num_tokens=2)
    assert short.prompt_text == 'X X person.'
    assert short.token_positions.tolist() == [1, 2]
    with pytest.raises(ValueError, match='exactly once'):
        IdentityPrompt(num_ids=2, template='A person.')
    with pytest.raises(ValueError, match='exactly once'):
        IdentityPrompt(num_ids=2, template='A {tokens} {tokens}.')
    with pytest.raises(ValueError, match='placeholder'):
        _prompt(encoder, template='X {tokens} person.')
    with pytest.raises(ValueError, match='token_dims'):
        IdentityPrompt(num_ids=2, token_dims=E + 1).set_text_encoder(encoder)
    with pytest.raises(RuntimeError, match='no text encoder'):
        IdentityPrompt(num_ids=2).train()(dict())


@pytest.mark.parametrize('init_std', [None, 0.5])
def test_identity_tokens_start_at_init_std(init_std):
    torch.manual_seed(0)
    kwargs = {} if init_std is None else dict(init_std=init_std)
    init_std = init_std or 0.02  # the default: public VLD code, CLIP-ReID
    prompt = IdentityPrompt(num_ids=64, token_dims=E, embed_dims=E, **kwargs)
    tokens = prompt.id_tokens.detach()
    assert abs(float(tokens.mean())) < 0.05 * init_std
    assert abs(float(tokens.std()) / init_std - 1) < 0.05


def test_checkpoint_holds_only_the_identity_tokens(encoder):
    # the tokenised template is rebuilt from the config, never saved: a
    # checkpoint loads into a prompt with another template
    prompt = _prompt(encoder, num_ids=1, num_tokens=1)
    assert list(prompt.state_dict()) == ['id_tokens']
    other = _prompt(encoder, num_ids=1, num_tokens=1, template='{tokens} man.')
    other.load_state_dict(prompt.state_dict())
    assert torch.equal(other.id_tokens, prompt.id_tokens)
    init_cfg = dict(type='Normal', std=0.01)
    assert IdentityPrompt(num_ids=1, init_cfg=init_cfg).init_cfg == init_cfg
    for bad in (dict(num_ids=0), dict(num_ids=2, num_tokens=0)):
        with pytest.raises(ValueError, match='^IdentityPrompt: num_ids'):
            IdentityPrompt(**bad)
