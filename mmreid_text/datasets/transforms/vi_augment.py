# Copyright (c) mmreid_text contributors. All rights reserved.
"""Visible-infrared channel augmentations (CAJ, Ye et al. ICCV 2021).

All three draw ONE decision per call and apply it to every image of the
sample, so the ``T`` frames of a tracklet get the same augmentation. They
work on ``[H, W, 3]`` uint8 images in two places:

- standalone, after :class:`BroadcastToModalities`, on the list
  ``results['img']`` (modality-major, ``num_frames`` per modality): only the
  images of the modalities listed in ``modalities`` are changed. This is
  the intended place of :class:`ChannelExchange` and
  :class:`ChannelAdaptiveGray`;
- inside ``BroadcastToModalities`` (one image per call, the decision shared
  through mmcv's ``cache_randomness``): the image's modality is the
  sample's ``modality`` (or its only entry of ``modalities``); a
  multi-modality sample with a ``modalities`` filter that keeps some but not
  all of its modalities is refused there, because one image's modality is
  unknown. This is the intended place of :class:`ChannelRandomErasing`
  (after the crop, before the channel transforms, as in the public code).

Unlike the public code, which applies its torchvision transforms frame by
frame (a different channel, crop and erased box per frame) and after
normalisation, these run on uint8 pixels before ``ReIDDataPreprocessor``
normalises: copying a channel copies raw values (normalised afterwards
with the target channel's mean/std) and the grey value is computed on
pixels, not on normalised values.
"""
import math
from typing import List, Optional, Sequence, Tuple, Union

import numpy as np
from mmcv.transforms import BaseTransform
from mmcv.transforms.utils import cache_randomness

from mmreid_text.registry import TRANSFORMS

#: ITU-R 601 luma weights used by the public ChannelExchange/AdapGray.
GRAY_WEIGHTS_RGB = (0.2989, 0.5870, 0.1140)


def _to_gray(img: np.ndarray, channel_order: str) -> np.ndarray:
    w = GRAY_WEIGHTS_RGB if channel_order == 'rgb' else GRAY_WEIGHTS_RGB[::-1]
    g = img[..., 0] * w[0] + img[..., 1] * w[1] + img[..., 2] * w[2]
    g = np.clip(np.rint(g), 0, 255).astype(img.dtype)
    return np.repeat(g[..., None], 3, axis=2)


def _copy_channel(img: np.ndarray, c: int) -> np.ndarray:
    return np.repeat(img[..., c:c + 1], 3, axis=2)


