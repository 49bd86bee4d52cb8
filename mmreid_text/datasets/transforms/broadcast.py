# Copyright (c) mmreid_text contributors. All rights reserved.
from typing import List, Union

from mmcv.transforms import TransformBroadcaster

from mmreid_text.registry import TRANSFORMS


@TRANSFORMS.register_module()
class BroadcastToModalities(TransformBroadcaster):
    """Apply transforms to every modality with ONE random decision.

    The images of a sample (``results['img']``, a list filled by
    :class:`LoadMultiModalImages`: modalities, and frames of tracklets) are
    transformed one by one with shared random parameters, so an aligned
    RGB/NIR/TIR triplet receives the same crop, flip and erased region.
    Any mmcv / mmpretrain transform whose randomness is drawn once per call
    through ``cache_randomness`` works inside (``Resize``, ``Pad``,
    ``RandomCrop``, ``RandomFlip``, ``RandomErasing``...); one that draws
    twice raises mmcv's error rather than silently misaligning.

    Example::

        dict(type='BroadcastToModalities', transforms=[
            dict(type='Resize', scale=(128, 256)),
            dict(type='RandomFlip', prob=0.5, direction='horizontal'),
            dict(type='RandomCrop', crop_size=(256, 128), padding=10),
        ])

    Args:
        transforms (list[dict | callable]): Transforms to broadcast.
    """

    def __init__(self, transforms: List[Union[dict, callable]]) -> None:
        super().__init__(
            transforms=transforms,
            mapping={'img': 'img'},
            auto_remap=True,
            share_random_params=True)

    def transform(self, results: dict) -> dict:
        results = super().transform(results)
        results['img_shape'] = results['img'][0].shape[:2]
        return results
