# Copyright (c) mmreid_text contributors. All rights reserved.
"""What a layout shows: persons or vehicles.

A subject samples the attributes of an identity and renders one frame of
it under a camera, returning the three aligned images and a function that
gives the ground-truth caption entry of each rendered modality. A new kind
of subject implements :class:`Subject` and is added to :data:`SUBJECTS`.
"""
from typing import Any, Callable, Dict, Optional, Tuple

import numpy as np

from .person import (person_caption_entry, render_person, sample_person,
                     sample_pose, sample_track)
from .person.walk import sample_walk, walk_pose
from .scene import CameraScene
from .vehicle import (VEHICLE_VIEWS, render_vehicle, sample_vehicle,
                      sample_vehicle_pose, vehicle_caption_entry)

Images = Dict[str, np.ndarray]
CaptionFn = Callable[[str], Dict[str, object]]


class Subject:
    """Interface of a kind of subject."""

    def with_options(self, **options: Any) -> 'Subject':
        """This subject with a layout's ``subject_options`` (none here)."""
        if options:
            raise ValueError(f'{type(self).__name__} takes no subject '
                             f'options, got {sorted(options)}.')
        return self

    def sample(self, pid: int, rng: np.random.Generator) -> Any:
        """Attributes of identity ``pid`` from its own ``rng``."""
        raise NotImplementedError

    def render(self, attributes: Any, scene: CameraScene, frame: int,
               night: bool, img_size: Tuple[int, int],
               track_rng: np.random.Generator,
               frame_rng: np.random.Generator) -> Tuple[Images, CaptionFn]:
        """One frame.

        Args:
            attributes: From :meth:`sample`.
            scene: The camera.
            frame: Frame index within the track (sets the walk position).
            night: Poor visible light in this frame.
            img_size: ``(H, W)``.
            track_rng: Stream of the (identity, camera, track): what stays
                the same across the frames of one track.
            frame_rng: Stream of this frame.

        Returns:
            ``({'rgb', 'nir', 'tir'} -> [H, W, 3] uint8, plus 'labels' ->
            [H, W] uint8)`` and ``caption(modality) -> entry``.
        """
        raise NotImplementedError


class PersonSubject(Subject):
    """Pedestrians (:mod:`.person`); a track is a walk past the camera."""

    def sample(self, pid: int, rng: np.random.Generator) -> Any:
        return sample_person(pid, rng)

    def render(self, attributes, scene, frame, night, img_size, track_rng,
               frame_rng):
        track = sample_track(img_size, track_rng)
        pose = sample_pose(attributes, scene, track, frame % 30, img_size,
                           frame_rng, night)
        images = render_person(attributes, scene, pose, img_size, frame_rng)
        variant = int(frame_rng.integers(2))
        return images, lambda mod: person_caption_entry(
            attributes, pose.view, mod, variant)


class WalkingPersonSubject(PersonSubject):
    """Pedestrians in video layouts (:mod:`.person.walk`): the frames of a
    track are one walk past the camera (steady drift, background pan, gait
    phase and scale change); ``frame`` counts from 0 without wrapping.

    Args:
        walk_speed: Factor on the per-frame drift, pan and scale change
            (the motion between frames; the gait period is unchanged).
        walk_view: Every walk in this view (``'front'``, ``'back'``,
            ``'side'``); None: drawn per tracklet.
        walk_facing: Every walk facing this way (``1`` right, ``-1``
            left); None: drawn per tracklet.
        walk_drift: Body drift per frame as a fraction of the crop width,
            from the entry edge of the body's band (the person crosses
            the crop); None: drawn per tracklet.
    """

    def __init__(self,
                 walk_speed: float = 1.0,
                 walk_view: Optional[str] = None,
                 walk_facing: Optional[int] = None,
                 walk_drift: Optional[float] = None) -> None:
        self.walk_speed = float(walk_speed)
        self.walk_view = walk_view
        self.walk_facing = walk_facing
        self.walk_drift = walk_drift

    def with_options(self, **options: Any) -> 'Subject':
        return WalkingPersonSubject(**options)

    def render(self, attributes, scene, frame, night, img_size, track_rng,
               frame_rng):
        walk = sample_walk(scene, img_size, track_rng, self.walk_speed,
                           self.walk_view, self.walk_facing, self.walk_drift)
        pose = walk_pose(attributes, scene, walk, frame, img_size, frame_rng,
                         night)
        images = render_person(attributes, scene, pose, img_size, frame_rng)
        variant = int(frame_rng.integers(2))
        return images, lambda mod: person_caption_entry(
            attributes, pose.view, mod, variant)


class VehicleSubject(Subject):
    """Vehicles (:mod:`.vehicle`); a track keeps mostly one view."""

    def sample(self, pid: int, rng: np.random.Generator) -> Any:
        return sample_vehicle(pid, rng)

    def render(self, attributes, scene, frame, night, img_size, track_rng,
               frame_rng):
        view = VEHICLE_VIEWS[int(track_rng.integers(len(VEHICLE_VIEWS)))]
        if frame_rng.random() < 0.2:
            view = VEHICLE_VIEWS[int(frame_rng.integers(len(VEHICLE_VIEWS)))]
        pose = sample_vehicle_pose(
            scene, img_size, frame_rng, view=view, night=night)
        images = render_vehicle(attributes, scene, pose, img_size, frame_rng)
        return images, lambda mod: vehicle_caption_entry(attributes, pose, mod)


#: Subject name (a layout's ``subject``) -> renderer.
SUBJECTS: Dict[str, Subject] = {
    'person': PersonSubject(),
    'walking_person': WalkingPersonSubject(),
    'vehicle': VehicleSubject(),
}
