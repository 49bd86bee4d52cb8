# Copyright (c) mmreid_text contributors. All rights reserved.
"""Modality names of caption files and the words that name their spectra.

``MODALITY_SPECTRUM`` is shared by the loading transform's fallback caption
(``LoadCaptions(on_missing='fallback_template')``) and the template composer
of the caption generator, so both call a modality by the same words.
"""
from typing import Dict

#: Modality names used in caption files and dataset info dicts.
MODALITY_NAMES = ('rgb', 'nir', 'tir', 'vis', 'ir')

#: Words used by the template composer and the fallback caption.
MODALITY_SPECTRUM: Dict[str, str] = {
    'rgb': 'visible spectrum',
    'vis': 'visible spectrum',
    'nir': 'near-infrared spectrum',
    'tir': 'thermal-infrared spectrum',
    'ir': 'infrared spectrum',
}
