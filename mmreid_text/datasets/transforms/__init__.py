# Copyright (c) mmreid_text contributors. All rights reserved.
from .broadcast import BroadcastToModalities
from .formatting import PackReIDInputs
from .loading import LoadMultiModalImages, read_image

__all__ = [
    'BroadcastToModalities', 'LoadMultiModalImages', 'PackReIDInputs',
    'read_image'
]
