# Copyright (c) mmreid_text contributors. All rights reserved.
"""A reference to the model's shared CLIP text encoder."""
from typing import List, Optional

import torch
from torch import nn


class TextEncoderRef:
    """Mixin of the components that use ``ReIDModel.text_encoder``.

    ``ReIDModel`` calls ``set_text_encoder(model.text_encoder)`` at build
    time on every neck / head that has the method. The encoder is kept in
    a list, so it is a plain attribute and not a submodule: its parameters
    are counted, optimised and stored in checkpoints once (under
    ``text_encoder.``), not again under every user.

    The default :meth:`set_text_encoder` checks the optional
    ``self.embed_dims`` against the encoder's output width; components
    that prepare more (prompt learners tokenise their template) override
    it and call :meth:`_keep_text_encoder`.
    """

    _text_encoder: Optional[List[nn.Module]] = None

    def set_text_encoder(self, encoder: nn.Module) -> None:
        """Keep a reference to the shared ``TextEncoder``."""
        self._keep_text_encoder(
            encoder, embed_dims=getattr(self, 'embed_dims', None))

    def _keep_text_encoder(self,
                           encoder: nn.Module,
                           embed_dims: Optional[int] = None,
                           token_dims: Optional[int] = None) -> None:
        """Check the widths (those not None) and keep ``encoder``.

        Args:
            encoder: The ``TextEncoder``.
            embed_dims: Expected output feature width ``E``.
            token_dims: Expected token embedding width ``W``.
        """
        name = type(self).__name__
        if token_dims is not None and encoder.width != token_dims:
            raise ValueError(f'{name}: token_dims={token_dims} but the '
                             f'text encoder width is {encoder.width}.')
        if embed_dims is not None and encoder.embed_dim != embed_dims:
            raise ValueError(f'{name}: embed_dims={embed_dims} but the '
                             'text encoder outputs '
                             f'{encoder.embed_dim}-d features.')
        self._text_encoder = [encoder]

    @property
    def text_encoder(self) -> nn.Module:
        """The shared ``TextEncoder`` (raises before ``set_text_encoder``)."""
        if self._text_encoder is None:
            raise RuntimeError(
                f'{type(self).__name__} has no text encoder; build it inside '
                'ReIDModel with model.text_encoder set, or call '
                'set_text_encoder().')
        return self._text_encoder[0]

    def used_context(self, token_ids: torch.Tensor) -> int:
        """Tokens up to the last EOT of ``token_ids`` ``[N, L]``: the
        length the padding can be cut to (the causal mask makes the
        features identical)."""
        return int(self.text_encoder.eot_positions(token_ids).max()) + 1

    def encode_token_ids(self,
                         token_ids: torch.Tensor,
                         trim_context: bool = True) -> torch.Tensor:
        """Token ids ``[N, L]`` -> text features ``[N, E]`` (not
        normalised) in one encoder call; with ``trim_context`` the common
        padding is cut first. Without a trainable encoder parameter no
        autograd graph is built."""
        encoder = self.text_encoder
        if trim_context:
            token_ids = token_ids[:, :self.used_context(token_ids)]
        token_ids = token_ids.to(encoder.device)
        needs_grad = any(p.requires_grad for p in encoder.parameters())
        with torch.set_grad_enabled(torch.is_grad_enabled() and needs_grad):
            return encoder.encode_embeddings(
                encoder.embed_tokens(token_ids), token_ids)
