# Copyright (c) mmreid_text contributors. All rights reserved.
"""TextEncoderRef: a reference, not a submodule; width checks; the trimmed
context gives the full-context features."""
import pytest
import torch
from mmengine.model import BaseModule

from mmreid_text.models.text import TextEncoder
from mmreid_text.models.text.text_encoder_ref import TextEncoderRef
from mmreid_text.models.utils import tiny_clip_arch


class _User(TextEncoderRef, BaseModule):

    def __init__(self, embed_dims=None):
        super().__init__()
        self.embed_dims = embed_dims
        self.proj = torch.nn.Linear(2, 2)


@pytest.fixture(scope='module')
def encoder():
    torch.manual_seed(0)
    return TextEncoder(arch=tiny_clip_arch(), frozen=True)


def test_reference_is_not_a_submodule(encoder):
    user = _User()
    with pytest.raises(RuntimeError, match='set_text_encoder'):
        user.text_encoder
    user.set_text_encoder(encoder)
    assert user.text_encoder is encoder
    # only the user's own Linear: the encoder's parameters are not repeated
    assert sum(p.numel() for p in user.parameters()) == 6
    assert sorted(user.state_dict()) == ['proj.bias', 'proj.weight']


def test_width_checks(encoder):
    with pytest.raises(ValueError, match='embed_dims=7'):
        _User(embed_dims=7).set_text_encoder(encoder)
    with pytest.raises(ValueError, match='token_dims=5'):
        _User()._keep_text_encoder(encoder, token_dims=5)
    _User(embed_dims=encoder.embed_dim).set_text_encoder(encoder)


def test_trimmed_context_matches_full_context(encoder):
    user = _User()
    user.set_text_encoder(encoder)
    token_ids = encoder.tokenize(['a man', 'a woman in a long red coat'])
    # SOT + 7 BPE tokens + EOT of the longer text
    assert user.used_context(token_ids) == 9
    with torch.no_grad():
        full = user.encode_token_ids(token_ids, trim_context=False)
    trimmed = user.encode_token_ids(token_ids)
    assert not trimmed.requires_grad  # frozen encoder: no graph
    torch.testing.assert_close(trimmed, full, rtol=1e-5, atol=1e-5)
