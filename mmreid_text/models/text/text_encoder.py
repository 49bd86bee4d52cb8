# Copyright (c) mmreid_text contributors. All rights reserved.
"""Frozen CLIP text encoder (open_clip TextTransformer + BPE tokenizer)."""
import functools
from typing import Mapping, Optional, Sequence, Union

import torch
from mmengine.model import BaseModule
from open_clip.tokenizer import SimpleTokenizer

from mmreid_text.registry import MODELS
from ..utils import (arch_display_name, build_clip_text_tower,
                     extract_text_state_dict, get_clip_arch_config,
                     load_checked_state_dict, load_checkpoint_and_quick_gelu)

TextInput = Union[str, Sequence[str], torch.Tensor]


@functools.lru_cache(maxsize=4)
def _bundled_tokenizer(clean: str) -> SimpleTokenizer:
    """open_clip's BPE tokenizer with its bundled vocabulary (offline)."""
    return SimpleTokenizer(clean=clean)


def _short(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[:limit] + '...'


@MODELS.register_module()
class TextEncoder(BaseModule):
    """CLIP text transformer (open_clip) with its tokenizer.

    Prompt learners splice learnable vectors into the token embeddings of a
    tokenised template and call :meth:`encode_embeddings`; the encoder stays
    frozen while gradients reach the spliced embeddings.

    Args:
        arch: open_clip model name or config dict with ``text_cfg``.
        pretrained: local CLIP weight file (see ``CLIPVisionBackbone``);
            None keeps open_clip's random init.
        quick_gelu: True / False / ``'auto'`` (True for OpenAI weights).
        frozen: no gradients to the encoder weights and eval mode even when
            the parent model is in training mode.
        init_cfg: mmengine init config.

    Attributes:
        context_length (int): ``L`` of the arch (77 for CLIP).
        width (int): token embedding width ``W`` (512 for ViT-B/16).
        embed_dim (int): output width ``E`` (512 for ViT-B/16).
        sot_token_id / eot_token_id (int): 49406 / 49407.
        tokenizer: open_clip ``SimpleTokenizer`` (bundled BPE vocabulary).
    """

    def __init__(self,
                 arch: Union[str, Mapping] = 'ViT-B-16',
                 pretrained: Optional[str] = None,
                 quick_gelu: Union[bool, str] = 'auto',
                 frozen: bool = True,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.arch_cfg = get_clip_arch_config(arch)
        self.arch_name = arch_display_name(arch)
        self.frozen = frozen
        self.pretrained = pretrained
        checkpoint, self.quick_gelu = load_checkpoint_and_quick_gelu(
            pretrained, quick_gelu, self.arch_cfg,
            f'{type(self).__name__}({self.arch_name})')
        self.encoder = build_clip_text_tower(self.arch_cfg, self.quick_gelu)
        if checkpoint is not None:
            load_checked_state_dict(
                self.encoder, extract_text_state_dict(checkpoint.state_dict),
                checkpoint.path, 'text', self.arch_name)

        tokenizer_kwargs = self.arch_cfg['text_cfg'].get(
            'tokenizer_kwargs') or {}
        unknown = set(tokenizer_kwargs) - {'clean'}
        if unknown:
            raise ValueError(f'Unsupported tokenizer_kwargs {unknown} in the '
                             f'text_cfg of {self.arch_name}.')
        self.tokenizer = _bundled_tokenizer(
            tokenizer_kwargs.get('clean', 'lower'))
        if self.tokenizer.vocab_size != self.encoder.vocab_size:
            raise ValueError(
                f'The text tower has a vocabulary of '
                f'{self.encoder.vocab_size} but the bundled CLIP tokenizer '
                f'has {self.tokenizer.vocab_size}.')
        self.context_length = self.encoder.context_length
        self.width = self.encoder.width
        self.embed_dim = self.encoder.output_dim
        self.sot_token_id = self.tokenizer.sot_token_id
        self.eot_token_id = self.tokenizer.eot_token_id
        if frozen:
            for param in self.encoder.parameters():
                param.requires_grad = False
            self.train(False)

    def train(self, mode: bool = True) -> 'TextEncoder':
        """A frozen encoder stays in eval mode."""
        return super().train(mode and not self.frozen)

    @property
    def device(self) -> torch.device:
        return self.encoder.token_embedding.weight.device

    # ------------------------------------------------------------- tokenizer
    def tokenize(self,
                 texts: Union[str, Sequence[str]],
                 truncate: bool = False) -> torch.Tensor:
        """Texts -> token ids ``[N, L]`` (LongTensor, zero padded).

        Each row is ``[SOT, bpe..., EOT, 0, ...]``. A text that needs more
        than ``L`` tokens raises ValueError unless ``truncate`` is True
        (then the last text tokens are dropped and EOT kept).
        """
        if isinstance(texts, str):
            texts = [texts]
        rows = []
        for text in texts:
            if not isinstance(text, str):
                raise TypeError(
                    f'tokenize expects strings, got {type(text).__name__}.')
            bpe_ids = self.tokenizer.encode(text)
            num_tokens = len(bpe_ids) + 2
            if num_tokens > self.context_length:
                if not truncate:
                    raise ValueError(
                        f'Text "{_short(text)}" has {num_tokens} tokens '
                        f'(with start/end tokens), more than the context '
                        f'length {self.context_length} of '
                        f'{self.arch_name}. Shorten it or pass '
                        f'truncate=True.')
                bpe_ids = bpe_ids[:self.context_length - 2]
            rows.append([self.sot_token_id] + bpe_ids + [self.eot_token_id])
        token_ids = torch.zeros(
            len(rows), self.context_length, dtype=torch.long)
        for index, row in enumerate(rows):
            token_ids[index, :len(row)] = torch.tensor(row, dtype=torch.long)
        return token_ids

    def word_token_id(self, word: str) -> int:
        """The BPE id of a word that is one token (e.g. ``'X'``)."""
        bpe_ids = self.tokenizer.encode(word)
        if len(bpe_ids) != 1:
            raise ValueError(
                f'"{word}" is {len(bpe_ids)} BPE tokens {bpe_ids}; a '
                f'placeholder must be a single token such as "X".')
        return bpe_ids[0]

    def find_placeholder_positions(self,
                                   token_ids: torch.Tensor,
                                   placeholder: str = 'X') -> torch.Tensor:
        """Positions of a placeholder word in tokenised ids.

        Args:
            token_ids: ``[L]`` or ``[N, L]`` from :meth:`tokenize`.
            placeholder: a single-token word (matched case-insensitively,
                as the tokenizer lowercases).

        Returns:
            ``[K]`` (for ``[L]``) or ``[N, K]`` LongTensor of positions in
            increasing order, ``K`` = occurrences per row.

        Raises:
            ValueError: the placeholder is absent or rows differ in count.
        """
        placeholder_id = self.word_token_id(placeholder)
        if token_ids.dim() not in (1, 2):
            raise ValueError('token_ids must be [L] or [N, L], got '
                             f'{tuple(token_ids.shape)}.')
        matches = token_ids == placeholder_id
        counts = matches.sum(dim=-1)
        if bool((counts == 0).any()):
            raise ValueError(
                f'Placeholder "{placeholder}" (token id {placeholder_id}) '
                f'does not occur in every row of the token ids.')
        if token_ids.dim() == 1:
            return matches.nonzero().flatten()
        if bool((counts != counts[0]).any()):
            raise ValueError(
                f'Rows hold different numbers of "{placeholder}": '
                f'{counts.tolist()}.')
        return matches.nonzero()[:, 1].view(token_ids.shape[0], -1)

    def eot_positions(self, token_ids: torch.Tensor) -> torch.Tensor:
        """Index of the (first) EOT token of every row: ``[N, L]`` -> ``[N]``.
        """
        is_eot = token_ids == self.eot_token_id
        if not bool(is_eot.any(dim=-1).all()):
            raise ValueError(
                f'Some rows of token_ids have no end-of-text token (id '
                f'{self.eot_token_id}); pass ids produced by tokenize() for '
                f'the same template.')
        return is_eot.int().argmax(dim=-1)

    # --------------------------------------------------------------- encoder
    def embed_tokens(self, token_ids: torch.Tensor) -> torch.Tensor:
        """Token ids ``[N, L]`` -> token embeddings ``[N, L, W]``."""
        return self.encoder.token_embedding(token_ids.to(self.device))

    def encode_embeddings(self, embeddings: torch.Tensor,
                          token_ids: torch.Tensor) -> torch.Tensor:
        """Run the text transformer on (possibly spliced) token embeddings.

        Adds the positional embedding, applies the causal transformer and
        ``ln_final``, takes the feature at the EOT position (found from
        ``token_ids``) and applies ``text_projection``.

        Args:
            embeddings: ``[N, L, W]`` with ``L <= context_length``.
            token_ids: ``[N, L]`` ids the embeddings stand for (only the EOT
                position is read); ``[L]`` / ``[1, L]`` is broadcast to all
                rows.

        Returns:
            ``[N, E]`` text features (not normalised).
        """
        if embeddings.dim() != 3:
            raise ValueError('embeddings must be [N, L, W], got '
                             f'{tuple(embeddings.shape)}.')
        num_texts, length, _ = embeddings.shape
        if length > self.context_length:
            raise ValueError(f'Sequence length {length} exceeds the context '
                             f'length {self.context_length}.')
        token_ids = token_ids.to(embeddings.device)
        if token_ids.dim() == 1:
            token_ids = token_ids[None]
        if token_ids.shape[0] == 1 and num_texts > 1:
            token_ids = token_ids.expand(num_texts, -1)
        if tuple(token_ids.shape) != (num_texts, length):
            raise ValueError(f'token_ids {tuple(token_ids.shape)} do not '
                             f'match embeddings {tuple(embeddings.shape)}.')
        encoder = self.encoder
        cast_dtype = encoder.transformer.get_cast_dtype()
        pos_embed = encoder.positional_embedding[:length].to(cast_dtype)
        x = embeddings.to(cast_dtype) + pos_embed
        attn_mask = encoder.attn_mask
        if attn_mask is not None:
            attn_mask = attn_mask[:length, :length]
        x = encoder.transformer(x, attn_mask=attn_mask)
        x = encoder.ln_final(x)
        rows = torch.arange(num_texts, device=x.device)
        x = x[rows, self.eot_positions(token_ids)]
        projection = encoder.text_projection
        if projection is None:
            return x
        if isinstance(projection, torch.nn.Linear):
            return projection(x)
        return x @ projection

    def encode_text(self,
                    texts: TextInput,
                    truncate: bool = False) -> torch.Tensor:
        """Texts (str / list of str) or token ids ``[N, L]`` -> ``[N, E]``.
        """
        if torch.is_tensor(texts):
            token_ids = texts
        else:
            token_ids = self.tokenize(texts, truncate=truncate)
        token_ids = token_ids.to(self.device)
        return self.encode_embeddings(self.embed_tokens(token_ids), token_ids)

    def forward(self, texts: TextInput) -> torch.Tensor:
        """Same as :meth:`encode_text`."""
        return self.encode_text(texts)
