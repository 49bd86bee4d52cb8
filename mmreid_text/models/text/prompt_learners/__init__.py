# Copyright (c) mmreid_text contributors. All rights reserved.
from .inversion_network import InversionNetwork
from .spectral_inversion_prompt import SpectralInversionPrompt

__all__ = ['InversionNetwork', 'SpectralInversionPrompt']
