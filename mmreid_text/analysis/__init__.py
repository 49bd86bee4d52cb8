# Copyright (c) mmreid_text contributors. All rights reserved.
"""Model analysis utilities (parameter and FLOP counting)."""
from .complexity import (ComplexityResult, RetrievalForward, count_flops,
                         count_parameters, counting_mode, disable_pretrained,
                         find_num_frames, make_data_samples, model_complexity,
                         model_input_shape, sample_modalities, sdpa_flop_jit)

__all__ = [
    'ComplexityResult', 'RetrievalForward', 'count_flops', 'count_parameters',
    'counting_mode', 'disable_pretrained', 'make_data_samples',
    'model_complexity', 'model_input_shape', 'sdpa_flop_jit',
    'find_num_frames', 'sample_modalities'
]
