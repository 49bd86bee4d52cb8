# Copyright (c) mmreid_text contributors. All rights reserved.
from .cross_modality_sampler import CrossModalityIdentitySampler
from .identity_sampler import IdentityBalancedSampler

__all__ = ['IdentityBalancedSampler', 'CrossModalityIdentitySampler']