class _PerSampleTransform(BaseTransform):
    """Shared plumbing: modality filter, list vs single image."""

    def __init__(self, modalities: Optional[Sequence[str]]) -> None:
        if isinstance(modalities, str):
            modalities = (modalities, )
        self.modalities = None if modalities is None else tuple(modalities)

    def _applies(self, mod: str) -> bool:
        return self.modalities is None or mod in self.modalities

    def _sample_modalities(self, results: dict) -> Tuple[str, ...]:
        if results.get('modality') is not None:
            return (results['modality'], )
        mods = results.get('modalities')
        if not mods:
            raise KeyError(
                f'{type(self).__name__}: sample {results.get("sample_idx")} '
                'has neither "modality" nor "modalities"; the dataset info '
                'dict must name its modality.')
        return tuple(mods)

    def _targets(self, results: dict) -> List[int]:
        """Positions in ``results['img']`` (a list) to change."""
        imgs = results['img']
        if self.modalities is None:
            return list(range(len(imgs)))
        mods = self._sample_modalities(results)
        if len(imgs) % len(mods) != 0:
            raise ValueError(
                f'{type(self).__name__}: sample {results.get("sample_idx")} '
                f'has {len(imgs)} images for modalities {mods}.')
        per = len(imgs) // len(mods)
        return [i for i in range(len(imgs)) if self._applies(mods[i // per])]

    def _single_applies(self, results: dict) -> bool:
        if self.modalities is None:
            return True
        mods = self._sample_modalities(results)
        hits = [self._applies(m) for m in mods]
        if all(hits):
            return True
        if not any(hits):
            return False
        raise ValueError(
            f'{type(self).__name__}(modalities={self.modalities}) got one '
            f'image of a sample with modalities {mods}: inside '
            'BroadcastToModalities the image\'s modality is unknown. Put it '
            'after BroadcastToModalities, where it sees the whole list.')

    def _apply(self, img: np.ndarray, decision) -> np.ndarray:
        raise NotImplementedError

    def _draw(self, img_shape: Tuple[int, int]):
        raise NotImplementedError

    def transform(self, results: dict) -> dict:
        imgs = results['img']
        if isinstance(imgs, np.ndarray):
            if self._single_applies(results):
                results['img'] = self._apply(imgs, self._draw(imgs.shape[:2]))
            return results
        targets = self._targets(results)
        if targets:
            decision = self._draw(imgs[targets[0]].shape[:2])
            imgs = list(imgs)
            for i in targets:
                imgs[i] = self._apply(imgs[i], decision)
            results['img'] = imgs
        return results


@TRANSFORMS.register_module()
class ChannelExchange(_PerSampleTransform):
    """Replace a visible tracklet by one of its channels (CAJ / VLD).

    With probability ``prob`` the sample is exchanged; then one choice
    ``idx ~ U{0, ..., gray}`` (python ``random.randint(0, gray)`` in the
    public code) is made for the whole tracklet: ``idx`` in 0..2 copies
    channel ``idx`` to all three channels, ``idx >= 3`` converts to grey
    (``0.2989 R + 0.5870 G + 0.1140 B``). ``gray=2`` (VLD, CAJ): R, G or B,
    1/3 each, never grey; ``gray=3``: 1/4 each including grey.

    VLD's loader builds two visible transforms, one without and one ending
    with ``ChannelExchange(gray=2)``, and uses one of them per RGB tracklet;
    ``prob`` is the chance of the second. The selection code is not in the
    public material we have, so ``prob=0.5`` is an assumption (set it to 1
    for CAJ's always-exchanged view).

    Args:
        gray (int): Largest choice index (see above); >= 2.
        prob (float): Probability that a sample is exchanged at all.
        modalities (Sequence[str] | None): Modalities changed (None: all).
        channel_order (str): ``'rgb'`` or ``'bgr'``, order of the loaded
            images (for the grey weights).
    """

    def __init__(self,
                 gray: int = 2,
                 prob: float = 0.5,
                 modalities: Optional[Sequence[str]] = ('vis', ),
                 channel_order: str = 'rgb') -> None:
        super().__init__(modalities)
        if not isinstance(gray, int) or gray < 2:
            raise ValueError(f'ChannelExchange: gray must be an int >= 2 '
                             f'(0..2 pick a channel), got {gray!r}.')
        if not 0.0 <= prob <= 1.0:
            raise ValueError(
                f'ChannelExchange: prob must be in [0, 1], got {prob}.')
        if channel_order not in ('rgb', 'bgr'):
            raise ValueError("ChannelExchange: channel_order must be 'rgb' "
                             f"or 'bgr', got {channel_order!r}.")
        self.gray = gray
        self.prob = prob
        self.channel_order = channel_order

    @cache_randomness
    def _draw(self, img_shape: Tuple[int, int]) -> Optional[int]:
        if not np.random.rand() < self.prob:
            return None
        return int(np.random.randint(0, self.gray + 1))

    def _apply(self, img: np.ndarray, decision: Optional[int]) -> np.ndarray:
        if decision is None:
            return img
        if decision <= 2:
            return _copy_channel(img, decision)
        return _to_gray(img, self.channel_order)

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(gray={self.gray}, prob={self.prob}, '
                f'modalities={self.modalities})')


@TRANSFORMS.register_module()
class ChannelAdaptiveGray(_PerSampleTransform):
    """CAJ's ``ChannelAdapGray`` for infrared tracklets, one choice each.

    ``idx ~ U{0, 1, 2, 3}``: 0..2 copy that channel to all three (1/4
    each); 3 converts to grey with probability ``gray_prob`` and otherwise
    leaves the image unchanged. With ``gray_prob=0.5`` (VLD, CAJ): R, G, B
    1/4 each, grey 1/8, unchanged 1/8.

    Args:
        gray_prob (float): Probability of grey when ``idx == 3`` (the
            public ``probability``).
        modalities (Sequence[str] | None): Modalities changed (None: all).
        channel_order (str): ``'rgb'`` or ``'bgr'`` (for the grey weights).
    """

    def __init__(self,
                 gray_prob: float = 0.5,
                 modalities: Optional[Sequence[str]] = ('ir', ),
                 channel_order: str = 'rgb') -> None:
        super().__init__(modalities)
        if not 0.0 <= gray_prob <= 1.0:
            raise ValueError('ChannelAdaptiveGray: gray_prob must be in '
                             f'[0, 1], got {gray_prob}.')
        if channel_order not in ('rgb', 'bgr'):
            raise ValueError("ChannelAdaptiveGray: channel_order must be "
                             f"'rgb' or 'bgr', got {channel_order!r}.")
        self.gray_prob = gray_prob
        self.channel_order = channel_order

    @cache_randomness
    def _draw(self, img_shape: Tuple[int, int]) -> Union[int, str, None]:
        idx = int(np.random.randint(0, 4))
        if idx <= 2:
            return idx
        return 'gray' if np.random.rand() < self.gray_prob else None

    def _apply(self, img: np.ndarray, decision) -> np.ndarray:
        if decision is None:
            return img
        if decision == 'gray':
            return _to_gray(img, self.channel_order)
        return _copy_channel(img, decision)

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(gray_prob={self.gray_prob}, '
                f'modalities={self.modalities})')


@TRANSFORMS.register_module()
class ChannelRandomErasing(_PerSampleTransform):
    """CAJ's ``ChannelRandomErasing``: one box, constant per-channel fill.

    Kept separate from mmpretrain's ``RandomErasing`` because the draws
    differ: here the aspect ratio is uniform in ``[r1, 1/r1]`` (mmpretrain:
    log-uniform, so tall boxes are far more frequent here: P(h > w) ~ 0.77
    for ``r1 = 0.3``) and a box that does not fit strictly inside the image
    is redrawn up to 100 times (mmpretrain clips it once). With probability
    ``prob``: area ``~ U(sl, sh) * H * W``, aspect ``~ U(r1, 1 / r1)``,
    ``h = round(sqrt(area * aspect))``, ``w = round(sqrt(area / aspect))``;
    accepted when ``h < H`` and ``w < W``, then ``top ~ U{0..H-h}``,
    ``left ~ U{0..W-w}``; the box is filled with ``fill_color``.

    The public code fills normalised tensors with ``(0.4914, 0.4822,
    0.4465)``; under VLD's ImageNet normalisation that is the pixel colour
    ``(0.4914 * 0.229 + 0.485) * 255 ...`` = ``(152, 144, 129)``, the
    default here (change it with the normalisation).

    Args:
        prob (float): Probability of erasing a sample.
        sl (float): Smallest erased area fraction.
        sh (float): Largest erased area fraction.
        r1 (float): Smallest aspect ratio (h / w); the largest is 1 / r1.
        fill_color (Sequence[int]): Fill value per channel (uint8).
        max_attempts (int): Redraws of a box that does not fit.
        modalities (Sequence[str] | None): Modalities changed (None: all).
    """

    def __init__(self,
                 prob: float = 0.5,
                 sl: float = 0.02,
                 sh: float = 0.4,
                 r1: float = 0.3,
                 fill_color: Sequence[int] = (152, 144, 129),
                 max_attempts: int = 100,
                 modalities: Optional[Sequence[str]] = None) -> None:
        super().__init__(modalities)
        if not 0.0 <= prob <= 1.0:
            raise ValueError(
                f'ChannelRandomErasing: prob must be in [0, 1], got {prob}.')
        if not 0.0 < sl <= sh <= 1.0:
            raise ValueError('ChannelRandomErasing: need 0 < sl <= sh <= 1, '
                             f'got sl={sl}, sh={sh}.')
        if not 0.0 < r1 <= 1.0:
            raise ValueError(
                f'ChannelRandomErasing: r1 must be in (0, 1], got {r1}.')
        if len(fill_color) != 3:
            raise ValueError('ChannelRandomErasing: fill_color needs 3 '
                             f'values, got {fill_color!r}.')
        self.prob = prob
        self.sl = sl
        self.sh = sh
        self.r1 = r1
        self.fill_color = tuple(int(c) for c in fill_color)
        self.max_attempts = max_attempts

    @cache_randomness
    def _draw(self, img_shape: Tuple[int, int]) -> Optional[tuple]:
        if not np.random.rand() < self.prob:
            return None
        img_h, img_w = img_shape
        for _ in range(self.max_attempts):
            area = np.random.uniform(self.sl, self.sh) * img_h * img_w
            aspect = np.random.uniform(self.r1, 1.0 / self.r1)
            h = int(round(math.sqrt(area * aspect)))
            w = int(round(math.sqrt(area / aspect)))
            if h < img_h and w < img_w:
                top = int(np.random.randint(0, img_h - h + 1))
                left = int(np.random.randint(0, img_w - w + 1))
                return top, left, h, w
        return None

    def _apply(self, img: np.ndarray, decision) -> np.ndarray:
        if decision is None:
            return img
        top, left, h, w = decision
        if img.shape[0] < top + h or img.shape[1] < left + w:
            raise ValueError(
                'ChannelRandomErasing: the images of one sample have '
                'different sizes; put a Resize/RandomCrop before it.')
        out = img.copy()
        out[top:top + h, left:left + w] = np.asarray(
            self.fill_color, dtype=img.dtype)
        return out

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(prob={self.prob}, sl={self.sl}, '
                f'sh={self.sh}, r1={self.r1}, fill_color={self.fill_color}, '
                f'modalities={self.modalities})')
