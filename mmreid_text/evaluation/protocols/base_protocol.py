# Copyright (c) mmreid_text contributors. All rights reserved.
"""Evaluation protocols: which gallery entries a query must not see.

A protocol is a small object registered in
:data:`mmreid_text.registry.REID_PROTOCOLS`.  The ranking core
(:func:`mmreid_text.evaluation.evaluate_rank`) calls it once per chunk of
queries with the per-sample meta of that chunk and of the whole gallery, and
receives a boolean ``[q, g]`` mask of gallery entries to drop from the
ranking of each query (they are neither positives nor negatives).

A protocol also says *what* is evaluated: :meth:`BaseReIDProtocol.settings`
turns the meta of all evaluated samples into one or more named
:class:`EvalSetting` s (a query subset, a gallery subset and the ignore rule
to apply), which :class:`~mmreid_text.evaluation.ReIDMetric` evaluates in
one run.  The default is a single unnamed setting: ``is_query`` samples
against ``is_gallery`` samples with the protocol's own rule.
"""
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from torch import Tensor

from mmreid_text.registry import REID_PROTOCOLS

#: Per-sample meta of one side (query chunk or gallery): ``{key: [n]}``
#: integer tensors on the evaluation device.  Always holds ``'pid'``; holds
#: ``'camid'`` when the caller gave camera ids, plus every extra key the
#: caller passed (``'scene_id'``, ``'modality'``, ...).
SampleMeta = Dict[str, Tensor]
#: Meta of every evaluated sample, in ``sample_idx`` order: ``{key: [n]}``
#: numpy arrays.  Always holds ``'pid'``, ``'is_query'``, ``'is_gallery'``
#: (bool) and ``'sample_idx'``; holds ``'camid'`` when every sample has one
#: and each key of the protocol's ``required_keys`` (int) and
#: ``selection_keys`` (as given, e.g. ``'modality'`` strings).
AllSampleMeta = Dict[str, np.ndarray]


@dataclass(frozen=True)
class EvalSetting:
    """One query set x gallery set evaluation of a protocol.

    Attributes:
        name (str, optional): name of the setting, e.g. ``'ir2vis'``; it
            prefixes the metric keys (``'ir2vis/mAP'``).  ``None`` only for
            a protocol's single default setting (keys ``'mAP'``, ...).
        query (ndarray): ``[q]`` int64 indices of the query samples into the
            :data:`AllSampleMeta` arrays (ascending).
        gallery (ndarray): ``[g]`` int64 indices of the gallery samples.
        rule (BaseReIDProtocol): protocol whose :meth:`ignore_mask` decides
            which gallery entries each query ignores in this setting.
        query_desc (str): how the query side was selected (for messages),
            e.g. ``"is_query samples with modality 'vis'"``.
        gallery_desc (str): the same for the gallery side.
    """
    name: Optional[str]
    query: np.ndarray
    gallery: np.ndarray
    rule: 'BaseReIDProtocol'
    query_desc: str = 'is_query samples'
    gallery_desc: str = 'is_gallery samples'


