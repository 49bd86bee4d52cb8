# Copyright (c) mmreid_text contributors. All rights reserved.
from typing import Sequence

import numpy as np
import torch
from mmcv.transforms import BaseTransform

from mmreid_text.registry import TRANSFORMS
from mmreid_text.structures import ReIDDataSample


@TRANSFORMS.register_module()
class PackReIDInputs(BaseTransform):
    """Pack the images and annotations of one sample.

    ``inputs`` becomes a uint8 tensor ``[M, 3, H, W]`` for images or
    ``[M, T, 3, H, W]`` for tracklets (``num_frames`` > 1 or
    ``video=True``); ``data_samples`` a :class:`ReIDDataSample` whose
    metainfo holds ``meta_keys`` found in the results (a key the sample
    lacks is skipped, so the video keys ``modality`` and ``frame_inds`` of
    :class:`SampleFrames` / visible-infrared datasets cost image datasets
    nothing). A visible-infrared tracklet (one modality) packs to
    ``[1, T, 3, H, W]``.

    Args:
        meta_keys (Sequence[str]): Keys copied into the data sample.
        video (bool): Always keep the frame axis ``T`` (even when 1).
    """

    DEFAULT_META_KEYS = ('pid', 'camid', 'scene_id', 'modalities', 'modality',
                         'is_query', 'is_gallery', 'sample_idx', 'img_path',
                         'captions', 'num_frames', 'frame_inds', 'img_shape')

    def __init__(self,
                 meta_keys: Sequence[str] = DEFAULT_META_KEYS,
                 video: bool = False) -> None:
        self.meta_keys = tuple(meta_keys)
        self.video = video

    def transform(self, results: dict) -> dict:
        imgs = results['img']
        shapes = {img.shape for img in imgs}
        if len(shapes) != 1:
            raise ValueError(
                f'Sample {results.get("sample_idx")} '
                f'({results.get("img_path")}): its modality images have '
                f'different shapes {sorted(shapes)} after the pipeline; add '
                'a Resize inside BroadcastToModalities.')
        arr = np.stack(imgs).transpose(0, 3, 1, 2)  # [M*T, 3, H, W]
        num_mod = len(results['modalities'])
        num_frames = results.get('num_frames', 1)
        if arr.shape[0] != num_mod * num_frames:
            raise ValueError(
                f'Sample {results.get("sample_idx")}: expected '
                f'{num_mod} x {num_frames} images, got {arr.shape[0]}.')
        inputs = torch.from_numpy(np.ascontiguousarray(arr))
        if self.video or num_frames > 1:
            inputs = inputs.view(num_mod, num_frames, *inputs.shape[1:])
        sample = ReIDDataSample()
        sample.set_metainfo(
            {k: results[k]
             for k in self.meta_keys if k in results})
        return dict(inputs=inputs, data_samples=sample)

    def __repr__(self) -> str:
        return f'{type(self).__name__}(meta_keys={self.meta_keys})'
