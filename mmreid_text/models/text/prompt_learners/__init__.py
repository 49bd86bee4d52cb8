# Copyright (c) mmreid_text contributors. All rights reserved.
from .deep_inversion_network import InversionNetwork
from .deep_spectral_prompt import SpectralInversionPrompt
from .vld_identity_prompt import IdentityPrompt

__all__ = ['InversionNetwork', 'SpectralInversionPrompt', 'IdentityPrompt']
