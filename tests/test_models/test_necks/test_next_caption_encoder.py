# Copyright (c) mmreid_text contributors. All rights reserved.
"""NEXT's per-expert caption sampling and encoding (Eq. 4) with the tiny
random-weight CLIP text encoder."""
import json
import os.path as osp

import pytest
import torch
import torch.nn.functional as F

from mmreid_text.captions.text import fit_to_context, split_sentences
from mmreid_text.models.data_preprocessors import ReIDDataPreprocessor
from mmreid_text.models.necks.next_caption_encoder import SampledCaptionEncoder
from mmreid_text.models.text import TextEncoder
from mmreid_text.models.utils import tiny_clip_arch
from mmreid_text.models.utils.feature_contract import (FeatureAccessRecorder,
                                                       get_feature_keys,
                                                       written_keys)
from mmreid_text.structures import ReIDDataSample

MODS = ('rgb', 'nir', 'tir')
SAMPLES = '/work/shared/data/released_captions_sample'
CAPTIONS = [
    dict(
        rgb='A man in a red coat. He wears black trousers. He carries a bag.',
        nir='A man seen from the front. He has short hair.',
        tir='A warm figure walking. The background is cold. He is tall. '
        'He walks fast. The image is clear. He holds a phone.'),
    dict(
        rgb='A woman in a white dress.',
        nir='',  # no caption for this modality
        tir='A woman seen from the side. She has long hair.'),
]


@pytest.fixture(scope='module')
def encoder():
    torch.manual_seed(0)
    return TextEncoder(arch=tiny_clip_arch())


def make(encoder, **kwargs):
    module = SampledCaptionEncoder(**kwargs)
    module.set_text_encoder(encoder)
    return module


def samples(captions=CAPTIONS, key='caption_sentences', **meta):
    out = []
    for caption in captions:
        info = dict(modalities=MODS, captions=dict(caption), **meta)
        if key == 'caption_sentences':
            info[key] = {m: split_sentences(t) for m, t in caption.items()}
        elif key is None:
            info.pop('captions')
        out.append(ReIDDataSample(metainfo=info))
    return out


def ref(batch=2):
    return dict(proj_cls=torch.zeros(batch, 3, 8))


class CallCounter:

    def __init__(self, encoder, monkeypatch):
        self.rows = []
        original = encoder.encode_embeddings

        def counted(embeddings, token_ids):
            self.rows.append(token_ids.shape[0])
            return original(embeddings, token_ids)

        monkeypatch.setattr(encoder, 'encode_embeddings', counted)


def test_compose_equals_tokenizing_the_joined_sentences(encoder):
    module = make(encoder)
    sentences = split_sentences(CAPTIONS[0]['tir'])
    ids, cut = module.compose(sentences[1:4])
    expected = encoder.tokenize(' '.join(sentences[1:4]))[0]
    assert not cut
    assert ids == expected[:len(ids)].tolist() and expected[len(ids):].eq(
        0).all()


def test_long_vehicle_caption_follows_the_sentence_rule(encoder):
    """A released MSVR310 caption (> 77 tokens): 'sentences' keeps whole
    sentences as LoadCaptions' rule does, 'truncate' cuts tokens."""
    with open(osp.join(SAMPLES, 'NEXT_310_train_RGB.json')) as f:
        text = next(e['description'] for e in json.load(f)
                    if len(encoder.tokenizer.encode(e['description'])) > 90)
    sentences = split_sentences(text)
    count = lambda t: len(encoder.tokenizer.encode(t)) + 2  # noqa: E731
    ids, cut = make(encoder).compose(sentences)
    fitted = fit_to_context(text, count, 77, 'sentences')
    assert cut and len(ids) <= 77 and fitted != text
    assert ids == encoder.tokenize(fitted)[0][:len(ids)].tolist()
    ids, cut = make(encoder, overflow='truncate').compose(sentences)
    assert cut and ids == encoder.tokenize(text, truncate=True)[0].tolist()


def test_eval_encodes_whole_captions_once_and_shares_them(
        encoder, monkeypatch):
    module = make(encoder).eval()
    calls = CallCounter(encoder, monkeypatch)
    out = module(ref(), samples())
    text, valid = out['next_text'], out['next_text_valid']
    assert text.shape == (2, 3, 3, encoder.embed_dim)
    assert valid.tolist() == [[[True] * 3] * 3, [[True, False, True]] * 3]
    assert calls.rows == [5]  # one call, 5 non-empty captions, no repeats
    monkeypatch.undo()
    with torch.no_grad():
        full = encoder.encode_text([CAPTIONS[0]['tir'], CAPTIONS[1]['rgb']])
    for e in range(3):
        assert torch.allclose(text[0, e, 2], full[0], atol=1e-5)
        assert torch.allclose(text[1, e, 0], full[1], atol=1e-5)
    assert bool((text[1, :, 1] == 0).all())
    scalars = module.expert_stats_scalars()
    assert scalars['text_nir'] == 0.5 and scalars['text_rgb'] == 1.0
    assert scalars['overflow'] == 0.0


