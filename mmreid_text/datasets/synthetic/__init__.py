# Copyright (c) mmreid_text contributors. All rights reserved.
"""Deterministic synthetic multi-spectral re-identification data.

``identity`` samples appearance attributes, ``render`` draws aligned
RGB / NIR / TIR frames, ``captions`` writes ground-truth captions and
``layouts`` the on-disk benchmark layout; ``generator`` ties them together.
Importing this package registers nothing.
"""
from .captions import caption_entry, caption_text, visible_attributes
from .generator import (GENERATOR_VERSION, MANIFEST_NAME,
                        ensure_synthetic_rgbnt201, make_synthetic_rgbnt201,
                        read_manifest)
from .identity import COLOUR_WORDS, IdentityAttributes, sample_identity
from .layouts import RGBNT201Layout, SampleSpec
from .multispectral_layouts import (SYNTHETIC_LAYOUTS,
                                    ensure_synthetic_multispectral,
                                    make_synthetic_multispectral)
from .preview import example_captions, save_example_grid
from .render import (CameraScene, Pose, draw_material_map, make_camera_scene,
                     render_triplet)

__all__ = [
    'GENERATOR_VERSION', 'MANIFEST_NAME', 'make_synthetic_rgbnt201',
    'ensure_synthetic_rgbnt201', 'read_manifest', 'IdentityAttributes',
    'sample_identity', 'COLOUR_WORDS', 'caption_entry', 'caption_text',
    'visible_attributes', 'RGBNT201Layout', 'SampleSpec', 'CameraScene',
    'Pose', 'make_camera_scene', 'draw_material_map', 'render_triplet',
    'save_example_grid', 'example_captions', 'SYNTHETIC_LAYOUTS',
    'make_synthetic_multispectral', 'ensure_synthetic_multispectral'
]
