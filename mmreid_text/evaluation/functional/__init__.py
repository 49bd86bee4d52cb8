# Copyright (c) mmreid_text contributors. All rights reserved.
from .distance import DISTANCE_METRICS, compute_distance_matrix
from .query_expansion import alpha_query_expansion
from .rank import chunk_rows_for_budget, evaluate_rank
from .rerank import k_reciprocal_distance
from .roc import evaluate_roc, fpr_key

__all__ = [
    'evaluate_rank', 'chunk_rows_for_budget', 'compute_distance_matrix',
    'DISTANCE_METRICS', 'k_reciprocal_distance', 'alpha_query_expansion',
    'evaluate_roc', 'fpr_key'
]
