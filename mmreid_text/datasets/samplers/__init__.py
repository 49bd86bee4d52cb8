# Copyright (c) mmreid_text contributors. All rights reserved.
from .identity_sampler import IdentityBalancedSampler

__all__ = ['IdentityBalancedSampler']
