# Copyright (c) mmreid_text contributors. All rights reserved.
"""Where a person stands and how, per track (identity x camera) and frame.
"""
from dataclasses import dataclass
from typing import Tuple

import numpy as np

from ..scene import CameraScene, random_offset
from .attributes import PersonAttributes

VIEWS = ('front', 'back', 'side')


@dataclass(frozen=True)
class Pose:
    """Placement and posture of the person in one frame (pixels).

    Attributes:
        view: ``'front'``, ``'back'`` or ``'side'``.
        facing: ``1`` walking to the right, ``-1`` to the left (side view).
        centre_x: Horizontal body centre.
        foot_y: Image row of the soles.
        height: Person height.
        stride: Gait phase in -1..1 (leg / arm swing).
        bg_offset: ``(row, column)`` of the background crop.
        gain: Per-frame illumination jitter.
        low_light: Visible light is poor in this frame (dark, noisy RGB;
            NIR with its own lamp and TIR are unaffected).
    """
    view: str
    facing: int
    centre_x: float
    foot_y: float
    height: float
    stride: float
    bg_offset: Tuple[int, int]
    gain: float
    low_light: bool = False


@dataclass(frozen=True)
class Track:
    """What stays the same for one identity under one camera."""
    view: str
    facing: int
    centre_x: float
    drift: float


def sample_track(img_size: Tuple[int, int], rng: np.random.Generator) -> Track:
    """Walking direction and place of one identity under one camera."""
    _, w = img_size
    view = VIEWS[int(rng.choice(3, p=[0.4, 0.35, 0.25]))]
    return Track(
        view=view,
        facing=int(rng.choice([-1, 1])),
        centre_x=float(w / 2 + rng.uniform(-0.06, 0.06) * w),
        drift=float(rng.uniform(-0.004, 0.004) * w))


def sample_pose(identity: PersonAttributes,
                scene: CameraScene,
                track: Track,
                frame: int,
                img_size: Tuple[int, int],
                rng: np.random.Generator,
                night: bool = False) -> Pose:
    """Pose of frame ``frame`` (0..29) of a track; mostly the track's view.

    ``night`` forces poor visible light (otherwise 12% of frames).
    """
    h, w = img_size
    view = track.view
    if rng.random() < 0.2:
        view = VIEWS[int(rng.integers(3))]
    facing = track.facing if rng.random() < 0.9 else -track.facing
    height = (
        scene.person_height * identity.height_factor * h *
        rng.uniform(0.96, 1.04))
    height = min(height, 0.97 * h)
    foot_y = h * rng.uniform(0.955, 0.99)
    foot_y = max(foot_y, height + 2)
    centre_x = (
        track.centre_x + track.drift * (frame - 15) + rng.normal(0, 0.025 * w))
    centre_x = float(np.clip(centre_x, 0.32 * w, 0.68 * w))
    return Pose(
        view=view,
        facing=facing,
        centre_x=centre_x,
        foot_y=float(foot_y),
        height=float(height),
        stride=float(rng.uniform(-1, 1)),
        bg_offset=random_offset(scene, img_size, rng),
        gain=float(rng.uniform(0.9, 1.1)),
        low_light=bool(rng.random() < 0.12) or bool(night))
