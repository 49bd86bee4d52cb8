# Copyright (c) mmreid_text contributors. All rights reserved.
from typing import Optional, Sequence

import torch
from mmengine.model import BaseDataPreprocessor

from mmreid_text.registry import MODELS


@MODELS.register_module()
class ReIDDataPreprocessor(BaseDataPreprocessor):
    """Normalise and stack ReID inputs; blank missing modalities at test.

    Takes the packed uint8 inputs (``[M, 3, H, W]`` per image sample or
    ``[M, T, 3, H, W]`` per tracklet), stacks them to ``[B, M, 3, H, W]``
    / ``[B, M, T, 3, H, W]`` on the model's device and normalises each
    channel: ``(x - mean) / std`` (pixel scale 0..255).

    Missing-modality protocol: at test time the normalised input of every
    modality in ``missing_modalities`` is replaced by ``blank_value``
    (0 = the mean colour, i.e. a uniform grey image, as DeMo / IDEA do) for
    query and gallery alike, and the captions of missing modalities are
    replaced by empty strings (their ``caption_sentences`` by empty lists).
    Training inputs are never blanked.
    ``missing_mode`` says what the model learns about it:

    - ``'input'`` (default; DEEP Tables XIII / XIV, "the missing spectrum
      input is replaced by zeros"): nothing else. The model runs unchanged
      on the blanked images, exactly as on a batch whose missing images
      are ``blank_value``.
    - ``'masked'``: each data sample also gets ``missing_modalities`` in its
      metainfo, so components that read it
      (:func:`~mmreid_text.models.utils.modality_presence_mask`) leave the
      blanked modalities out (DEEP: the prompt is zeroed, left out of the
      Eq. 9 softmax and of the retrieval feature).

    Args:
        mean (Sequence[float]): Per-channel mean, pixel scale.
        std (Sequence[float]): Per-channel std, pixel scale.
        missing_modalities (Sequence[str]): Modalities to blank at test
            time. Can be changed between test runs.
        blank_value (float): Value of a blanked modality after
            normalisation.
        missing_mode (str): ``'input'`` or ``'masked'``, see above. Can be
            changed between test runs.
    """

    MISSING_MODES = ('input', 'masked')

    def __init__(self,
                 mean: Sequence[float] = (127.5, 127.5, 127.5),
                 std: Sequence[float] = (127.5, 127.5, 127.5),
                 missing_modalities: Sequence[str] = (),
                 blank_value: float = 0.0,
                 missing_mode: str = 'input') -> None:
        super().__init__()
        if len(mean) != 3 or len(std) != 3:
            raise ValueError('mean and std need 3 values (RGB channels).')
        self.register_buffer('mean', torch.tensor(mean).view(3, 1, 1), False)
        self.register_buffer('std', torch.tensor(std).view(3, 1, 1), False)
        self.missing_modalities = tuple(missing_modalities)
        self.blank_value = blank_value
        self.missing_mode = missing_mode
        self._check_missing_mode()

    def _check_missing_mode(self) -> None:
        if self.missing_mode not in self.MISSING_MODES:
            raise ValueError(
                'ReIDDataPreprocessor: missing_mode must be one of '
                f'{self.MISSING_MODES}, got {self.missing_mode!r} ("input" = '
                'blank the input only, "masked" = also name the missing '
                'modalities in metainfo["missing_modalities"]).')

    def forward(self, data: dict, training: bool = False) -> dict:
        data = self.cast_data(data)
        inputs = data['inputs']
        samples = data.get('data_samples')
        if isinstance(inputs, (list, tuple)):
            shapes = {tuple(x.shape) for x in inputs}
            if len(shapes) != 1:
                raise ValueError(
                    'Inputs of one batch differ in shape '
                    f'{sorted(shapes)}; every pipeline must end with the '
                    'same image size (Resize / RandomCrop).')
            inputs = torch.stack(list(inputs))
        if inputs.dim() not in (5, 6):
            raise ValueError('Expected inputs [B, M, 3, H, W] or '
                             f'[B, M, T, 3, H, W], got {tuple(inputs.shape)}')
        inputs = (inputs.float() - self.mean) / self.std
        if not training and self.missing_modalities:
            inputs = self.blank(inputs, samples)
        return dict(inputs=inputs, data_samples=samples)

    def blank(self, inputs: torch.Tensor,
              samples: Optional[list]) -> torch.Tensor:
        """Replace the missing modalities of ``inputs`` by blank_value.

        Blanks their captions too and, with ``missing_mode='masked'``, sets
        ``metainfo['missing_modalities']`` of every sample.
        """
        self._check_missing_mode()
        if not samples:
            raise ValueError('Blanking modalities needs data samples that '
                             'name the modality order.')
        order = tuple(samples[0].metainfo['modalities'])
        unknown = set(self.missing_modalities) - set(order)
        if unknown:
            raise ValueError(
                f'missing_modalities {sorted(unknown)} are not among the '
                f'dataset modalities {order}.')
        if len(self.missing_modalities) >= len(order):
            raise ValueError('At least one modality must stay present; '
                             f'all of {order} are marked missing.')
        inputs = inputs.clone()
        for mod in self.missing_modalities:
            inputs[:, order.index(mod)] = self.blank_value
        masked = self.missing_mode == 'masked'
        for s in samples:
            meta = dict(
                missing_modalities=self.missing_modalities) if masked else {}
            captions = s.metainfo.get('captions')
            if captions:  # no text of a missing modality reaches the model
                meta['captions'] = {
                    m: ('' if m in self.missing_modalities else text)
                    for m, text in captions.items()
                }
            sentences = s.metainfo.get('caption_sentences')
            if sentences:  # NEXT's per-sentence captions, likewise
                meta['caption_sentences'] = {
                    m: ([] if m in self.missing_modalities else list(v))
                    for m, v in sentences.items()
                }
            if meta:
                s.set_metainfo(meta)
        return inputs
