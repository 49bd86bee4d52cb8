# Copyright (c) mmreid_text contributors. All rights reserved.
"""What every prompt learner does with the shared frozen text encoder."""
from typing import Tuple

import torch
from mmengine.model import BaseModule
from torch import nn

from ..text_encoder_ref import TextEncoderRef


class BasePromptLearner(TextEncoderRef, BaseModule):
    """Holds the shared frozen ``TextEncoder`` (a reference, not a
    submodule, so it is stored once in checkpoints) and tokenises a
    prompt with learnable placeholder slots.

    Subclasses set ``token_dims``, ``embed_dims``, ``prompt_text``,
    ``placeholder`` and ``trim_context`` before ``set_text_encoder`` is
    called (``ReIDModel`` calls it at build time), and implement
    ``set_text_encoder`` with :meth:`_attach`.
    """

    def _attach(self, encoder: nn.Module, num_slots: int,
                shorten_hint: str) -> Tuple[torch.Tensor, torch.Tensor, int]:
        """Check ``encoder`` against this learner, keep a reference to it
        and tokenise ``prompt_text``.

        Args:
            encoder: The frozen ``TextEncoder``.
            num_slots: Placeholder tokens the prompt must hold.
            shorten_hint: How to make a too long prompt fit (message).

        Returns:
            ``(token_ids [context_length], placeholder positions
            [num_slots], used length)``; the used length ends at the EOT
            token with ``trim_context`` (the causal mask makes the features
            identical), else it is the whole context.
        """
        name = type(self).__name__
        self._keep_text_encoder(
            encoder, embed_dims=self.embed_dims, token_dims=self.token_dims)
        num_tokens = len(encoder.tokenizer.encode(self.prompt_text)) + 2
        if num_tokens > encoder.context_length:
            raise ValueError(
                f'{name}: the prompt "{self.prompt_text[:100]}..." needs '
                f'{num_tokens} tokens (with start/end), more than the '
                f'{encoder.context_length}-token context of the text '
                f'encoder; {shorten_hint}.')
        token_ids = encoder.tokenize(self.prompt_text)[0]
        if num_slots:
            positions = encoder.find_placeholder_positions(
                token_ids, self.placeholder)
        else:
            positions = token_ids.new_zeros(0)
        if len(positions) != num_slots:
            raise ValueError(
                f'{name}: the tokenised prompt "{self.prompt_text}" holds '
                f'{len(positions)} placeholder tokens "{self.placeholder}" '
                f'but {num_slots} slots were asked for; the template (and '
                'class name) must not contain the placeholder word itself.')
        used = (
            self.used_context(token_ids[None])
            if self.trim_context else encoder.context_length)
        return token_ids, positions, used
