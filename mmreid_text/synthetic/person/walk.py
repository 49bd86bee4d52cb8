# Copyright (c) mmreid_text contributors. All rights reserved.
"""A person walking past a camera: the frames of one tracklet.

Unlike :func:`.pose.sample_pose` (independent frames), every frame of a
walk follows from the walk's parameters and the frame number, as a
detector's crops of one passer-by do:

* position: the body centre drifts steadily across the crop and the crop's
  background window pans with the walk (the detector follows the person);
* pose phase: the gait ``stride`` is ``sin(phase0 + 2 pi frame / period)``;
* scale: the person grows when walking towards the camera (front view) and
  shrinks when walking away (back view), by a steady factor per frame.

The view is the walk's for every frame; per frame only small jitter
(position, illumination) is drawn.
"""
import math
from dataclasses import dataclass
from typing import Optional, Tuple

import numpy as np

from ..scene import CameraScene
from .attributes import PersonAttributes
from .pose import VIEWS, Pose

#: The body centre stays within ``(0.5 +- CENTRE_BAND) * width``.
CENTRE_BAND = 0.2


@dataclass(frozen=True)
class Walk:
    """What is fixed for one tracklet (pixels, per frame where a rate).

    Attributes:
        view: ``'front'``, ``'back'`` or ``'side'`` (the whole walk).
        facing: ``1`` to the right, ``-1`` to the left.
        centre_x: Body centre in frame 0.
        drift: Body-centre shift per frame.
        scale: Person height in frame 0 relative to the camera's nominal.
        growth: Relative height change per frame.
        phase: Gait phase of frame 0 (radians).
        period: Frames per gait cycle.
        bg_row, bg_col: Background window of frame 0.
        pan: Background window shift per frame (columns).
        gain: Illumination of the tracklet.
        low_light: Poor visible light for the whole tracklet.
    """
    view: str
    facing: int
    centre_x: float
    drift: float
    scale: float
    growth: float
    phase: float
    period: float
    bg_row: int
    bg_col: int
    pan: float
    gain: float
    low_light: bool


def sample_walk(scene: CameraScene,
                img_size: Tuple[int, int],
                rng: np.random.Generator,
                speed_factor: float = 1.0,
                view: Optional[str] = None,
                facing: Optional[int] = None,
                drift: Optional[float] = None) -> Walk:
    """The walk of one tracklet under ``scene``'s camera.

    ``speed_factor`` multiplies the per-frame rates (drift, background pan,
    growth) after they are drawn; ``view`` / ``facing``, if given, replace
    the drawn ones (the rates follow them). ``drift``, if given, replaces
    the drawn body drift: the body centre moves ``drift * w`` pixels per
    frame in the facing direction (``speed_factor`` not applied), starting
    at the band's entry edge (``0.3 w`` when facing right, ``0.7 w`` when
    facing left), so that the person crosses the crop. All draws stay
    those of the default walk, so with the defaults the frames are
    unchanged.
    """
    h, w = img_size
    drawn_view = VIEWS[int(rng.choice(3, p=[0.4, 0.35, 0.25]))]
    drawn_facing = int(rng.choice([-1, 1]))
    view = drawn_view if view is None else view
    facing = drawn_facing if facing is None else int(facing)
    speed = float(rng.uniform(0.004, 0.012))
    growth = {'front': speed, 'back': -speed, 'side': 0.0}[view]
    pan = facing * float(rng.uniform(0.02, 0.05)) * w
    canvas_h, canvas_w = scene.nir_background.shape
    centre_x = float(w / 2 + rng.uniform(-0.08, 0.08) * w)
    drift_px = facing * float(rng.uniform(0.002, 0.006)) * w * speed_factor
    if drift is not None:
        centre_x = (0.5 - facing * CENTRE_BAND) * w
        drift_px = facing * float(drift) * w
    return Walk(
        view=view,
        facing=facing,
        centre_x=centre_x,
        drift=drift_px,
        scale=float(
            rng.uniform(0.9, 1.0) if growth >= 0 else rng.uniform(1.0, 1.08)),
        growth=growth * speed_factor,
        phase=float(rng.uniform(0, 2 * math.pi)),
        period=float(rng.uniform(8, 12)),
        bg_row=int(rng.integers(0, canvas_h - h + 1)),
        bg_col=int(rng.integers(0, canvas_w - w + 1)),
        pan=pan * speed_factor,
        gain=float(rng.uniform(0.92, 1.08)),
        low_light=bool(rng.random() < 0.1))


def _bounce(value: float, high: int) -> int:
    """``value`` folded into ``0..high`` (a pan that reaches the edge of
    the canvas turns back)."""
    if high <= 0:
        return 0
    value = abs(value) % (2 * high)
    return int(round(high - abs(high - value)))


def walk_pose(identity: PersonAttributes,
              scene: CameraScene,
              walk: Walk,
              frame: int,
              img_size: Tuple[int, int],
              rng: np.random.Generator,
              night: bool = False) -> Pose:
    """Pose of frame ``frame`` (0, 1, ...) of ``walk``.

    ``night`` forces poor visible light (otherwise the walk's).
    """
    h, w = img_size
    growth = max(0.5, 1 + walk.growth * frame)
    height = (
        scene.person_height * identity.height_factor * h * walk.scale *
        growth * rng.uniform(0.99, 1.01))
    height = min(height, 0.97 * h)
    foot_y = max(h * rng.uniform(0.965, 0.98), height + 2)
    centre_x = walk.centre_x + walk.drift * frame + rng.normal(0, 0.006 * w)
    canvas_h, canvas_w = scene.nir_background.shape
    return Pose(
        view=walk.view,
        facing=walk.facing,
        centre_x=float(
            np.clip(centre_x, (0.5 - CENTRE_BAND) * w,
                    (0.5 + CENTRE_BAND) * w)),
        foot_y=float(foot_y),
        height=float(height),
        stride=float(math.sin(walk.phase + 2 * math.pi * frame / walk.period)),
        bg_offset=(walk.bg_row,
                   _bounce(walk.bg_col + walk.pan * frame, canvas_w - w)),
        gain=float(walk.gain * rng.uniform(0.98, 1.02)),
        low_light=walk.low_light or bool(night))
