# Copyright (c) mmreid_text contributors. All rights reserved.
"""Visible-infrared video protocols: HITSZ-VCM (``vcm``), BUPTCampus
(``bupt``).

Both evaluate several cross-modality *directions* in one run (one
:class:`~.base_protocol.EvalSetting` each, named ``'<query>2<gallery>'``
with the modality names ``'vis'`` and ``'ir'``) and read every sample's
``'modality'`` meta.  See docs/evaluation.md, "Visible-infrared video".
"""
import logging
from typing import Dict, List, Sequence, Tuple

import numpy as np
import torch
from mmengine.logging import print_log
from torch import Tensor

from mmreid_text.registry import REID_PROTOCOLS
from .base_protocol import (AllSampleMeta, BaseReIDProtocol, EvalSetting,
                            SampleMeta)
from .same_key_protocols import MarketProtocol

#: Modality names of visible-infrared samples (one modality per sample).
VI_MODALITIES = ('vis', 'ir')


def modality_counts(values: np.ndarray) -> str:
    """``"ir: 3, vis: 5"`` (sorted names) or ``"none"`` for no sample."""
    if len(values) == 0:
        return 'none'
    names, counts = np.unique(values, return_counts=True)
    return ', '.join(f'{n}: {c}' for n, c in zip(names, counts))


def check_directions(directions: Sequence[str], allowed: Sequence[str],
                     protocol: str) -> Tuple[str, ...]:
    """Validate a protocol's ``directions`` argument (non-empty, unique,
    each one of ``allowed``)."""
    if isinstance(directions, str):
        directions = (directions, )
    directions = tuple(directions)
    unknown = [d for d in directions if d not in allowed]
    if not directions or unknown or len(set(directions)) != len(directions):
        raise ValueError(
            f'{protocol} protocol: directions must be a non-empty list of '
            f'distinct names from {tuple(allowed)}, got {directions}.')
    return directions


class CrossModalityProtocol(BaseReIDProtocol):
    """Base of protocols that choose their query and gallery subsets by
    the samples' ``'modality'`` (``'vis'`` / ``'ir'``)."""

    selection_keys: Tuple[str, ...] = ('modality', )

    def modality_array(self, samples: AllSampleMeta) -> np.ndarray:
        """``[n]`` str array of the samples' modalities, validated.

        Raises:
            KeyError: no ``'modality'`` meta was gathered.
            ValueError: a modality other than ``'vis'`` / ``'ir'``.
        """
        modality = samples.get('modality')
        if modality is None:
            raise KeyError(
                f'Protocol {self!r} splits the samples by their modality, '
                "but the samples have no 'modality' meta. Visible-infrared "
                "datasets must give every sample modality='vis' or 'ir' "
                "(one modality per sample) and PackReIDInputs must keep "
                "'modality' as a meta key.")
        values = np.asarray(modality).astype(str)
        unknown = sorted(set(values.tolist()) - set(VI_MODALITIES))
        if unknown:
            raise ValueError(
                f'Protocol {self!r}: sample modalities must be one of '
                f'{VI_MODALITIES}, got {unknown} (counts: '
                f'{modality_counts(values)}). Use a visible-infrared '
                'dataset with one modality per sample.')
        return values

    def __repr__(self) -> str:
        return f'{type(self).__name__}(directions={self.directions!r})'