def test_training_samples_per_expert_and_modality(encoder, monkeypatch):
    torch.manual_seed(1)
    module = make(encoder, keep_prob=0.5).train()
    calls = CallCounter(encoder, monkeypatch)
    out = module(ref(), samples())
    assert len(calls.rows) == 1  # every text of the batch in one call
    text = out['next_text']
    # six TIR sentences: the three experts draw different subsets
    assert not torch.allclose(text[0, 0, 2], text[0, 1, 2])
    assert not torch.allclose(text[0, 1, 2], text[0, 2, 2])
    # a one-sentence caption is never dropped (min_sentences=1)
    for e in range(3):
        assert torch.allclose(text[1, e, 0], text[1, 0, 0])
    assert out['next_text_valid'][1, :, 1].sum() == 0


def test_sentence_keep_rate_and_minimum(encoder):
    torch.manual_seed(0)
    module = make(encoder, keep_prob=0.75).train()
    sentences = [f's{i}.' for i in range(8)]
    kept = torch.zeros(8)
    for _ in range(2000):
        indices = module.sample(sentences)
        assert indices == sorted(indices) and indices
        kept[indices] += 1
    assert (kept / 2000).tolist() == pytest.approx([0.75] * 8, abs=0.04)
    module = make(encoder, keep_prob=0.01, min_sentences=2).train()
    assert all(len(module.sample(sentences)) == 2 for _ in range(50))
    module.eval()
    assert module.sample(sentences) == list(range(8))
    module.sample_at_test = True
    assert len(module.sample(sentences)) == 2


def test_sentence_granularity_is_mean_of_normalised_sentences(encoder):
    module = make(encoder, granularity='sentence').eval()
    out = module(ref(), samples())
    with torch.no_grad():
        parts = F.normalize(
            encoder.encode_text(split_sentences(CAPTIONS[0]['rgb'])), dim=-1)
    assert torch.allclose(out['next_text'][0, 0, 0], parts.mean(0), atol=1e-5)


def test_trim_context_gives_the_same_features(encoder):
    trimmed = make(encoder).eval()(ref(), samples())['next_text']
    full = make(
        encoder, trim_context=False).eval()(ref(), samples())['next_text']
    assert torch.allclose(trimmed, full, atol=1e-5)


def test_no_text_at_test_and_missing_captions(encoder, monkeypatch):
    module = make(encoder, test_text=False).eval()
    calls = CallCounter(encoder, monkeypatch)
    out = module(ref(), samples())
    assert calls.rows == [] and not out['next_text_valid'].any()
    # captions but no caption_sentences: split the captions
    out = make(encoder).eval()(ref(), samples(key='captions'))
    assert out['next_text_valid'][0].all()
    # missing_modalities of the masked protocol: no text
    out = make(encoder).eval()(ref(), samples(missing_modalities=('tir', )))
    assert not out['next_text_valid'][:, :, 2].any()
    with pytest.raises(KeyError, match='attach_sentences=True'):
        make(encoder).eval()(ref(), samples(key=None))
    out = make(encoder, on_no_captions='no_text').eval()(ref(), None)
    assert not out['next_text_valid'].any()
    with pytest.raises(ValueError, match='modalities'):
        make(
            encoder, modalities=('rgb', 'tir', 'nir')).eval()(ref(), samples())


def test_preprocessor_blanks_sentences_of_missing_modalities(encoder):
    preprocessor = ReIDDataPreprocessor(missing_modalities=('nir', ))
    batch = samples()
    preprocessor.blank(torch.zeros(2, 3, 3, 4, 4), batch)
    assert batch[0].metainfo['caption_sentences']['nir'] == []
    assert batch[0].metainfo['caption_sentences']['rgb']
    out = make(encoder).eval()(ref(), batch)
    assert not out['next_text_valid'][:, :, 1].any()
    # a blank 'captions' entry wins over stale caption_sentences
    stale = samples()
    stale[0].set_metainfo(dict(captions=dict(CAPTIONS[0], rgb='')))
    out = make(encoder).eval()(ref(), stale)
    assert not out['next_text_valid'][0, :, 0].any()


def test_declarations_equal_forward(encoder):
    module = make(encoder).train()
    feats = ref()
    recorder = FeatureAccessRecorder(feats)
    out = module(recorder, samples())
    keys = get_feature_keys(module)
    assert recorder.accessed == set(keys.reads) == {'proj_cls'}
    assert set(written_keys(feats, out)) == set(
        keys.writes) == {'next_text', 'next_text_valid'}
    with pytest.raises(ValueError, match='embed_dims'):
        SampledCaptionEncoder(embed_dims=7).set_text_encoder(encoder)
    with pytest.raises(RuntimeError, match='text encoder'):
        SampledCaptionEncoder().text_encoder
