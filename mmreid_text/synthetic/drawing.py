# Copyright (c) mmreid_text contributors. All rights reserved.
"""Drawing of material maps (one label per pixel) in object units."""
from typing import Sequence, Tuple

import numpy as np
from PIL import Image, ImageDraw

Point = Tuple[float, float]


class MaterialPainter:
    """Fills shapes with material labels on an ``[H, W]`` label image.

    Shapes are given in object units: pixel ``x = left + u * scale_u`` and
    ``y = top + v * scale_v``.

    Args:
        img_size: ``(H, W)`` of the label image (background label 0).
        left, top: Pixel position of ``(u, v) = (0, 0)``.
        scale_u, scale_v: Pixels per unit across and down.
    """

    def __init__(self, img_size: Tuple[int, int], left: float, top: float,
                 scale_u: float, scale_v: float) -> None:
        h, w = img_size
        self.image = Image.new('L', (w, h), 0)
        self.draw = ImageDraw.Draw(self.image)
        self.left, self.top = left, top
        self.scale_u, self.scale_v = scale_u, scale_v

    def pt(self, u: float, v: float) -> Point:
        """Pixel position of ``(u, v)``."""
        return (self.left + u * self.scale_u, self.top + v * self.scale_v)

    def polygon(self, points: Sequence[Point], material: int) -> None:
        self.draw.polygon([self.pt(u, v) for u, v in points], fill=material)

    def ellipse(self, u: float, v: float, half_u: float, half_v: float,
                material: int) -> None:
        """An ellipse centred at ``(u, v)`` (at least one pixel)."""
        x0, y0 = self.pt(u - half_u, v - half_v)
        x1, y1 = self.pt(u + half_u, v + half_v)
        self.draw.ellipse(
            [x0, y0, max(x1, x0 + 1), max(y1, y0 + 1)], fill=material)

    def rect(self,
             u0: float,
             v0: float,
             u1: float,
             v1: float,
             material: int,
             radius: float = 0.0) -> None:
        """A rectangle (at least one pixel) with corners rounded by
        ``radius`` (in units down)."""
        x0, y0 = self.pt(u0, v0)
        x1, y1 = self.pt(u1, v1)
        self.draw.rounded_rectangle(
            [x0, y0, max(x1, x0 + 1), max(y1, y0 + 1)],
            radius=radius * self.scale_v,
            fill=material)

    def line(self, points: Sequence[Point], width: float,
             material: int) -> None:
        """A polyline ``width`` (units down) wide, at least one pixel."""
        self.draw.line([self.pt(u, v) for u, v in points],
                       fill=material,
                       width=max(1, int(round(width * self.scale_v))),
                       joint='curve')

    def labels(self, mirrored: bool = False) -> np.ndarray:
        """The label map ``[H, W]`` uint8, flipped left-right if asked."""
        labels = np.asarray(self.image, dtype=np.uint8)
        return (labels[:, ::-1] if mirrored else labels).copy()
