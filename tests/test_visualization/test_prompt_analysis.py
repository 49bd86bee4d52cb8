# Copyright (c) mmreid_text contributors. All rights reserved.
"""Learned-prompt analysis (DEEP Fig. 7 / 12) on the tiny DEEP model."""
import os.path as osp

import pytest
import torch

from mmreid_text.visualization import (cosine_similarity_matrix,
                                       learned_spectral_tokens, nearest_words,
                                       nearest_words_table,
                                       plot_similarity_matrix)
from mmreid_text.visualization.model_io import load_model
from .conftest import assert_not_blank

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEEP_TINY = osp.join(REPO, 'configs', 'deep',
                     'deep_tiny_synthetic_rgbnt201.py')


@pytest.fixture(scope='module')
def prompt_learner():
    torch.manual_seed(0)
    model = load_model(DEEP_TINY, None)
    return model.necks[0]


def test_cosine_matrix_hand_computed():
    tokens = torch.tensor([[1.0, 0.0], [1.0, 1.0], [0.0, -2.0]])
    expected = torch.tensor([[1.0, 2**-0.5, 0.0], [2**-0.5, 1.0, -2**-0.5],
                             [0.0, -2**-0.5, 1.0]])
    torch.testing.assert_close(cosine_similarity_matrix(tokens), expected)


def test_planted_tokens(prompt_learner):
    """Tokens are flattened modality-major; a planted pair of tokens gets
    the hand-computed cosine, an identical copy gets 1."""
    learner = prompt_learner
    width = learner.spectral_tokens.shape[-1]
    planted_a = torch.zeros(width)
    planted_a[:2] = torch.tensor([3.0, 4.0])
    planted_b = torch.zeros(width)
    planted_b[0] = 1.0
    with torch.no_grad():
        saved = learner.spectral_tokens.clone()
        learner.spectral_tokens[1, 2] = planted_a  # nir[2]
        learner.spectral_tokens[2, 0] = planted_b  # tir[0]
        learner.spectral_tokens[0, 3] = planted_a  # rgb[3]
    try:
        tokens, labels = learned_spectral_tokens(learner)
        num = learner.num_spectral_tokens
        assert labels[num + 2] == 'nir[2]' and labels[2 * num] == 'tir[0]'
        matrix = cosine_similarity_matrix(tokens)
        i, j, k = labels.index('nir[2]'), labels.index('tir[0]'), labels.index(
            'rgb[3]')
        assert abs(float(matrix[i, j]) - 0.6) < 1e-6  # 3 / (5 * 1)
        assert abs(float(matrix[i, k]) - 1.0) < 1e-6
        torch.testing.assert_close(matrix, matrix.T)
    finally:
        with torch.no_grad():
            learner.spectral_tokens.copy_(saved)


def test_nearest_word_of_a_word_embedding(prompt_learner):
    encoder = prompt_learner.text_encoder
    table = encoder.encoder.token_embedding.weight
    tokenizer = encoder.tokenizer
    ids = [encoder.word_token_id(w) for w in ('backpack', 'person')]
    tokens = table[ids].detach() * 3.0  # scale does not change cosine
    result = nearest_words(tokens, table, tokenizer, topk=3)
    assert [row[0][0] for row in result] == ['backpack', 'person']
    assert abs(result[0][0][1] - 1.0) < 1e-5
    assert result[0][0][1] >= result[0][1][1] >= result[0][2][1]
    # restricted to a word list (Fig. 12 style); two-token words are means
    vocab = ['handbag', 'person', 'backpack', 'eyeglasses']
    restricted = nearest_words(tokens, table, tokenizer, 2, vocabulary=vocab)
    assert restricted[0][0][0] == 'backpack'
    assert restricted[1][0][0] == 'person'
    assert {w for w, _ in restricted[0]} <= set(vocab)
    # excluded ids never come back
    sot = encoder.sot_token_id
    excluded = nearest_words(
        table[[sot]].detach(), table, tokenizer, 1, exclude_ids=(sot, ))
    assert excluded[0][0][0] != tokenizer.decoder[sot].replace('</w>', '')


def test_tables_and_heatmap(prompt_learner, tmp_path):
    tokens, labels = learned_spectral_tokens(prompt_learner)
    encoder = prompt_learner.text_encoder
    neighbours = nearest_words(tokens, encoder.encoder.token_embedding.weight,
                               encoder.tokenizer, 2)
    md = nearest_words_table(labels, neighbours, 'md').splitlines()
    assert len(md) == 2 + len(labels) and md[2].startswith('| rgb[0] |')
    csv = nearest_words_table(labels, neighbours, 'csv').splitlines()
    assert csv[0] == 'token,word1,cos1,word2,cos2'
    out = tmp_path / 'sim.png'
    plot_similarity_matrix(
        cosine_similarity_matrix(tokens).numpy(),
        labels,
        str(out),
        groups={
            'rgb': 4,
            'nir': 4,
            'tir': 4
        })
    assert_not_blank(out, (300, 300))


def test_learner_without_learnable_tokens_is_an_error(prompt_learner):

    class Inverted:
        spectral_tokens = None
        spectral_prompt = 'inverted'

    with pytest.raises(ValueError, match="spectral_prompt='learnable'"):
        learned_spectral_tokens(Inverted())
