# Copyright (c) mmreid_text contributors. All rights reserved.
"""Matplotlib pictures: embedding scatter and training curves.

Figures are drawn on matplotlib's Agg canvas directly (no pyplot, no
global backend change), so they work headless and inside other programs.
"""
import glob
import json
import os.path as osp
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

MARKERS = ('o', '^', 's', 'D', 'v', 'P', '*', 'X')


def _figure(width: float, height: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)
    return fig


def plot_embedding(points: np.ndarray,
                   pids: Sequence[int],
                   modalities: Sequence[str],
                   out_file: str,
                   title: str = 't-SNE of test features',
                   max_legend_ids: int = 20,
                   marker_title: str = 'modality') -> None:
    """Scatter PNG of 2-D points: colour = identity, marker = modality.

    Args:
        points: ``[N, 2]``.
        pids: ``N`` identity labels (colours cycle through ``tab20``).
        modalities: ``N`` modality names (one marker shape each; a legend
            lists them). Identities get a legend too when at most
            ``max_legend_ids``.
        marker_title: legend title of the marker shapes.
    """
    from matplotlib.lines import Line2D
    points = np.asarray(points, dtype=np.float64)
    pids = np.asarray(pids)
    modalities = np.asarray([str(m) for m in modalities])
    if not len(points) == len(pids) == len(modalities):
        raise ValueError(f'plot_embedding: {len(points)} points, '
                         f'{len(pids)} pids and {len(modalities)} '
                         'modalities; give one of each per sample.')
    names = list(OrderedDict.fromkeys(modalities.tolist()))
    if len(names) > len(MARKERS):
        raise ValueError(f'plot_embedding: {len(names)} modalities, at '
                         f'most {len(MARKERS)} marker shapes.')
    ids = sorted(set(pids.tolist()))
    fig = _figure(7.5, 6.0)
    ax = fig.add_subplot(1, 1, 1)
    from matplotlib import colormaps
    cmap = colormaps['tab10' if len(ids) <= 10 else 'tab20']
    colour_of = {pid: cmap(i % cmap.N) for i, pid in enumerate(ids)}
    colours = np.array([colour_of[p] for p in pids.tolist()])
    for marker, name in zip(MARKERS, names):
        sel = modalities == name
        ax.scatter(
            points[sel, 0],
            points[sel, 1],
            c=colours[sel],
            marker=marker,
            s=28,
            edgecolors='black',
            linewidths=0.3)
    handles = [
        Line2D([], [],
               marker=m,
               linestyle='',
               color='grey',
               markeredgecolor='black',
               label=n) for m, n in zip(MARKERS, names)
    ]
    legend = ax.legend(
        handles=handles, title=marker_title, loc='upper left', fontsize=8)
    if len(ids) <= max_legend_ids:
        ax.add_artist(legend)
        id_handles = [
            Line2D([], [],
                   marker='o',
                   linestyle='',
                   color=colour_of[p],
                   label=str(p)) for p in ids
        ]
        ax.legend(
            handles=id_handles,
            title='identity',
            loc='upper left',
            bbox_to_anchor=(1.01, 1.0),
            fontsize=7)
    ax.set_title(f'{title} ({len(points)} samples, {len(ids)} identities)')
    ax.set_xticks([])
    ax.set_yticks([])
    fig.tight_layout()
    fig.savefig(out_file, dpi=100, bbox_inches='tight')


