# Copyright (c) mmreid_text contributors. All rights reserved.
"""Analysis of learned prompt tokens (DEEP Fig. 7 / Fig. 12).

- :func:`cosine_similarity_matrix`: cosine similarity of every pair of
  learned tokens (e.g. the ``M x K`` spectral-shared tokens ``S_m`` of
  :class:`~mmreid_text.models.SpectralInversionPrompt`, flattened
  modality-major), drawn by :func:`plot_similarity_matrix`.
- :func:`nearest_words`: the vocabulary entries nearest (by cosine) to each
  learned token in the text encoder's token-embedding table (the usual
  CoOp-style interpretation of a learned context vector), optionally
  restricted to a word list (DEEP Fig. 12 uses curated attribute words).
"""
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F


def cosine_similarity_matrix(tokens: torch.Tensor) -> torch.Tensor:
    """``[N, W]`` -> ``[N, N]`` cosine similarities (1 on the diagonal)."""
    if tokens.dim() != 2:
        raise ValueError('cosine_similarity_matrix expects [N, W] tokens, '
                         f'got {tuple(tokens.shape)}.')
    unit = F.normalize(tokens.detach().float(), dim=1)
    return unit @ unit.T


def learned_spectral_tokens(prompt_learner) -> Tuple[torch.Tensor, List[str]]:
    """The learnable spectral tokens of a ``SpectralInversionPrompt``.

    Returns:
        ``([M * K, W] tokens, labels)``, labels ``'rgb[0]'``, ... in the
        same modality-major order.

    Raises:
        ValueError: the prompt learner has no learnable spectral tokens
        (``spectral_prompt`` is ``'inverted'`` or ``'none'``).
    """
    tokens = getattr(prompt_learner, 'spectral_tokens', None)
    if tokens is None:
        raise ValueError(
            f'{type(prompt_learner).__name__} has no learnable spectral '
            f"tokens (spectral_prompt="
            f"{getattr(prompt_learner, 'spectral_prompt', None)!r}); the "
            "analysis needs spectral_prompt='learnable' (DEEP's DSP).")
    num_modalities, num_tokens, _ = tokens.shape
    labels = [
        f'{modality}[{index}]' for modality in prompt_learner.modalities
        for index in range(num_tokens)
    ]
    return tokens.detach().reshape(num_modalities * num_tokens, -1), labels


def decode_token(tokenizer, token_id: int) -> str:
    """Readable text of one BPE token id (``'</w>'`` word ends removed)."""
    text = tokenizer.decoder[int(token_id)]
    text = bytearray([tokenizer.byte_decoder[c] for c in text]).decode(
        'utf-8', errors='replace')
    return text.replace('</w>', '').strip() or repr(text)


def nearest_words(
    tokens: torch.Tensor,
    embedding_table: torch.Tensor,
    tokenizer,
    topk: int = 5,
    vocabulary: Optional[Sequence[str]] = None,
    exclude_ids: Sequence[int] = ()
) -> List[List[Tuple[str, float]]]:
    """The ``topk`` nearest vocabulary entries of every token (cosine).

    Args:
        tokens: ``[N, W]`` learned token vectors.
        embedding_table: ``[V, W]`` token embeddings of the text encoder
            (``text_encoder.encoder.token_embedding.weight``).
        tokenizer: open_clip ``SimpleTokenizer`` (decodes ids, encodes
            ``vocabulary`` words).
        topk: entries per token.
        vocabulary: optional word list; each word is embedded as the mean
            of its BPE tokens' embeddings and only these words are
            ranked. None: all ``V`` BPE tokens.
        exclude_ids: BPE ids never returned (e.g. start/end of text).

    Returns:
        per token, ``[(word, cosine)]`` by decreasing cosine.
    """
    table = embedding_table.detach().float()
    if vocabulary is not None:
        words, rows = [], []
        for word in vocabulary:
            ids = tokenizer.encode(word)
            if not ids:
                continue
            words.append(word)
            rows.append(table[ids].mean(dim=0))
        if not words:
            raise ValueError('nearest_words: the vocabulary has no word the '
                             'tokenizer can encode.')
        candidates = torch.stack(rows)
    else:
        words, candidates = None, table
    sims = F.normalize(
        tokens.detach().float(), dim=1) @ F.normalize(
            candidates, dim=1).T
    if words is None and exclude_ids:
        sims[:, list(exclude_ids)] = -float('inf')
    values, indices = sims.topk(min(topk, sims.shape[1]), dim=1)
    result = []
    for row_values, row_indices in zip(values.tolist(), indices.tolist()):
        result.append([
            (words[i] if words is not None else decode_token(tokenizer, i),
             float(v)) for v, i in zip(row_values, row_indices)
        ])
    return result


def nearest_words_table(labels: Sequence[str],
                        neighbours: Sequence[Sequence[Tuple[str, float]]],
                        fmt: str = 'md') -> str:
    """Markdown (``'md'``) or CSV (``'csv'``) table: one row per token."""
    if fmt not in ('md', 'csv'):
        raise ValueError(f"fmt must be 'md' or 'csv', got {fmt!r}.")
    topk = max(len(n) for n in neighbours)
    if fmt == 'csv':
        head = ['token'] + [
            f'{kind}{i + 1}' for i in range(topk) for kind in ('word', 'cos')
        ]
        lines = [','.join(head)]
        for label, row in zip(labels, neighbours):
            cells = [label]
            for word, cos in row:
                cells += ['"' + word.replace('"', '""') + '"', f'{cos:.4f}']
            lines.append(','.join(cells))
        return '\n'.join(lines) + '\n'
    head = '| token | ' + ' | '.join(f'#{i + 1} (cos)'
                                     for i in range(topk)) + ' |'
    rule = '|---' * (topk + 1) + '|'
    body = []
    for label, row in zip(labels, neighbours):
        cells = [f'{w.replace("|", "/")} ({c:.3f})' for w, c in row]
        body.append(f'| {label} | ' + ' | '.join(cells) + ' |')
    return '\n'.join([head, rule, *body]) + '\n'


def plot_similarity_matrix(matrix: np.ndarray,
                           labels: Sequence[str],
                           out_file: str,
                           title: str = 'Cosine similarity of learned tokens',
                           groups: Optional[Dict[str, int]] = None,
                           annotate: bool = True) -> None:
    """Heatmap PNG of a square similarity matrix with tick labels.

    Args:
        groups: ``{name: size}`` of consecutive blocks (e.g. the tokens
            of each modality); separated by white lines.
        annotate: write each value in its cell (small matrices).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    matrix = np.asarray(matrix, dtype=np.float64)
    n = matrix.shape[0]
    side = max(4.0, 0.45 * n + 2.0)
    fig = Figure(figsize=(side + 1.0, side))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    image = ax.imshow(matrix, cmap='viridis', vmin=-1.0, vmax=1.0)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label='cosine')
    ax.set_xticks(range(n))
    ax.set_yticks(range(n))
    ax.set_xticklabels(labels, rotation=90, fontsize=8)
    ax.set_yticklabels(labels, fontsize=8)
    if annotate and n <= 24:
        for i in range(n):
            for j in range(n):
                ax.text(
                    j,
                    i,
                    f'{matrix[i, j]:.2f}',
                    ha='center',
                    va='center',
                    fontsize=6,
                    color='white' if matrix[i, j] < 0.3 else 'black')
    if groups:
        edge = -0.5
        for size in list(groups.values())[:-1]:
            edge += size
            ax.axhline(edge, color='white', linewidth=2)
            ax.axvline(edge, color='white', linewidth=2)
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(out_file, dpi=100)
