# Copyright (c) mmreid_text contributors. All rights reserved.
"""Synthetic vehicles: attributes, pose, material map, rendering, captions.
"""
from .attributes import VEHICLE_TYPES, VehicleAttributes, sample_vehicle
from .captions import vehicle_caption_entry
from .pose import VEHICLE_VIEWS, VehiclePose, sample_vehicle_pose
from .render import render_vehicle, vehicle_material_tables
from .shape import draw_vehicle_material_map

__all__ = [
    'VEHICLE_TYPES', 'VehicleAttributes', 'sample_vehicle',
    'vehicle_caption_entry', 'VEHICLE_VIEWS', 'VehiclePose',
    'sample_vehicle_pose', 'render_vehicle', 'vehicle_material_tables',
    'draw_vehicle_material_map'
]
