# Copyright (c) mmreid_text contributors. All rights reserved.
from .broadcast import BroadcastToModalities
from .captions import LoadCaptions
from .formatting import PackReIDInputs
from .loading import LoadMultiModalImages, read_image

__all__ = [
    'BroadcastToModalities', 'LoadCaptions', 'LoadMultiModalImages',
    'PackReIDInputs', 'read_image'
]
