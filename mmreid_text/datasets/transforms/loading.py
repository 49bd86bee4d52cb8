# Copyright (c) mmreid_text contributors. All rights reserved.
import os.path as osp
from typing import List, Optional, Sequence

import mmcv
import numpy as np
from mmcv.transforms import BaseTransform
from mmengine.fileio import get

from mmreid_text.registry import TRANSFORMS


def read_image(path: str, channel_order: str = 'rgb') -> np.ndarray:
    """Decode one image file to an ``[H, W, 3]`` uint8 array.

    Raises a clear error naming the file when it is missing or cannot be
    decoded (truncated / corrupt / not an image).
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'Image file not found: "{path}".')
    try:
        img_bytes = get(path)
        img = mmcv.imfrombytes(
            img_bytes, flag='color', channel_order=channel_order)
    except Exception as err:  # cv2 / pillow raise various types
        raise OSError(f'Cannot decode image "{path}": {err}. The file is '
                      'corrupt or not an image; restore it from the '
                      'original archive.') from err
    if img is None or img.size == 0:
        raise OSError(f'Cannot decode image "{path}": the file is corrupt '
                      'or not an image; restore it from the original '
                      'archive.')
    return img


@TRANSFORMS.register_module()
class LoadMultiModalImages(BaseTransform):
    """Load every modality (and frame) of one sample.

    Reads ``results['img_path']`` (``{modality: path}`` or
    ``{modality: [frame paths]}``) in the order of ``results['modalities']``
    and sets ``results['img']`` to a flat list of ``[H, W, 3]`` uint8 arrays
    (modality-major, frames inside), plus ``num_frames`` (1 for images).

    Benchmarks that store all modalities side by side in one file
    (RGBNT100: RGB | NIR | TIR in a 768x128 image) set ``tiles``: the file
    is read once and cut into ``tiles`` equal-width tiles; modality ``m``
    is tile ``results['stored_modalities'].index(m)`` (the benchmark's
    order; default ``results['modalities']``), so a dataset restricted to a
    subset of the modalities still gets the right tiles.

    Args:
        channel_order (str): ``'rgb'`` (CLIP's order) or ``'bgr'``.
        tiles (int, optional): Number of side-by-side tiles per file.
    """

    def __init__(self,
                 channel_order: str = 'rgb',
                 tiles: Optional[int] = None) -> None:
        self.channel_order = channel_order
        self.tiles = tiles

    def _load_tiles(self, path: str, modalities: Sequence[str],
                    stored: Sequence[str]) -> List[np.ndarray]:
        if len(stored) != self.tiles:
            raise ValueError(f'tiles={self.tiles} but the benchmark stores '
                             f'{len(stored)} modalities {tuple(stored)} side '
                             'by side; set tiles to their number.')
        img = read_image(path, self.channel_order)
        h, w = img.shape[:2]
        if w % self.tiles != 0:
            raise ValueError(f'"{path}" is {w} px wide; it cannot be cut into '
                             f'{self.tiles} equal modality tiles.')
        tw = w // self.tiles
        return [
            img[:, i * tw:(i + 1) * tw].copy()
            for i in (list(stored).index(m) for m in modalities)
        ]

    def transform(self, results: dict) -> dict:
        modalities = results['modalities']
        paths = results['img_path']
        missing = [m for m in modalities if m not in paths]
        if missing:
            raise KeyError(f'Sample {results.get("sample_idx")} has no '
                           f'path for modalities {missing}; got '
                           f'{sorted(paths)}.')
        if self.tiles:
            files = {paths[m] for m in modalities}
            if len(files) != 1:
                raise ValueError('tiles is set, so every modality must '
                                 f'point to the same file; got {files}.')
            stored = results.get('stored_modalities') or modalities
            imgs = self._load_tiles(paths[modalities[0]], modalities, stored)
            num_frames = 1
        else:
            imgs = []
            num_frames = None
            for mod in modalities:
                p = paths[mod]
                frames = list(p) if isinstance(p, (list, tuple)) else [p]
                if num_frames is None:
                    num_frames = len(frames)
                elif len(frames) != num_frames:
                    raise ValueError(
                        f'Sample {results.get("sample_idx")}: modality '
                        f'{mod} has {len(frames)} frames but the previous '
                        f'ones have {num_frames}.')
                imgs.extend(read_image(f, self.channel_order) for f in frames)
        results['img'] = imgs
        results['num_frames'] = num_frames
        results['ori_shape'] = imgs[0].shape[:2]
        results['img_shape'] = imgs[0].shape[:2]
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(channel_order='
                f"'{self.channel_order}', tiles={self.tiles})")
