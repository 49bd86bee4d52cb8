# Copyright (c) mmreid_text contributors. All rights reserved.
"""Per-image caption features through the model's CLIP text encoder (EEES
ESE)."""
from typing import List, Optional, Sequence, Tuple

import torch
from mmengine.model import BaseModule

from mmreid_text.registry import MODELS
from ..utils.feature_contract import FeatureContract
from .text_encoder_ref import TextEncoderRef


def _image_name(metainfo: dict, modality: Optional[str]) -> str:
    """The image path of a sample for error messages."""
    for key in ('rel_img_path', 'img_path'):
        path = metainfo.get(key)
        if isinstance(path, dict):
            path = path.get(modality, path)
        if path:
            return str(path)
    return '<unknown image>'


@MODELS.register_module()
class CaptionTextEncoder(TextEncoderRef, FeatureContract, BaseModule):
    """Encode each sample's own caption into ``feats[out_key]``.

    EEES ESE (Eq. 3-5): the description ``l_i`` of every image (from the
    caption files, put into ``metainfo['captions']`` = ``{modality:
    text}`` by the ``LoadCaptions`` pipeline step) is tokenised with the
    text encoder's BPE tokenizer and encoded by the model's CLIP text
    encoder into ``t_i`` (``[B, E]``, not normalised). With
    ``modalities=None`` (default, one modality per sample as SYSU-MM01 /
    RegDB) sample ``i`` uses the caption of its own modality
    ``metainfo['modality']``; with ``modalities=('rgb', 'nir', 'tir')``
    (every modality in every sample) it encodes one caption per listed
    modality into ``[B, M, E]``.

    The text encoder is ``ReIDModel.text_encoder`` (``set_text_encoder``
    keeps a reference, not a submodule). EEES fine-tunes it at its own
    learning rate (1e-6 vs 3e-4): set ``TextEncoder(frozen=False)`` and
    ``paramwise_cfg=dict(custom_keys={'text_encoder': dict(lr_mult=1e-6 /
    3e-4)})`` in the config; a frozen encoder works as well (then no
    gradient reaches it).

    Training only by default: in eval mode nothing is computed (EEES
    inference is visual only), unless ``encode_at_test=True``.

    The image side of ESE / CVSC / CMSP is the backbone's ``'proj_cls'``
    (``[B, 1, E]``; for RN50 CLIP's attention pool, 1024-d = the text
    embedding width): ``f_i`` "in a common space" with ``t_i``.

    Args:
        out_key (str): Output key, ``[B, E]`` (or ``[B, M, E]``).
        modalities (Sequence[str], optional): See above.
        embed_dims (int, optional): Expected text embedding width ``E``
            (checked against the encoder).
        truncate (bool): Let the tokenizer drop the tokens of a caption
            beyond the context (77) instead of raising. ``LoadCaptions``
            already fits captions to the context (``overflow`` rules).
        encode_at_test (bool): Also encode in eval mode (needs captions in
            the test pipeline).
    """

    def __init__(self,
                 out_key: str = 'caption_text',
                 modalities: Optional[Sequence[str]] = None,
                 embed_dims: Optional[int] = None,
                 truncate: bool = False,
                 encode_at_test: bool = False,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.out_key = out_key
        self.modalities = tuple(modalities) if modalities else None
        self.embed_dims = embed_dims
        self.truncate = truncate
        self.encode_at_test = encode_at_test

    # ------------------------------------------------------------- contract
    @property
    def reads(self) -> Tuple[str, ...]:
        return ()

    @property
    def writes(self) -> Tuple[str, ...]:
        return (self.out_key, ) if self.encode_at_test else ()

    @property
    def train_writes(self) -> Tuple[str, ...]:
        return () if self.encode_at_test else (self.out_key, )

    # --------------------------------------------------------------- inputs
    def sample_captions(self, data_samples: Sequence) -> List[str]:
        """The captions to encode, sample-major: ``B`` texts (own
        modality) or ``B * M`` (``modalities`` set).

        Raises:
            KeyError: a sample has no caption of the needed modality.
        """
        name = type(self).__name__
        texts = []
        for sample in data_samples:
            metainfo = sample.metainfo
            if self.modalities is not None:
                wanted = self.modalities
            else:
                modality = metainfo.get('modality')
                if modality is None:
                    raise KeyError(
                        f'{name}: sample {_image_name(metainfo, None)!r} has '
                        'no metainfo["modality"] (the modality whose caption '
                        'to encode); the dataset must set it for '
                        'one-modality samples, or set modalities=(...) of '
                        f'{name} for samples with every modality.')
                wanted = (modality, )
            captions = metainfo.get('captions')
            for modality in wanted:
                text = captions.get(modality) if isinstance(captions,
                                                            dict) else None
                if not isinstance(text, str):
                    image = _image_name(metainfo, modality)
                    where = ('the sample has no captions: add '
                             'LoadCaptions(caption_file=...) to the training '
                             'pipeline (before PackReIDInputs)'
                             if not isinstance(captions, dict) else
                             f'its captions hold only {sorted(captions)}')
                    raise KeyError(
                        f'{name}: no {modality!r} caption for image '
                        f'{image!r}; {where}. Missing captions are never '
                        'replaced silently: regenerate the caption file, or '
                        "allow them with LoadCaptions(on_missing='empty' | "
                        "'fallback_template').")
                texts.append(text)
        return texts

    def encode(self, texts: Sequence[str]) -> torch.Tensor:
        """Texts -> ``[N, E]`` (the context is trimmed to the longest text;
        the causal mask makes the features those of the full context)."""
        try:
            token_ids = self.text_encoder.tokenize(
                list(texts), truncate=self.truncate)
        except ValueError as error:
            raise ValueError(
                f'{type(self).__name__}: {error} LoadCaptions fits captions '
                'to the context with its overflow rule; or set '
                'truncate=True here.') from error
        return self.encode_token_ids(token_ids)

    # -------------------------------------------------------------- forward
    def forward(self,
                feats: dict,
                data_samples: Optional[List] = None) -> dict:
        """Training (or ``encode_at_test``): add ``feats[out_key]``."""
        if not self.training and not self.encode_at_test:
            return feats
        if not data_samples:
            raise ValueError(f'{type(self).__name__} needs the data samples '
                             '(their captions) to encode.')
        text = self.encode(self.sample_captions(data_samples))
        if self.modalities is not None:
            text = text.view(len(data_samples), len(self.modalities), -1)
        out = dict(feats)
        out[self.out_key] = text
        return out
