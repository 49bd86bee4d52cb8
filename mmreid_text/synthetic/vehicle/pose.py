# Copyright (c) mmreid_text contributors. All rights reserved.
"""Where a vehicle stands in one frame: view, side and placement."""
from dataclasses import dataclass
from typing import Tuple

import numpy as np

from ..scene import CameraScene, random_offset

VEHICLE_VIEWS = ('front', 'rear', 'side')


@dataclass(frozen=True)
class VehiclePose:
    """Placement of the vehicle in one frame.

    Attributes:
        view: ``'front'``, ``'rear'`` or ``'side'``.
        facing: ``1`` pointing right, ``-1`` left (side view).
        centre_x: Horizontal centre (pixels).
        scale: Size relative to the crop (0.8..1).
        bg_offset: ``(row, column)`` of the background crop.
        gain: Illumination jitter of this frame.
        night: Poor visible light; lit headlamps flare in RGB.
    """
    view: str
    facing: int
    centre_x: float
    scale: float
    bg_offset: Tuple[int, int]
    gain: float
    night: bool = False


def sample_vehicle_pose(scene: CameraScene, img_size: Tuple[int, int],
                        rng: np.random.Generator, view: str,
                        night: bool) -> VehiclePose:
    """Random placement of a vehicle; the caller chooses ``view`` (one of
    :data:`VEHICLE_VIEWS`) and ``night``."""
    h, w = img_size
    return VehiclePose(
        view=view,
        facing=int(rng.choice([-1, 1])),
        centre_x=float(w / 2 + rng.normal(0, 0.02 * w)),
        scale=float(rng.uniform(0.86, 0.97)),
        bg_offset=random_offset(scene, img_size, rng),
        gain=float(rng.uniform(0.9, 1.1)),
        night=bool(night))
