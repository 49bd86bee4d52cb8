# Copyright (c) mmreid_text contributors. All rights reserved.
"""Ground-truth captions of synthetic vehicles, per modality."""
from typing import Dict

from ..caption_writer import UNKNOWN, check_rendered_modality, make_entry
from .attributes import VehicleAttributes
from .pose import VehiclePose


def vehicle_caption_entry(car: VehicleAttributes, pose: VehiclePose,
                          modality: str) -> Dict[str, object]:
    """Ground-truth caption entry ``{'text', 'attributes'}`` of a frame.

    RGB names the paint and stripe colours; NIR and TIR show no colours
    (``'unknown'``); TIR tells whether the engine is warm.
    """
    check_rendered_modality(modality)
    colours = modality == 'rgb'
    warm = car.engine_heat >= 0.5
    attributes = {
        'vehicle_type':
        car.vehicle_type,
        'colour':
        car.paint.name if colours else UNKNOWN,
        'stripe': ((car.accent.name if colours else 'yes')
                   if car.accent is not None else 'no'),
        'roof_rack':
        'yes' if car.roof_rack else 'no',
        'view':
        pose.view,
        'engine':
        ('warm' if warm else 'cold') if modality == 'tir' else UNKNOWN,
    }
    noun = f'{car.paint.name} {car.vehicle_type}' if colours else (
        car.vehicle_type)
    article = 'An' if noun[0] in 'aeiou' else 'A'
    text = f'{article} {noun}'
    extras = []
    if car.accent is not None:
        extras.append(
            f'a {car.accent.name} side stripe' if colours else 'a side stripe')
    if car.roof_rack:
        extras.append('a roof rack')
    if extras:
        text += ' with ' + ' and '.join(extras)
    text += f' seen from the {pose.view}.'
    if modality == 'tir':
        text += (' Its engine is warm.' if warm else ' It looks cold.')
    elif modality == 'nir':
        text += (' Its lamps are bright.' if pose.view == 'side' else
                 ' Its lamps and licence plate are bright.')
    return make_entry(text, attributes)
