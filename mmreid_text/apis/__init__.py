# Copyright (c) mmreid_text contributors. All rights reserved.
"""User-facing APIs: :class:`ReIDInferencer` (docs/inference.md)."""
from .inferencer import (ONE_MODALITY_DATASETS, InferenceInputError,
                         ReIDInferencer)

__all__ = ['ReIDInferencer', 'InferenceInputError', 'ONE_MODALITY_DATASETS']
