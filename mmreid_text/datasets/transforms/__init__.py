# Copyright (c) mmreid_text contributors. All rights reserved.
from .broadcast import BroadcastToModalities
from .captions import LoadCaptions
from .formatting import PackReIDInputs
from .frame_sampling import SampleFrames
from .loading import LoadMultiModalImages, read_image
from .vi_augment import (ChannelAdaptiveGray, ChannelExchange,
                         ChannelRandomErasing)

__all__ = [
    'BroadcastToModalities', 'LoadCaptions', 'LoadMultiModalImages',
    'PackReIDInputs', 'read_image', 'SampleFrames', 'ChannelExchange',
    'ChannelAdaptiveGray', 'ChannelRandomErasing'
]
