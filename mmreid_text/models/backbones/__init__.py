# Copyright (c) mmreid_text contributors. All rights reserved.
from .clip_vision import CLIPVisionBackbone
from .torchreid_backbone import TorchreidBackbone

__all__ = ['CLIPVisionBackbone', 'TorchreidBackbone']
