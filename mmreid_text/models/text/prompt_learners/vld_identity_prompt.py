# Copyright (c) mmreid_text contributors. All rights reserved.
"""VLD invariant-modality language prompting (IMLP): identity-level prompts.
"""
import string
from typing import List, Optional

import torch
from torch import nn

from mmreid_text.registry import MODELS
from ...utils.feature_contract import FeatureContract
from .base_prompt import BasePromptLearner


@MODELS.register_module()
class IdentityPrompt(FeatureContract, BasePromptLearner):
    """Identity-level learnable prompts, all identities every step (IMLP).

    Every training identity ``y`` owns ``num_tokens`` (``M`` = 4) learnable
    token vectors ``[X]_1..[X]_M`` spliced into one shared template (VLD
    Sec. III-C, default "A [X]_1 [X]_2 [X]_3 [X]_4 person observed in both
    day and night conditions."). The template is written with
    ``placeholder`` words in its ``{tokens}`` field and tokenised; the
    placeholder positions are found from the token ids, the template's
    token embeddings come from the frozen text encoder and the identity
    vectors replace the placeholder embeddings. In training mode the
    prompts of **all** ``num_ids`` identities go through the frozen text
    encoder at every forward, giving the classifier prototypes
    ``feats[out_key]`` ``[num_ids, E]`` of the ``v2t`` loss (Eq. 5,
    :class:`VisualToTextLoss`). Gradients reach only the identity tokens
    (the encoder and the template embeddings are frozen / constant).

    At test time (eval mode) nothing is computed and ``feats`` is returned
    unchanged: the text classifier is a training signal only and never
    enters the retrieval feature (VLD tests on unseen identities);
    :meth:`identity_text_features` gives the bank on demand.

    Args:
        num_ids (int): Training identities ``N_y`` (500 for HITSZ-VCM,
            1074 for BUPTCampus).
        num_tokens (int): ``M``, learnable tokens per identity.
        template (str): Sentence with one ``{tokens}`` field (Table VII
            templates: ``'{tokens} person.'``, ``'A {tokens} person.'``...).
        token_dims (int): ``W``, the text encoder's token width (512).
        embed_dims (int): ``E``, the text encoder's output width (512).
        init_std (float): Std of the tokens' normal init (0.02, as the
            public VLD code and CLIP-ReID).
        out_key (str): Key of the text bank ``[num_ids, E]``.
        trim_context (bool): Run the text transformer on the tokens up to
            EOT only (default); the causal mask makes the result identical
            to the full 77-token context, it is only cheaper.
        placeholder (str): One-token word marking the slots.
    """

    key_attrs = dict(reads=(), writes=(), train_writes=('out_key', ))

    def __init__(self,
                 num_ids: int,
                 num_tokens: int = 4,
                 template: str = 'A {tokens} person observed in both day '
                 'and night conditions.',
                 token_dims: int = 512,
                 embed_dims: int = 512,
                 init_std: float = 0.02,
                 out_key: str = 'id_text',
                 trim_context: bool = True,
                 placeholder: str = 'X',
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        name = type(self).__name__
        if int(num_ids) < 1 or int(num_tokens) < 1:
            raise ValueError(f'{name}: num_ids and num_tokens must be >= 1, '
                             f'got {num_ids} and {num_tokens}.')
        fields = [
            field for _, field, _, _ in string.Formatter().parse(template)
            if field is not None
        ]
        if fields != ['tokens']:
            raise ValueError(
                f'{name}: template "{template}" must contain the field '
                '{tokens} exactly once and no other field, e.g. '
                '"A {tokens} person observed in both day and night '
                'conditions."')
        self.num_ids = int(num_ids)
        self.num_tokens = int(num_tokens)
        self.template = template
        self.token_dims = token_dims
        self.embed_dims = embed_dims
        self.out_key = out_key
        self.trim_context = trim_context
        self.placeholder = placeholder
        self.prompt_text = ' '.join(
            template.format(tokens=' '.join([placeholder] *
                                            self.num_tokens)).split())
        self.id_tokens = nn.Parameter(
            torch.empty(self.num_ids, self.num_tokens,
                        token_dims).normal_(std=init_std))

    # ---------------------------------------------------------- text encoder
    def set_text_encoder(self, encoder: nn.Module) -> None:
        """Keep a reference to the shared frozen encoder (not a submodule),
        tokenise the template and locate the placeholders."""
        token_ids, positions, used = self._attach(
            encoder, self.num_tokens,
            'shorten the template or lower num_tokens')
        device = encoder.device
        self.register_buffer(
            'token_ids', token_ids[:used].to(device), persistent=False)
        self.register_buffer(
            'token_positions', positions.to(device), persistent=False)

    # --------------------------------------------------------------- forward
    def build_embeddings(self) -> torch.Tensor:
        """Spliced token embeddings of all identities ``[num_ids, L, W]``."""
        encoder = self.text_encoder
        with torch.no_grad():
            template = encoder.embed_tokens(self.token_ids[None])
        embeddings = template.to(self.id_tokens.dtype).expand(
            self.num_ids, -1, -1).clone()
        embeddings[:, self.token_positions] = self.id_tokens
        return embeddings

    def identity_text_features(self) -> torch.Tensor:
        """Text features of all identities ``[num_ids, E]`` (not
        normalised)."""
        return self.text_encoder.encode_embeddings(self.build_embeddings(),
                                                   self.token_ids)

    def forward(self,
                feats: dict,
                data_samples: Optional[List] = None) -> dict:
        """Training: add ``feats[out_key]`` ``[num_ids, E]``; eval: no-op.
        """
        if not self.training:
            return feats
        out = dict(feats)
        out[self.out_key] = self.identity_text_features()
        return out
