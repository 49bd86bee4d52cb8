# Copyright (c) mmreid_text contributors. All rights reserved.
"""Synthetic persons: attributes, pose, material map, rendering, captions.
"""
from .attributes import PersonAttributes, sample_person
from .captions import caption_text, person_caption_entry, visible_attributes
from .pose import VIEWS, Pose, Track, sample_pose, sample_track
from .render import material_tables, render_person
from .shape import draw_material_map

__all__ = [
    'PersonAttributes', 'sample_person', 'caption_text',
    'person_caption_entry', 'visible_attributes', 'VIEWS', 'Pose', 'Track',
    'sample_pose', 'sample_track', 'material_tables', 'render_person',
    'draw_material_map'
]