class BaseReIDProtocol:
    """Base class of evaluation protocols.

    Subclasses implement :meth:`ignore_mask` and list the meta keys they read
    in ``required_keys`` so that missing data is reported before any work is
    done.

    Hooks describing how the ranking core scores (used by SYSU-MM01's
    ``sysu_setting``):

    - ``cmc_level`` (str): ``'image'`` counts the rank of the first correct
      gallery *image* (Market/torchreid CMC).  ``'identity'``
      de-duplicates gallery identities along each ranking before taking the
      first hit (SYSU-MM01 / official MATLAB code).
    - :meth:`gallery_trials` returns ``None`` (one trial on the whole
      gallery) or a list of gallery index tensors; metrics are then
      computed once per trial on the selected columns and averaged (SYSU's
      10 random gallery draws), with their standard deviation.
    """

    #: integer meta keys (besides ``'pid'``) that :meth:`ignore_mask` reads.
    required_keys: Tuple[str, ...] = ()
    #: per-sample meta keys (any type, e.g. ``'modality'`` strings) that
    #: :meth:`settings` reads to choose the query and gallery subsets.
    selection_keys: Tuple[str, ...] = ()
    #: ``'image'`` or ``'identity'`` (identity-level CMC).
    cmc_level: str = 'image'

    def ignore_mask(self, query: SampleMeta, gallery: SampleMeta) -> Tensor:
        """Gallery entries each query must ignore.

        Args:
            query (dict[str, Tensor]): meta of a query chunk, each ``[q]``.
            gallery (dict[str, Tensor]): meta of the gallery, each ``[g]``.

        Returns:
            Tensor: ``[q, g]`` bool, ``True`` = drop this gallery entry from
            this query's ranking.
        """
        raise NotImplementedError

    def settings(self, samples: AllSampleMeta) -> List[EvalSetting]:
        """The query/gallery settings to evaluate, in report order.

        The default is one unnamed setting: the ``is_query`` samples
        against the ``is_gallery`` samples (a sample may be both) with this
        protocol's :meth:`ignore_mask`.  Multi-setting protocols (``vcm``,
        ``bupt``, ``sysu``, ``regdb``) return several named
        settings, each with its own subsets and rule.

        Args:
            samples (dict): meta of all evaluated samples
                (:data:`AllSampleMeta`).

        Returns:
            list[EvalSetting]: at least one setting; names unique.
        """
        return [
            EvalSetting(
                name=None,
                query=np.flatnonzero(samples['is_query']),
                gallery=np.flatnonzero(samples['is_gallery']),
                rule=self)
        ]

    def gallery_trials(self,
                       gallery: SampleMeta) -> Optional[Sequence[Tensor]]:
        """Gallery subsets to evaluate separately and average.

        Returns ``None`` (default) for a single evaluation on the whole
        gallery, or a list of non-empty 1-D index tensors into the given
        gallery (no repeats), one per trial.

        Args:
            gallery (dict[str, Tensor]): meta of the whole gallery.
        """
        return None

    def check_meta(self, meta: SampleMeta, side: str) -> None:
        """Raise a ``KeyError`` naming every required key absent in meta.

        Args:
            meta (dict): per-sample meta of one side.
            side (str): ``'query'`` or ``'gallery'`` (for the message).
        """
        missing = [
            k for k in ('pid', ) + tuple(self.required_keys)
            if meta.get(k) is None
        ]
        if missing:
            raise KeyError(
                f'Protocol {self!r} needs the {side} meta {missing}, but '
                f'only {sorted(meta)} were given. Pass camera ids as '
                'q_camids/g_camids and other keys as '
                f'{side}_meta=dict(scene_id=...) to evaluate_rank, or make '
                'the dataset put them in every sample.')

    def __repr__(self) -> str:
        return f'{type(self).__name__}()'


ProtocolLike = Union[str, dict, BaseReIDProtocol]


def build_protocol(protocol: ProtocolLike) -> BaseReIDProtocol:
    """Build a protocol from a registered name, a config dict or an object.

    Args:
        protocol (str | dict | BaseReIDProtocol): ``'market'``,
            ``dict(type='msvr310')`` or an instance.
    """
    if isinstance(protocol, BaseReIDProtocol):
        return protocol
    cfg = dict(type=protocol) if isinstance(protocol, str) else protocol
    if not isinstance(cfg, dict) or 'type' not in cfg:
        raise TypeError('protocol must be a registered name, a dict with a '
                        f'"type" key or a BaseReIDProtocol, got {protocol!r}')
    name = cfg['type']
    if isinstance(name, str) and REID_PROTOCOLS.get(name) is None:
        raise KeyError(
            f'Unknown ReID protocol {name!r}. Registered protocols: '
            f'{sorted(REID_PROTOCOLS.module_dict)}. Register new ones with '
            '@REID_PROTOCOLS.register_module().')
    built = REID_PROTOCOLS.build(cfg)
    if not isinstance(built, BaseReIDProtocol):
        raise TypeError(f'{name!r} built a {type(built).__name__}, which is '
                        'not a BaseReIDProtocol subclass.')
    return built


def as_meta_tensor(values, device: Union[str, torch.device],
                   name: str) -> Tensor:
    """Convert one per-sample integer meta array to a 1-D long tensor.

    Args:
        values (array-like): ``[n]`` integers (ints stored as floats are
            accepted).
        device (str | torch.device): target device.
        name (str): name used in error messages, e.g. ``'query camid'``.
    """
    try:
        tensor = values if isinstance(values, Tensor) else torch.as_tensor(
            np.asarray(values))
    except (TypeError, ValueError, RuntimeError) as err:
        raise ValueError(f'{name} must be an array of integers: {err}')
    if tensor.dim() != 1:
        raise ValueError(f'{name} must be 1-D, got shape '
                         f'{tuple(tensor.shape)}')
    fractional = tensor.dtype.is_floating_point and not bool(
        (tensor == tensor.round()).all())
    if fractional:
        raise ValueError(f'{name} must hold integers, got {tensor[:5]}...')
    return tensor.to(device=device, dtype=torch.long)