# ------------------------------------------------------------ training logs
def find_scalar_logs(work_dir: str) -> List[str]:
    """mmengine scalar logs of a work dir, oldest run first.

    mmengine writes ``WORK_DIR/<timestamp>/vis_data/scalars.json`` (and a
    ``<timestamp>.json`` copy beside it); a path to such a file is also
    accepted.
    """
    if osp.isfile(work_dir):
        return [work_dir]
    found = sorted(
        glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json')))
    if not found:
        found = sorted(
            glob.glob(osp.join(work_dir, 'vis_data', 'scalars.json')))
    if not found:
        raise FileNotFoundError(
            f'No mmengine scalar log under "{work_dir}": expected '
            f'{osp.join(work_dir, "<timestamp>", "vis_data", "scalars.json")}'
            ' (written by the LocalVisBackend of default_runtime). Pass the '
            'work dir of a training run or the scalars.json file itself.')
    return found


def load_scalars(paths: Sequence[str]) -> List[dict]:
    """All JSON lines of the given scalar logs, in order (a resumed run
    continues the earlier ones). Malformed lines raise, naming the line."""
    records = []
    for path in paths:
        with open(path, encoding='utf-8') as f:
            for number, line in enumerate(f, start=1):
                line = line.strip()
                if not line:
                    continue
                try:
                    records.append(json.loads(line))
                except json.JSONDecodeError as err:
                    raise ValueError(f'{path}:{number}: not a JSON line '
                                     f'({err}).') from err
    return records


def group_of(key: str) -> Optional[str]:
    """Subplot of a scalar key: ``'loss'``, ``'lr'``, ``'metric'`` or None
    (bookkeeping keys: time, data_time, memory, epoch, iter, step; metric
    counts ``num_*`` and trial spreads ``*_std``)."""
    if key in ('epoch', 'iter', 'step', 'time', 'data_time', 'memory', 'eta'):
        return None
    leaf = key.rsplit('/', 1)[-1]
    if leaf.startswith('num_') or leaf.endswith('_std'):
        return None  # counts and trial spreads: not curves
    if 'loss' in key:
        return 'loss'
    if key == 'lr' or key.endswith('_lr') or key.startswith('lr'):
        return 'lr'
    return 'metric'


def collect_curves(
    records: Sequence[dict],
    include: Optional[Sequence[str]] = None
) -> Dict[str, Dict[str, Tuple[List[float], List[float]]]]:
    """``{group: {key: (steps, values)}}`` from scalar records.

    Training records carry ``iter`` / ``step`` (the global iteration);
    validation records (no ``iter``) use ``step`` (mmengine writes the
    epoch there for epoch-based loops). Non-numeric values are skipped.
    """
    curves: Dict[str, Dict[str, Tuple[List[float], List[float]]]] = {}
    for record in records:
        is_train = 'iter' in record
        step = record.get('iter' if is_train else 'step', record.get('step'))
        if step is None:
            continue
        for key, value in record.items():
            group = group_of(key)
            if group is None or not isinstance(value, (int, float)):
                continue
            if include and not any(part in key for part in include):
                continue
            if group == 'metric' and is_train:
                group = 'train'
            steps, values = curves.setdefault(group,
                                              {}).setdefault(key, ([], []))
            steps.append(float(step))
            values.append(float(value))
    return curves


def plot_training_curves(curves: Dict[str, Dict[str, Tuple[List[float],
                                                           List[float]]]],
                         out_file: str,
                         title: str = '') -> List[str]:
    """One PNG, one subplot per group (loss, lr, metric, other train).

    Returns:
        the groups drawn, in order.
    """
    order = [g for g in ('loss', 'lr', 'metric', 'train') if g in curves]
    if not order:
        raise ValueError('plot_training_curves: no loss, lr or metric value '
                         'in the log.')
    xlabels = dict(
        loss='iteration',
        lr='iteration',
        train='iteration',
        metric='validation step (epoch or iteration)')
    fig = _figure(6.0 * len(order), 4.2)
    for index, group in enumerate(order, start=1):
        ax = fig.add_subplot(1, len(order), index)
        for key, (steps, values) in sorted(curves[group].items()):
            ax.plot(
                steps,
                values,
                marker='o' if len(steps) < 20 else None,
                markersize=3,
                label=key)
        if group == 'lr':
            ax.ticklabel_format(axis='y', style='sci', scilimits=(-2, 2))
        ax.set_title(group)
        ax.set_xlabel(xlabels[group])
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(out_file, dpi=100)
    return order


def plot_roc(curves: Dict[str, Tuple[np.ndarray, np.ndarray]],
             out_file: str,
             marks: Sequence[float] = (1e-4, 1e-3, 1e-2),
             title: str = 'Verification ROC') -> None:
    """PNG of ROC curves on a logarithmic FPR axis.

    Args:
        curves: ``{name: (fpr [K], tpr [K])}`` (one line each; FPRs > 0).
        marks: FPRs whose TPR is marked and printed in the legend (each
            must be one of every curve's FPRs).
    """
    if not curves:
        raise ValueError('plot_roc: no curve to draw.')
    fig = _figure(6.5, 5.0)
    ax = fig.add_subplot(1, 1, 1)
    for name, (fpr, tpr) in curves.items():
        fpr, tpr = np.asarray(fpr, np.float64), np.asarray(tpr, np.float64)
        if fpr.shape != tpr.shape or (fpr <= 0).any():
            raise ValueError(f'plot_roc: curve {name!r} needs positive FPRs '
                             'and one TPR per FPR.')
        at = [int(np.argmin(np.abs(fpr - m))) for m in marks]
        label = name + ''.join(f', {100 * tpr[i]:.1f}% @ {fpr[i]:.0e}'
                               for i in at)
        (line, ) = ax.plot(fpr, 100 * tpr, label=label)
        ax.plot(fpr[at], 100 * tpr[at], 'o', color=line.get_color())
    ax.set_xscale('log')
    ax.set_xlabel('false positive rate (different-identity pairs accepted)')
    ax.set_ylabel('true positive rate, % (same-identity pairs accepted)')
    ax.set_ylim(0, 100)
    ax.grid(True, which='both', alpha=0.3)
    ax.set_title(title)
    ax.legend(fontsize=7, loc='upper left')
    fig.tight_layout()
    fig.savefig(out_file, dpi=120)
