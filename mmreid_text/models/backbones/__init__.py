# Copyright (c) mmreid_text contributors. All rights reserved.
from .clip_vision import CLIPVisionBackbone

__all__ = ['CLIPVisionBackbone']
