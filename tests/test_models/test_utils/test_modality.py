# Copyright (c) mmreid_text contributors. All rights reserved.
"""check_modality_features: the shape guard of the token-attending necks."""
import pytest
import torch

from mmreid_text.models.utils import check_modality_features


def _feats(m=3, c=8, n=4):
    return dict(
        cls=torch.zeros(2, m, c),
        text=torch.zeros(2, m, c),
        tokens=torch.zeros(2, m, n, c))


def test_accepts_global_and_token_inputs_of_the_right_shape():
    check_modality_features(_feats(), ('cls', 'text'), 'tokens', 3, 8, 'Neck')


def test_every_global_key_is_checked_not_only_the_first():
    # a loop that stopped after the first key would accept this
    feats = _feats()
    feats['text'] = torch.zeros(2, 3, 5)
    with pytest.raises(ValueError, match='Neck expects feats\\["text"\\]'):
        check_modality_features(feats, ('cls', 'text'), 'tokens', 3, 8, 'Neck')


def test_tokens_must_be_four_dimensional():
    # tokens checked as [B, M, C] (ndim=3) would accept a pooled tensor
    feats = _feats()
    feats['tokens'] = torch.zeros(2, 3, 8)
    with pytest.raises(ValueError, match='\\[B, M, N, C\\]'):
        check_modality_features(feats, ('cls', ), 'tokens', 3, 8, 'Neck')


def test_missing_key_names_the_owner_and_the_available_keys():
    feats = _feats()
    del feats['tokens']
    with pytest.raises(KeyError, match='Neck reads feats') as err:
        check_modality_features(feats, ('cls', ), 'tokens', 3, 8, 'Neck')
    assert 'tokens' in str(err.value) and 'text' in str(err.value)


def test_modality_count_is_checked():
    with pytest.raises(ValueError, match='M=2'):
        check_modality_features(_feats(m=3), ('cls', ), 'tokens', 2, 8, 'Neck')