@REID_PROTOCOLS.register_module(name='vcm')
class VCMProtocol(MarketProtocol, CrossModalityProtocol):
    """HITSZ-VCM: infrared-to-visible and visible-to-infrared in one run.

    - ``'ir2vis'``: queries = the ``is_query`` samples (the ``query_IDX``
      rows of ``track_test_info``, infrared), gallery = the ``is_gallery``
      samples (the other test tracklets, visible);
    - ``'vis2ir'``: roles swapped (the ``is_gallery`` samples query the
      ``is_query`` ones), as MITML / VLD transpose the distance matrix.

    In both directions gallery entries with the query's pid AND camera are
    ignored (``evaluate_vcm``: the cameras record both modalities).  The
    samples' ``'modality'`` is checked and each side's composition is
    logged; a side that is not the modality the direction names gives a
    warning, not an error (the split comes from ``query_IDX``).

    Args:
        directions (Sequence[str]): subset of ``('ir2vis', 'vis2ir')``, in
            report order.
    """

    DIRECTIONS = ('ir2vis', 'vis2ir')
    selection_keys = ('modality', )

    def __init__(self, directions: Sequence[str] = DIRECTIONS) -> None:
        super().__init__()
        self.directions = check_directions(directions, self.DIRECTIONS, 'vcm')

    def settings(self, samples: AllSampleMeta) -> List[EvalSetting]:
        modality = self.modality_array(samples)
        is_query = np.flatnonzero(samples['is_query'])
        is_gallery = np.flatnonzero(samples['is_gallery'])
        query_desc = 'is_query samples (query_IDX)'
        sides = dict(
            ir2vis=(is_query, is_gallery, query_desc, 'is_gallery samples'),
            vis2ir=(is_gallery, is_query, 'is_gallery samples', query_desc))
        settings = []
        for name in self.directions:
            query, gallery, q_desc, g_desc = sides[name]
            expected = dict(zip(('query', 'gallery'), name.split('2')))
            for side, index, desc in (('query', query, q_desc),
                                      ('gallery', gallery, g_desc)):
                other = modality[index] != expected[side]
                if other.any():
                    print_log(
                        f'vcm {name}: the {side} side ({desc}) holds '
                        f'{modality_counts(modality[index])}; the direction '
                        f'name assumes every {side} sample is '
                        f"'{expected[side]}'. It is evaluated as given.",
                        logger='current',
                        level=logging.WARNING)
            settings.append(
                EvalSetting(name, query, gallery, self, q_desc, g_desc))
        return settings

    def __repr__(self) -> str:
        return CrossModalityProtocol.__repr__(self)


@REID_PROTOCOLS.register_module(name='bupt')
class BUPTCampusProtocol(CrossModalityProtocol):
    """BUPTCampus: no camera or junk filtering, cross-modality directions.

    - ``'vis2ir'``: queries = ``is_query`` samples (``query.txt``) with
      modality ``'vis'``, gallery = ``is_gallery`` samples
      (``gallery.txt``) with modality ``'ir'``;
    - ``'ir2vis'``: the reverse;
    - optional ``'vis2vis'`` / ``'ir2ir'`` (same-modality) and ``'all'``
      (every query against every gallery sample), as the public
      ``evaluation.evaluate`` also computes them.

    Nothing is ignored: every same-pid gallery entry is a positive,
    whatever its camera (the query and gallery files are disjoint).

    Args:
        directions (Sequence[str]): names from ``('vis2ir', 'ir2vis',
            'vis2vis', 'ir2ir', 'all')`` in report order; default the two
            visible-infrared ones the papers report.
    """

    DIRECTIONS = ('vis2ir', 'ir2vis', 'vis2vis', 'ir2ir', 'all')
    DEFAULT_DIRECTIONS = ('vis2ir', 'ir2vis')

    def __init__(self, directions: Sequence[str] = DEFAULT_DIRECTIONS) -> None:
        self.directions = check_directions(directions, self.DIRECTIONS, 'bupt')

    def ignore_mask(self, query: SampleMeta, gallery: SampleMeta) -> Tensor:
        return torch.zeros(
            len(query['pid']),
            len(gallery['pid']),
            dtype=torch.bool,
            device=query['pid'].device)

    def settings(self, samples: AllSampleMeta) -> List[EvalSetting]:
        modality = self.modality_array(samples)
        roles: Dict[str, np.ndarray] = dict(
            query=np.asarray(samples['is_query'], dtype=bool),
            gallery=np.asarray(samples['is_gallery'], dtype=bool))
        settings = []
        for name in self.directions:
            picks = []
            for side, wanted in zip(('query', 'gallery'),
                                    name.split('2') if name != 'all' else
                                    (None, None)):
                mask = roles[side]
                desc = f'is_{side} samples'
                if wanted is not None:
                    mask = mask & (modality == wanted)
                    desc += f" with modality '{wanted}'"
                picks.append((np.flatnonzero(mask), desc))
            (query, q_desc), (gallery, g_desc) = picks
            settings.append(
                EvalSetting(name, query, gallery, self, q_desc, g_desc))
        return settings
