# Copyright (c) mmreid_text contributors. All rights reserved.
"""DEEP Decoupled Semantic Prompt (DSP): spectral-shared tokens + inversion.
"""
import string
from typing import List, Optional, Sequence

import torch
from torch import nn

from mmreid_text.registry import MODELS
from ...utils.feature_contract import FeatureContract
from ...utils.modality import check_modality_feature, modality_presence_mask
from .base_prompt import BasePromptLearner
from .deep_inversion_network import InversionNetwork

SPECTRAL_SOURCES = ('learnable', 'inverted', 'none')
CONTENT_SOURCES = ('inverted', 'learnable', 'none')
TEMPLATE_FIELDS = ('spectral', 'content', 'class_name')


@MODELS.register_module()
class SpectralInversionPrompt(FeatureContract, BasePromptLearner):
    """Per-spectrum text prompts "A [S_m] photo of a S* <class>." (DSP).

    For every spectrum ``m`` the template's ``{spectral}`` slot holds the
    spectral-shared tokens ``S_m`` (``num_spectral_tokens`` learnable
    vectors per spectrum, shared by all samples), the ``{content}`` slot the
    instance pseudo-word ``S* = phi(v_m)`` produced by the inversion network
    from the spectrum's projected visual CLS, and ``{class_name}`` the
    object class word. The token embeddings of the tokenised template are
    taken from the frozen text encoder, the slot vectors are written at the
    placeholder positions (found from the token ids of a template written
    with ``'X'`` placeholders) and the sequence is encoded by the frozen
    text encoder -> ``p_m``.

    ``spectral_prompt`` / ``content_prompt`` select the source of each slot
    for DEEP Table VII: ``'learnable'`` (shared learnable vectors),
    ``'inverted'`` (an inversion network of the spectrum's visual feature;
    for the spectral slot one network per spectrum) or ``'none'`` (slot
    removed from the sentence; both ``'none'`` gives the fixed template
    "A photo of a person.").

    Masked missing-modality protocol: the prompt of a spectrum listed in a
    data sample's ``missing_modalities`` (set by ``ReIDDataPreprocessor``
    with ``missing_mode='masked'`` only) is replaced by zeros and marked
    False in ``feats[mask_key]``, so nothing inverted from a blanked input
    reaches a later component. In the default ``'input'`` protocol the
    prompt is inverted from the blank image as usual and the mask is all
    True.

    Args:
        embed_dims (int): ``E`` of the visual feature and of the text
            encoder output (512 for ViT-B/16).
        token_dims (int): ``W``, the text encoder's token width (512).
        modalities (Sequence[str]): Spectrum names in input order.
        class_name (str): Object class word (the dataset's
            ``METAINFO['classes'][0]``: ``'person'`` or ``'vehicle'``).
        known_class_names (Sequence[str]): Accepted class words.
        template (str): Sentence with ``{spectral}``, ``{content}`` and
            ``{class_name}`` fields.
        spectral_prompt (str): ``'learnable'`` | ``'inverted'`` | ``'none'``.
        num_spectral_tokens (int): Tokens of ``S_m``.
        content_prompt (str): ``'inverted'`` | ``'learnable'`` | ``'none'``.
        num_content_tokens (int): Tokens of ``S*``.
        inversion (dict): :class:`InversionNetwork` options
            (``hidden_dims``, ``num_layers``, ``act``, ``final_norm``,
            ``dropout``).
        in_key (str): Visual features ``[B, M, E]`` (``'proj_cls'``).
        out_key (str): Prompts ``p`` ``[B, M, E]``.
        mask_key (str): Presence mask ``[B, M]`` (False = missing).
        detach_visual (bool): Stop the gradient from the prompt into the
            visual feature.
        trim_context (bool): Run the text transformer on the template's
            tokens up to EOT only instead of the full context; the causal
            mask makes the output identical, it is just cheaper.
        init_std (float): Std of the learnable tokens' normal init.
        placeholder (str): One-token word marking slots in the template.
    """

    key_attrs = dict(reads=('in_key', ), writes=('out_key', 'mask_key'))

    def __init__(self,
                 embed_dims: int = 512,
                 token_dims: int = 512,
                 modalities: Sequence[str] = ('rgb', 'nir', 'tir'),
                 class_name: str = 'person',
                 known_class_names: Sequence[str] = ('person', 'vehicle'),
                 template: str = 'A {spectral} photo of a {content} '
                 '{class_name}.',
                 spectral_prompt: str = 'learnable',
                 num_spectral_tokens: int = 4,
                 content_prompt: str = 'inverted',
                 num_content_tokens: int = 1,
                 inversion: Optional[dict] = None,
                 in_key: str = 'proj_cls',
                 out_key: str = 'text',
                 mask_key: str = 'text_mask',
                 detach_visual: bool = False,
                 trim_context: bool = False,
                 init_std: float = 0.02,
                 placeholder: str = 'X',
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        name = type(self).__name__
        self.modalities = tuple(modalities)
        if not self.modalities or len(set(self.modalities)) != len(
                self.modalities):
            raise ValueError(f'{name}: modalities must be non-empty and '
                             f'unique, got {self.modalities}.')
        if spectral_prompt not in SPECTRAL_SOURCES:
            raise ValueError(f'{name}: spectral_prompt must be one of '
                             f'{SPECTRAL_SOURCES}, got {spectral_prompt!r}.')
        if content_prompt not in CONTENT_SOURCES:
            raise ValueError(f'{name}: content_prompt must be one of '
                             f'{CONTENT_SOURCES}, got {content_prompt!r}.')
        if not isinstance(class_name, str) or class_name.strip() == '':
            raise ValueError(f'{name}: class_name must be a word such as '
                             f'"person", got {class_name!r}.')
        if class_name not in tuple(known_class_names):
            raise ValueError(
                f'{name}: unknown class_name {class_name!r}. The prompt '
                'names the object class of the dataset (its '
                f'METAINFO["classes"]), one of {tuple(known_class_names)}; '
                'set class_name accordingly or add the word to '
                'known_class_names.')
        self._check_template(template, spectral_prompt, content_prompt)
        self.embed_dims = embed_dims
        self.token_dims = token_dims
        self.class_name = class_name
        self.template = template
        self.spectral_prompt = spectral_prompt
        self.content_prompt = content_prompt
        self.num_spectral_tokens = (0 if spectral_prompt == 'none' else
                                    int(num_spectral_tokens))
        self.num_content_tokens = (0 if content_prompt == 'none' else
                                   int(num_content_tokens))
        if spectral_prompt != 'none' and self.num_spectral_tokens < 1:
            raise ValueError(f'{name}: num_spectral_tokens must be >= 1.')
        if content_prompt != 'none' and self.num_content_tokens < 1:
            raise ValueError(f'{name}: num_content_tokens must be >= 1.')
        self.in_key = in_key
        self.out_key = out_key
        self.mask_key = mask_key
        self.detach_visual = detach_visual
        self.trim_context = trim_context
        self.placeholder = placeholder
        inversion = dict(inversion or {})
        num_modalities = len(self.modalities)

        self.spectral_tokens = None
        self.spectral_inverters = None
        if spectral_prompt == 'learnable':
            self.spectral_tokens = nn.Parameter(
                torch.empty(num_modalities, self.num_spectral_tokens,
                            token_dims).normal_(std=init_std))
        elif spectral_prompt == 'inverted':
            self.spectral_inverters = nn.ModuleList([
                InversionNetwork(
                    embed_dims,
                    token_dims,
                    num_tokens=self.num_spectral_tokens,
                    **inversion) for _ in range(num_modalities)
            ])
        self.content_tokens = None
        self.content_inverter = None
        if content_prompt == 'learnable':
            self.content_tokens = nn.Parameter(
                torch.empty(self.num_content_tokens,
                            token_dims).normal_(std=init_std))
        elif content_prompt == 'inverted':
            self.content_inverter = InversionNetwork(
                embed_dims,
                token_dims,
                num_tokens=self.num_content_tokens,
                **inversion)
        self.prompt_text = self.format_prompt()

    # --------------------------------------------------------------- template
    @staticmethod
    def _check_template(template: str, spectral_prompt: str,
                        content_prompt: str) -> None:
        fields = [
            field for _, field, _, _ in string.Formatter().parse(template)
            if field is not None
        ]
        unknown = sorted(set(fields) - set(TEMPLATE_FIELDS))
        if unknown:
            raise ValueError(
                f'SpectralInversionPrompt: template "{template}" has unknown '
                f'fields {unknown}; use {{spectral}}, {{content}} and '
                '{class_name}.')
        needed = ['class_name']
        if spectral_prompt != 'none':
            needed.append('spectral')
        if content_prompt != 'none':
            needed.append('content')
        for field in needed:
            if fields.count(field) != 1:
                raise ValueError(
                    f'SpectralInversionPrompt: template "{template}" must '
                    f'contain {{{field}}} exactly once.')

    def format_prompt(self) -> str:
        """The template with ``'X'`` placeholders, e.g.
        ``'A X X X X photo of a X person.'``."""
        text = self.template.format(
            spectral=' '.join([self.placeholder] * self.num_spectral_tokens),
            content=' '.join([self.placeholder] * self.num_content_tokens),
            class_name=self.class_name)
        return ' '.join(text.split())

    def _slot_order(self) -> List[str]:
        """Slot groups in the order they appear in the template."""
        slots = []
        for _, field, _, _ in string.Formatter().parse(self.template):
            if field == 'spectral' and self.num_spectral_tokens:
                slots.append('spectral')
            elif field == 'content' and self.num_content_tokens:
                slots.append('content')
        return slots

    # ---------------------------------------------------------- text encoder
    def set_text_encoder(self, encoder: nn.Module) -> None:
        """Keep a reference to the shared frozen encoder (not a submodule)
        and tokenise the template."""
        token_ids, positions, self.used_length = self._attach(
            encoder, self.num_spectral_tokens + self.num_content_tokens,
            f'lower num_spectral_tokens ({self.num_spectral_tokens}) / '
            f'num_content_tokens ({self.num_content_tokens}) or shorten the '
            'template')
        groups = {'spectral': positions[:0], 'content': positions[:0]}
        start = 0
        for slot in self._slot_order():
            count = (
                self.num_spectral_tokens
                if slot == 'spectral' else self.num_content_tokens)
            groups[slot] = positions[start:start + count]
            start += count
        device = encoder.device
        self.register_buffer(
            'token_ids', token_ids.to(device), persistent=False)
        self.register_buffer(
            'spectral_positions',
            groups['spectral'].to(device),
            persistent=False)
        self.register_buffer(
            'content_positions',
            groups['content'].to(device),
            persistent=False)

    # --------------------------------------------------------------- forward
    def _spectral_slots(self, visual: torch.Tensor) -> torch.Tensor:
        """``[B or 1, M, K, W]``."""
        if self.spectral_tokens is not None:
            return self.spectral_tokens[None]
        slots = [
            inverter(visual[:, index])
            for index, inverter in enumerate(self.spectral_inverters)
        ]
        return torch.stack(slots, dim=1)

    def _content_slots(self, visual: torch.Tensor) -> torch.Tensor:
        """``[B or 1, M or 1, Kc, W]``."""
        if self.content_tokens is not None:
            return self.content_tokens[None, None]
        return self.content_inverter(visual)

    def build_embeddings(self, visual: torch.Tensor) -> torch.Tensor:
        """Spliced token embeddings ``[B', M, L, W]``.

        ``B' = B`` when a slot is inverted from ``visual`` ``[B, M, E]``,
        else 1 (the prompts do not depend on the sample).
        """
        encoder = self.text_encoder
        per_sample = (
            self.spectral_inverters is not None
            or self.content_inverter is not None)
        rows = visual.shape[0] if per_sample else 1
        num_modalities = len(self.modalities)
        token_ids = self.token_ids[:self.used_length]
        with torch.no_grad():
            template = encoder.embed_tokens(token_ids[None])
        embeddings = template.to(visual.dtype).expand(rows * num_modalities,
                                                      -1, -1).clone()
        if self.num_spectral_tokens:
            slots = self._spectral_slots(visual).expand(
                rows, num_modalities, -1, -1)
            embeddings[:, self.spectral_positions] = slots.reshape(
                rows * num_modalities, self.num_spectral_tokens,
                -1).to(embeddings.dtype)
        if self.num_content_tokens:
            slots = self._content_slots(visual).expand(rows, num_modalities,
                                                       -1, -1)
            embeddings[:, self.content_positions] = slots.reshape(
                rows * num_modalities, self.num_content_tokens,
                -1).to(embeddings.dtype)
        return embeddings.view(rows, num_modalities, *embeddings.shape[1:])

    def forward(self,
                feats: dict,
                data_samples: Optional[List] = None) -> dict:
        """Add ``feats[out_key]`` ``[B, M, E]`` and ``feats[mask_key]``
        ``[B, M]``."""
        num_modalities = len(self.modalities)
        check_modality_feature(feats, self.in_key, num_modalities,
                               self.embed_dims,
                               type(self).__name__)
        visual = feats[self.in_key]
        if self.detach_visual:
            visual = visual.detach()
        batch = visual.shape[0]
        embeddings = self.build_embeddings(visual)
        rows = embeddings.shape[0]
        text = self.text_encoder.encode_embeddings(
            embeddings.flatten(0, 1), self.token_ids[:self.used_length])
        text = text.view(rows, num_modalities, -1).expand(batch, -1, -1)
        present = modality_presence_mask(data_samples, self.modalities, batch,
                                         visual.device)
        out = dict(feats)
        out[self.out_key] = text * present[:, :, None].to(text.dtype)
        out[self.mask_key] = present
        return out
