# Copyright (c) mmreid_text contributors. All rights reserved.
from .distance import DISTANCE_METRICS, compute_distance_matrix
from .rank import chunk_rows_for_budget, evaluate_rank

__all__ = [
    'evaluate_rank', 'chunk_rows_for_budget', 'compute_distance_matrix',
    'DISTANCE_METRICS'
]
