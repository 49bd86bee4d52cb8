# Copyright (c) mmreid_text contributors. All rights reserved.
"""Deterministic synthetic re-identification data in benchmark layouts.

``layouts`` declares the on-disk layout of each benchmark, ``person`` and
``vehicle`` sample and render subjects on the camera ``scene``s,
``generator`` ties them together (one generator for every layout) and
writes ground-truth captions (``caption_writer``) and a manifest
(``manifest``); ``preview`` draws example samples. Importing the package
registers the ``Synthetic*`` datasets (``synthetic_dataset``) that
generate their data on first use. ``mmreid_text.datasets`` never imports
this package.
"""
from .caption_writer import CaptionWriter
from .colours import COLOUR_WORDS
from .generator import SyntheticWorld, ensure_synthetic, make_synthetic
from .layouts import (SYNTHETIC_LAYOUTS, FrameSpec, SyntheticLayout,
                      build_layout, register_layout)
from .manifest import (GENERATOR_NAME, GENERATOR_VERSION, INCOMPLETE_MARKER,
                       MANIFEST_NAME, read_manifest)
from .preview import example_captions, pick_examples, save_example_grid
from .streams import Stream, stream_rng
from .subjects import SUBJECTS, Subject
from .synthetic_dataset import (SyntheticBUPTCampus, SyntheticDataMixin,
                                SyntheticHITSZVCM, SyntheticMarketMM,
                                SyntheticMSVR310, SyntheticRGBNT100,
                                SyntheticRGBNT201, SyntheticWMVEID863)

__all__ = [
    'CaptionWriter', 'COLOUR_WORDS', 'SyntheticWorld', 'ensure_synthetic',
    'make_synthetic', 'SYNTHETIC_LAYOUTS', 'FrameSpec', 'SyntheticLayout',
    'build_layout', 'register_layout', 'GENERATOR_NAME', 'GENERATOR_VERSION',
    'INCOMPLETE_MARKER', 'MANIFEST_NAME', 'read_manifest', 'example_captions',
    'pick_examples', 'save_example_grid', 'Stream', 'stream_rng', 'SUBJECTS',
    'Subject', 'SyntheticDataMixin', 'SyntheticRGBNT201', 'SyntheticRGBNT100',
    'SyntheticMSVR310', 'SyntheticWMVEID863', 'SyntheticMarketMM',
    'SyntheticHITSZVCM', 'SyntheticBUPTCampus'
]
