# Copyright (c) mmreid_text contributors. All rights reserved.
from .attention_rollout import (AttentionRecorder, attention_rollout,
                                cls_attention_map, overlay_heatmap,
                                rollout_maps)
from .plots import (collect_curves, find_scalar_logs, load_scalars,
                    plot_embedding, plot_roc, plot_training_curves)
from .prompt_analysis import (cosine_similarity_matrix,
                              learned_spectral_tokens, nearest_words,
                              nearest_words_table, plot_similarity_matrix)
from .retrieval_figure import draw_retrieval, rank_gallery, sample_tiles
from .tsne import tsne

__all__ = [
    'draw_retrieval', 'rank_gallery', 'sample_tiles', 'tsne', 'plot_embedding',
    'find_scalar_logs', 'load_scalars', 'collect_curves',
    'plot_training_curves', 'plot_roc', 'AttentionRecorder',
    'attention_rollout', 'cls_attention_map', 'overlay_heatmap',
    'rollout_maps', 'cosine_similarity_matrix', 'learned_spectral_tokens',
    'nearest_words', 'nearest_words_table', 'plot_similarity_matrix'
]
