# Copyright (c) mmreid_text contributors. All rights reserved.
"""Per-expert sampled caption features of NEXT's text modulation (Eq. 4)."""
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule

from mmreid_text.captions.text import split_sentences
from mmreid_text.registry import MODELS
from ..text.text_encoder_ref import TextEncoderRef
from ..utils.expert_stats import ExpertStats
from ..utils.feature_contract import FeatureContract

GRANULARITIES = ('caption', 'sentence')
OVERFLOW = ('sentences', 'truncate')
ON_NO_CAPTIONS = ('error', 'no_text')

#: Entries of the per-sentence BPE cache before it is cleared.
_BPE_CACHE_SIZE = 200_000


@MODELS.register_module()
class SampledCaptionEncoder(TextEncoderRef, FeatureContract, BaseModule):
    """Sample caption sentences per expert and modality and encode them.

    NEXT Eq. 4: the caption of modality ``m`` is split into sentences
    ``{s_m^(1), ..., s_m^(n_m)}`` and every semantic expert ``i`` draws its
    own subset ``X_hat_{T,m}^(i)``; the frozen CLIP text encoder maps the
    subset to the text feature ``f_{T_hat,m}^cls`` used by Eq. 5.

    Sampling (training): every sentence is kept independently with
    probability ``keep_prob`` (0.75, Fig. 6's default), separately for
    every sample, expert and modality; when fewer than ``min_sentences``
    are kept, the missing ones are drawn uniformly from the dropped ones
    (never an empty text). Kept sentences keep the caption order. At test
    (``sample_at_test=False``, default) every expert gets the whole
    caption, so one text per sample and modality is encoded (three texts
    per sample: the paper's +8.8 GFLOPs of the text encoder, Table VIII).

    Texts (``granularity``):

    - ``'caption'`` (default, "encode the sampled text ... as a text
      feature vector"): the kept sentences joined with spaces, one text.
      Longer than the text context (77 tokens; most vehicle captions):
      ``overflow='sentences'`` (default, the project's caption rule, see
      ``mmreid_text.captions.text``) keeps whole sentences from the first
      while they fit (a too long first sentence is cut at the token
      level); ``'truncate'`` cuts the joined text at the token level;
    - ``'sentence'``: every sentence is encoded on its own and the
      feature is the mean of the L2-normalised features of the kept
      sentences (no truncation of long captions).

    All texts of a batch go through one text-encoder call (identical texts
    once); with ``trim_context`` the padding after the longest text is cut
    (the causal mask makes the features identical).

    Sentences come from ``metainfo['caption_sentences']`` (``LoadCaptions(
    attach_sentences=True)``; add the key to ``PackReIDInputs.meta_keys``)
    or, without it, from ``split_sentences(metainfo['captions'][m])``. No
    text feature (``valid`` False; ``TextModulatedSemanticExperts`` then
    applies its ``no_text_mode``) for a modality that

    - has no caption or an empty one (``LoadCaptions(on_missing='empty')``;
      the data preprocessor blanks the captions of missing modalities in
      the missing-modality protocol, and a blank ``captions`` entry wins
      over ``caption_sentences``),
    - is named in ``metainfo['missing_modalities']``,
    - or for every modality at test when ``test_text=False`` ("NEXT w/o
      Text", Table VIII: the text encoder is not run).

    A data sample with neither key raises (``on_no_captions='error'``,
    default) or gets no text (``'no_text'``).

    Statistics (``expert_stats``): ``text`` (share of sample / modality
    pairs with a text), ``sentences`` (mean sentences kept per text) and
    ``overflow`` (share of texts cut to fit the context).

    Args:
        num_experts (int): ``N_T``.
        modalities (Sequence[str]): Modality names in slot order.
        keep_prob (float): Sentence keep probability ``p``.
        min_sentences (int): Fewest sentences per sampled text.
        sample_at_test (bool): Also sample in eval mode.
        test_text (bool): Encode captions in eval mode.
        granularity (str): ``'caption'`` or ``'sentence'``.
        overflow (str): ``'sentences'`` or ``'truncate'``.
        trim_context (bool): Cut the common padding before encoding.
        on_no_captions (str): ``'error'`` or ``'no_text'``.
        embed_dims (int, optional): Expected text feature width (checked
            against the text encoder).
        ref_key (str): A ``[B, ...]`` feature giving the batch size, device
            and dtype.
        out_key (str): ``[B, N_T, M, E]`` text features.
        valid_key (str): ``[B, N_T, M]`` bool.
        stats_name (str): Prefix of the logged statistics.
    """

    key_attrs = dict(reads=('ref_key', ), writes=('out_key', 'valid_key'))

    def __init__(self,
                 num_experts: int = 3,
                 modalities: Sequence[str] = ('rgb', 'nir', 'tir'),
                 keep_prob: float = 0.75,
                 min_sentences: int = 1,
                 sample_at_test: bool = False,
                 test_text: bool = True,
                 granularity: str = 'caption',
                 overflow: str = 'sentences',
                 trim_context: bool = True,
                 on_no_captions: str = 'error',
                 embed_dims: Optional[int] = None,
                 ref_key: str = 'proj_cls',
                 out_key: str = 'next_text',
                 valid_key: str = 'next_text_valid',
                 collect_stats: bool = True,
                 stats_name: str = 'captions',
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        name = type(self).__name__
        for value, allowed, arg in (
            (granularity, GRANULARITIES, 'granularity'),
            (overflow, OVERFLOW, 'overflow'),
            (on_no_captions, ON_NO_CAPTIONS, 'on_no_captions'),
        ):
            if value not in allowed:
                raise ValueError(f'{name}: {arg} must be one of {allowed}, '
                                 f'got {value!r}.')
        if not 0.0 < keep_prob <= 1.0:
            raise ValueError(f'{name}: keep_prob must be in (0, 1], got '
                             f'{keep_prob}.')
        if min_sentences < 1 or num_experts < 1:
            raise ValueError(f'{name}: min_sentences and num_experts must '
                             'be >= 1.')
        self.num_experts = num_experts
        self.modalities = tuple(modalities)
        self.keep_prob = float(keep_prob)
        self.min_sentences = min_sentences
        self.sample_at_test = sample_at_test
        self.test_text = test_text
        self.granularity = granularity
        self.overflow = overflow
        self.trim_context = trim_context
        self.on_no_captions = on_no_captions
        self.embed_dims = embed_dims
        self.ref_key = ref_key
        self.out_key = out_key
        self.valid_key = valid_key
        self.collect_stats = collect_stats
        self.stats_name = stats_name
        self.expert_stats = ExpertStats()
        self._bpe: Dict[str, List[int]] = {}

    # ---------------------------------------------------------- text side
    def bpe(self, sentence: str) -> List[int]:
        """BPE ids of one sentence (cached). Joining sentences with a space
        gives the concatenation of their ids (the tokenizer splits words at
        white space)."""
        ids = self._bpe.get(sentence)
        if ids is None:
            if len(self._bpe) >= _BPE_CACHE_SIZE:
                self._bpe.clear()
            ids = self.text_encoder.tokenizer.encode(sentence)
            self._bpe[sentence] = ids
        return ids

    def compose(self, sentences: Sequence[str]) -> Tuple[List[int], bool]:
        """Token ids ``[SOT, ..., EOT]`` of the joined sentences within the
        context (``overflow`` rule) and whether anything was cut."""
        encoder = self.text_encoder
        budget = encoder.context_length - 2
        pieces = [self.bpe(s) for s in sentences]
        total = sum(len(p) for p in pieces)
        if total <= budget:
            ids = [i for p in pieces for i in p]
        elif self.overflow == 'truncate':
            ids = [i for p in pieces for i in p][:budget]
        else:
            ids = []
            for piece in pieces:
                if len(ids) + len(piece) > budget:
                    break
                ids.extend(piece)
            if not ids:
                ids = pieces[0][:budget]
        return ([encoder.sot_token_id] + ids + [encoder.eot_token_id], total
                > budget)

    def encode(self, rows: Sequence[Tuple[int, ...]],
               device: torch.device) -> torch.Tensor:
        """Token id rows -> ``[len(rows), E]`` in one encoder call."""
        token_ids = torch.zeros(
            len(rows), self.text_encoder.context_length, dtype=torch.long)
        for index, row in enumerate(rows):
            token_ids[index, :len(row)] = torch.tensor(row)
        return self.encode_token_ids(token_ids, self.trim_context).to(device)

    # ---------------------------------------------------------- captions
    def sentences_of(self, sample, index: int) -> List[List[str]]:
        """The sentence lists ``[M][n_m]`` of one data sample."""
        meta = sample.metainfo
        names = meta.get('modalities')
        if names is not None and tuple(names) != self.modalities:
            raise ValueError(
                f'{type(self).__name__}: data sample {index} has modalities '
                f'{tuple(names)} but the component was configured for '
                f'{self.modalities}; set modalities=... to the dataset '
                'order.')
        per_sentence = meta.get('caption_sentences')
        captions = meta.get('captions')
        if per_sentence is None and captions is None:
            if self.on_no_captions == 'no_text':
                return [[] for _ in self.modalities]
            raise KeyError(
                f'{type(self).__name__}: data sample {index} has neither '
                "metainfo['caption_sentences'] nor metainfo['captions']. Add "
                'LoadCaptions(attach_sentences=True) to the pipeline and '
                "'caption_sentences' to PackReIDInputs.meta_keys, or set "
                "test_text=False (no text at test) / on_no_captions='no_text'"
                '.')
        missing = set(meta.get('missing_modalities', ()) or ())
        out = []
        for modality in self.modalities:
            blank = captions is not None and not (captions.get(modality)
                                                  or '').strip()
            if modality in missing or blank:
                out.append([])
            elif per_sentence is not None:
                sentences = per_sentence.get(modality) or []
                if isinstance(
                        sentences,
                        str) or not all(isinstance(s, str) for s in sentences):
                    raise TypeError(
                        f'{type(self).__name__}: metainfo["caption_sentences"]'
                        f'["{modality}"] of data sample {index} must be a '
                        'list of strings.')
                out.append([s for s in sentences if s.strip()])
            else:
                out.append(split_sentences(captions.get(modality) or ''))
        return out

    def sample(self, sentences: Sequence[str]) -> List[int]:
        """Indices of the kept sentences (order preserved)."""
        count = len(sentences)
        if not (self.training or self.sample_at_test) or \
                self.keep_prob >= 1.0:
            return list(range(count))
        keep = torch.rand(count) < self.keep_prob
        needed = min(self.min_sentences, count) - int(keep.sum())
        if needed > 0:
            dropped = (~keep).nonzero().flatten()
            chosen = dropped[torch.randperm(len(dropped))[:needed]]
            keep[chosen] = True
        return keep.nonzero().flatten().tolist()

    # ----------------------------------------------------------- forward
    def forward(self,
                feats: dict,
                data_samples: Optional[List] = None) -> dict:
        """Add ``feats[out_key]`` ``[B, N_T, M, E]`` and
        ``feats[valid_key]`` ``[B, N_T, M]``."""
        ref = feats[self.ref_key]
        batch = ref.shape[0]
        num_exp, num_mod = self.num_experts, len(self.modalities)
        use_text = self.training or self.test_text
        dims = (
            self.text_encoder.embed_dim
            if self._text_encoder is not None else self.embed_dims)
        if dims is None:
            raise RuntimeError(f'{type(self).__name__}: no text encoder and '
                               'no embed_dims.')
        text = ref.new_zeros(batch, num_exp, num_mod, dims)
        valid = torch.zeros(
            batch, num_exp, num_mod, dtype=torch.bool, device=ref.device)
        out = dict(feats)
        out[self.out_key], out[self.valid_key] = text, valid
        if not use_text:
            return out
        if data_samples is None and self.on_no_captions == 'no_text':
            return out
        if data_samples is None or len(data_samples) != batch:
            raise ValueError(
                f'{type(self).__name__} needs the {batch} data samples of '
                'the batch (their captions); got '
                f'{None if data_samples is None else len(data_samples)}.')
        # (b, e, m) -> kept sentences
        jobs = []
        for b, sample in enumerate(data_samples):
            per_mod = self.sentences_of(sample, b)
            for m, sentences in enumerate(per_mod):
                if not sentences:
                    continue
                for e in range(num_exp):
                    kept = [sentences[i] for i in self.sample(sentences)]
                    jobs.append((b, e, m, kept))
        if not jobs:
            self._add_stats(valid, [], [])
            return out
        if self.granularity == 'caption':
            rows, overflow = zip(*[self.compose(kept) for *_, kept in jobs])
            unique = list(dict.fromkeys(tuple(r) for r in rows))
            lookup = {row: i for i, row in enumerate(unique)}
            encoded = self.encode(unique, ref.device).to(ref.dtype)
            values = encoded[[lookup[tuple(r)] for r in rows]]
        else:
            unique = list(dict.fromkeys(s for *_, kept in jobs for s in kept))
            lookup = {s: i for i, s in enumerate(unique)}
            rows, cut = zip(*[self.compose([s]) for s in unique])
            encoded = F.normalize(
                self.encode([tuple(r) for r in rows], ref.device).float(),
                dim=-1)
            values = torch.stack([
                encoded[[lookup[s] for s in kept]].mean(0) for *_, kept in jobs
            ]).to(ref.dtype)
            overflow = [any(cut[lookup[s]] for s in kept) for *_, kept in jobs]
        index = torch.tensor([(b * num_exp + e) * num_mod + m
                              for b, e, m, _ in jobs],
                             device=ref.device)
        text = text.reshape(-1, dims).index_copy(0, index, values).reshape(
            batch, num_exp, num_mod, dims)
        valid = valid.reshape(-1).index_fill(0, index, 1).reshape(
            batch, num_exp, num_mod)
        out[self.out_key], out[self.valid_key] = text, valid
        self._add_stats(valid, [len(kept) for *_, kept in jobs], overflow)
        return out

    def _add_stats(self, valid: torch.Tensor, kept: Sequence[int],
                   overflow: Sequence[bool]) -> None:
        if not self.collect_stats:
            return
        self.expert_stats.add('text', valid[:, 0].float().sum(0),
                              valid.shape[0])
        if kept:
            self.expert_stats.add('sentences', torch.tensor(float(sum(kept))),
                                  len(kept))
            self.expert_stats.add('overflow',
                                  torch.tensor(float(sum(overflow))),
                                  len(kept))

    def expert_stats_scalars(self,
                             all_reduce: bool = False) -> Dict[str, float]:
        """``text_{modality}`` (share with a caption), ``sentences``
        (mean kept per text) and ``overflow`` (share of cut texts)."""
        out = {}
        for stat, value in self.expert_stats.means(all_reduce).items():
            if stat == 'text':
                for m, name in enumerate(self.modalities):
                    out[f'text_{name}'] = float(value[m])
            else:
                out[stat] = float(value)
        return out
