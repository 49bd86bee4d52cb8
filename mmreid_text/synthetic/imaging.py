# Copyright (c) mmreid_text contributors. All rights reserved.
"""Small image helpers shared by the renderers, and the JPEG writer."""
import numpy as np
from PIL import Image, ImageFilter

#: JPEG settings; fixed so that the same seed gives byte-identical files.
JPEG_QUALITY = 90
JPEG_SUBSAMPLING = 0  # 4:4:4, keeps grey images exactly grey


def save_jpeg(path: str, image: np.ndarray) -> None:
    """Write a ``[H, W, 3]`` uint8 array as a deterministic JPEG."""
    Image.fromarray(
        image, mode='RGB').save(
            path,
            format='JPEG',
            quality=JPEG_QUALITY,
            subsampling=JPEG_SUBSAMPLING,
            optimize=False)


def to_uint8(img: np.ndarray) -> np.ndarray:
    """Round and clip a float image in 0..255 to uint8."""
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def grey3(img: np.ndarray) -> np.ndarray:
    """A float ``[H, W]`` image in 0..255 as ``[H, W, 3]`` uint8 with three
    equal channels (readable by loaders that do not convert to RGB)."""
    return np.repeat(to_uint8(img)[..., None], 3, axis=2)


def gaussian_blur(img: np.ndarray, radius: float) -> np.ndarray:
    """Gaussian blur of a float ``[H, W]`` image in 0..255 (float32)."""
    blurred = Image.fromarray(to_uint8(img)).filter(
        ImageFilter.GaussianBlur(radius))
    return np.asarray(blurred, np.float32)


def smooth121(img: np.ndarray) -> np.ndarray:
    """``[1, 2, 1] / 4`` separable smoothing over the first two axes."""
    pad = [(1, 1), (1, 1)] + [(0, 0)] * (img.ndim - 2)
    p = np.pad(img, pad, mode='edge')
    img = (p[:-2] + 2 * p[1:-1] + p[2:]) / 4
    return (img[:, :-2] + 2 * img[:, 1:-1] + img[:, 2:]) / 4
