# Copyright (c) mmreid_text contributors. All rights reserved.
"""Caption quality statistics (as in NEXT Fig. 2).

Per modality: number of captions, mean word count, the rate of captions
containing 'none', 'unknown' or 'unclear' (whole words, any case), and
optionally CLIP token statistics (mean tokens including start/end tokens,
rate of captions longer than the 77-token context).
"""
from typing import Callable, Dict, Iterable, List, Optional, Tuple

from .text import CLIP_CONTEXT_LENGTH, count_words, has_unknown_words


def caption_statistics(
        triples: Iterable[Tuple[str, str, str]],
        count_tokens: Optional[Callable[[str], int]] = None,
        context_length: int = CLIP_CONTEXT_LENGTH) -> Dict[str, Dict]:
    """Statistics per modality and over all captions (key ``'all'``).

    Args:
        triples: ``(rel_path, modality, text)`` for every caption.
        count_tokens: Token counter (start/end included); ``None`` skips
            token statistics.
        context_length: Context size for the overflow rate.

    Returns:
        ``{modality: {'captions', 'mean_words', 'unknown_rate',
        ['mean_tokens', 'max_tokens', 'over_context_rate']}}``; rates are
        fractions in [0, 1].
    """
    groups: Dict[str, List[str]] = {}
    for _, modality, text in triples:
        groups.setdefault(modality, []).append(text)
    if groups:
        groups['all'] = [t for texts in list(groups.values()) for t in texts]
    result = {}
    for modality, texts in groups.items():
        n = len(texts)
        row = {
            'captions': n,
            'mean_words': sum(count_words(t) for t in texts) / n,
            'unknown_rate': sum(has_unknown_words(t) for t in texts) / n,
        }
        if count_tokens is not None:
            tokens = [count_tokens(t) for t in texts]
            row['mean_tokens'] = sum(tokens) / n
            row['max_tokens'] = max(tokens)
            row['over_context_rate'] = sum(t > context_length
                                           for t in tokens) / n
        result[modality] = row
    return result


def format_statistics_table(stats: Dict[str, Dict[str, Dict]]) -> str:
    """Plain-text table of ``{name: caption_statistics(...)}``."""
    headers = ['source', 'modality', 'captions', 'words', 'unknown %']
    with_tokens = any('mean_tokens' in row for per in stats.values()
                      for row in per.values())
    if with_tokens:
        headers += ['tokens', 'max tok', '>77 %']
    rows = []
    for name, per in stats.items():
        for modality, row in per.items():
            line = [
                name, modality,
                str(row['captions']), f'{row["mean_words"]:.1f}',
                f'{100 * row["unknown_rate"]:.2f}'
            ]
            if with_tokens:
                if 'mean_tokens' in row:
                    line += [
                        f'{row["mean_tokens"]:.1f}',
                        str(row['max_tokens']),
                        f'{100 * row["over_context_rate"]:.2f}'
                    ]
                else:
                    line += ['-', '-', '-']
            rows.append(line)
    widths = [
        max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
        for i, h in enumerate(headers)
    ]
    out = [
        '  '.join(h.ljust(w) for h, w in zip(headers, widths)).rstrip(),
        '  '.join('-' * w for w in widths)
    ]
    for r in rows:
        out.append('  '.join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
    return '\n'.join(out)
