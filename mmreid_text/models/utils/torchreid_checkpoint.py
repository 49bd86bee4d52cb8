# Copyright (c) mmreid_text contributors. All rights reserved.
"""Reading torchreid checkpoints and mapping their keys to ours and back.

A torchreid image model of the archs :class:`TorchreidBackbone` supports
is ``featuremaps -> global average pool -> fc (optional: Linear +
BatchNorm1d + ReLU) -> classifier (Linear with bias)``; in eval mode it
returns the ``fc`` output (or the pooled feature when there is no ``fc``).
In mmreid_text the same network is:

- ``backbone.encoder.<key>`` (or ``backbone.encoders.<modality>.<key>``
  with ``share_weights=False``): every torchreid key except
  ``classifier.*``, unchanged (the trunk and ``fc``);
- ``head.necks.0.classifier.weight``: torchreid's ``classifier.weight``
  (``BNNeckHead`` with one modality, ``fuse='concat'``). Our classifier
  has no bias and sits after the BNNeck BatchNorm, which torchreid's
  models do not have.

So the retrieval feature of ``BNNeckHead(retrieval_feat='pre_bn')``
(``proj_cls``) equals torchreid's eval output exactly; the training logits
differ (BNNeck). :func:`torchreid_to_mmreid` and
:func:`mmreid_to_torchreid` map the keys and report every key they could
not carry over, with the reason.
"""
import os.path as osp
from dataclasses import dataclass, field
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import torch
from torch import nn

from mmreid_text.utils.checkpoint import load_checkpoint_safely

#: Where torchreid's weights live in an mmreid_text model (shared trunk).
ENCODER_PREFIX = 'backbone.encoder.'
#: The classifier of a one-modality ``BNNeckHead``.
CLASSIFIER_KEY = 'head.necks.0.classifier.weight'
#: The BNNeck BatchNorm of that head (no torchreid counterpart).
BNNECK_PREFIX = 'head.necks.0.bn.'
#: torchreid's identity classifier.
TORCHREID_CLASSIFIER = 'classifier.'
DOC = 'See docs/torchreid.md.'


class TorchreidCheckpointError(ValueError):
    """A torchreid checkpoint cannot be read or does not fit a model."""


@dataclass
class ConversionReport:
    """What a key mapping did.

    Attributes:
        mapped (list[tuple[str, str]]): ``(source key, target key)``.
        dropped (list[tuple[str, str]]): ``(source key, reason)`` of the
            keys that have no counterpart.
        added (list[tuple[str, str]]): ``(target key, reason)`` of keys
            the target needs and the source does not have (filled in).
    """
    mapped: List[Tuple[str, str]] = field(default_factory=list)
    dropped: List[Tuple[str, str]] = field(default_factory=list)
    added: List[Tuple[str, str]] = field(default_factory=list)

    def format(self, max_listed: int = 20) -> str:
        """Readable summary: counts, then the dropped / added keys."""
        lines = [
            f'{len(self.mapped)} keys mapped, {len(self.dropped)} dropped, '
            f'{len(self.added)} added.'
        ]
        for title, rows in (('dropped (no counterpart)', self.dropped),
                            ('added', self.added)):
            if rows:
                lines.append(f'{title}:')
                lines += [f'  {k}: {why}' for k, why in rows[:max_listed]]
                if len(rows) > max_listed:
                    lines.append(f'  ... ({len(rows) - max_listed} more)')
        return '\n'.join(lines)


def _unwrap(obj: object, path: str) -> Dict[str, torch.Tensor]:
    if isinstance(obj, Mapping):
        for key in ('state_dict', 'model'):
            inner = obj.get(key)
            if isinstance(inner, Mapping):
                obj = inner
                break
    if not isinstance(obj, Mapping) or not obj:
        raise TorchreidCheckpointError(
            f'{path} holds no state dict (expected a mapping of tensors, or '
            "torchreid's save_checkpoint format {'state_dict': ..., "
            f"'epoch': ...}}). {DOC}")
    tensors = {k: v for k, v in obj.items() if isinstance(v, torch.Tensor)}
    if not tensors:
        raise TorchreidCheckpointError(
            f'{path}: the state dict holds no tensors (first keys: '
            f'{list(obj)[:5]}). {DOC}')
    return tensors


def strip_prefix(state_dict: Mapping[str, torch.Tensor],
                 prefix: str) -> Dict[str, torch.Tensor]:
    """Remove ``prefix`` from every key that has it (others unchanged)."""
    return {
        (k[len(prefix):] if k.startswith(prefix) else k): v
        for k, v in state_dict.items()
    }


def read_state_dict(path: str) -> Dict[str, torch.Tensor]:
    """The tensors of a local checkpoint file, ``'module.'`` stripped.

    Reads plain state dicts, torchreid's ``save_checkpoint`` files
    (``{'state_dict', 'epoch', 'rank1', 'optimizer'...}``, DataParallel
    ``module.`` prefixes), mmengine checkpoints and ``.safetensors``
    files, always with ``weights_only=True``
    (:func:`~mmreid_text.utils.checkpoint.load_checkpoint_safely`): torch
    >= 2.6 refuses torchreid's own ``load_checkpoint`` on files with numpy
    scalars, and no file can run code when it is opened.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'Checkpoint "{path}" does not exist. {DOC}')
    if path.endswith('.safetensors'):
        from safetensors.torch import load_file
        obj = load_file(path)
    else:
        obj = load_checkpoint_safely(path, map_location='cpu')
    state_dict = _unwrap(obj, path)
    if all(k.startswith('module.') for k in state_dict):
        state_dict = strip_prefix(state_dict, 'module.')
    return state_dict


def fit_problems(
    expected: Mapping[str, torch.Tensor],
    state_dict: Mapping[str, torch.Tensor],
    allow_missing: Sequence[str] = ()
) -> List[str]:
    """Missing keys, unexpected keys and shape mismatches, as lines.

    Missing ``num_batches_tracked`` buffers and keys starting with one of
    ``allow_missing`` are tolerated.
    """
    missing = [
        k for k in expected
        if k not in state_dict and not k.endswith('num_batches_tracked')
        and not k.startswith(tuple(allow_missing))
    ]
    unexpected = [k for k in state_dict if k not in expected]
    mismatched = [
        f'{k}: checkpoint {tuple(state_dict[k].shape)} vs model '
        f'{tuple(expected[k].shape)}' for k in expected
        if k in state_dict and state_dict[k].shape != expected[k].shape
    ]
    problems = []
    for title, keys in (('missing keys', missing),
                        ('unexpected keys', unexpected), ('shape mismatches',
                                                          mismatched)):
        if keys:
            shown = ', '.join(keys[:20])
            more = f', ... ({len(keys) - 20} more)' if len(keys) > 20 else ''
            problems.append(f'{len(keys)} {title}: {shown}{more}')
    return problems


def load_trunk_weights(
    trunk: nn.Module,
    path: str,
    arch: str,
    ignore_keys: Sequence[str] = (TORCHREID_CLASSIFIER, ),
    init_missing: Sequence[str] = ()
) -> List[str]:
    """Load a torchreid-format file into a torchreid trunk, checked.

    Args:
        trunk: torchreid's model without its ``classifier``.
        path: Local checkpoint (see :func:`read_state_dict`). An
            mmreid_text checkpoint works too: its ``backbone.encoder.``
            keys are used.
        arch: torchreid model name, for the messages.
        ignore_keys: Prefixes of checkpoint keys to leave out
            (``'classifier.'``: the identity classifier of the file's
            training set; ``'fc.'`` for torchvision ImageNet ResNets,
            whose ``fc`` is their 1000-class classifier).
        init_missing: Prefixes of trunk keys that may be absent from the
            file and keep their initialisation (e.g. ``('fc.', )`` for
            ImageNet weights without torchreid's embedding layer).

    Returns:
        The checkpoint keys that were left out (``ignore_keys``).

    Raises:
        TorchreidCheckpointError: the file does not fit the trunk; lists
            missing / unexpected keys and shape mismatches.
    """
    state_dict = read_state_dict(path)
    if any(k.startswith(ENCODER_PREFIX) for k in state_dict):
        state_dict = {
            k[len(ENCODER_PREFIX):]: v
            for k, v in state_dict.items() if k.startswith(ENCODER_PREFIX)
        }
    ignored = [k for k in state_dict if k.startswith(tuple(ignore_keys))]
    state_dict = {k: v for k, v in state_dict.items() if k not in ignored}
    problems = fit_problems(trunk.state_dict(), state_dict, init_missing)
    if problems:
        raise TorchreidCheckpointError(
            f'TorchreidBackbone: the weights in {path} do not fit torchreid '
            f'arch {arch!r}:\n  ' + '\n  '.join(problems) +
            '\nCheck that `name` is the arch the file was trained with. '
            'Checkpoint keys to leave out go in `ignore_keys` (now '
            f'{tuple(ignore_keys)}), trunk keys allowed to keep their init '
            f'in `init_missing` (now {tuple(init_missing)}). {DOC}')
    trunk.load_state_dict(state_dict, strict=False)
    return ignored


def torchreid_to_mmreid(
    state_dict: Mapping[str, torch.Tensor],
    encoder_prefixes: Sequence[str] = (ENCODER_PREFIX, ),
    classifier_key: Optional[str] = CLASSIFIER_KEY
) -> Tuple[Dict[str, torch.Tensor], ConversionReport]:
    """Map a torchreid model's state dict to an mmreid_text model's.

    Args:
        state_dict: torchreid keys (``module.`` already stripped).
        encoder_prefixes: Where the trunk goes; one prefix per copy
            (``backbone.encoders.<m>.`` for every modality with
            ``share_weights=False``).
        classifier_key: Target of ``classifier.weight``; None leaves the
            classifier out (fine-tuning on other identities).

    Returns:
        ``(mmreid_text state dict, report)``.
    """
    ours = [k for k in state_dict if k.startswith(('backbone.', 'head.'))]
    if ours:
        raise TorchreidCheckpointError(
            'torchreid_to_mmreid: the checkpoint already has mmreid_text '
            f'keys ({ours[0]}, ...); convert it back with --reverse. {DOC}')
    report = ConversionReport()
    out = {}
    for key, value in state_dict.items():
        if key.startswith(TORCHREID_CLASSIFIER):
            if key == 'classifier.weight' and classifier_key is not None:
                out[classifier_key] = value
                report.mapped.append((key, classifier_key))
            elif key == 'classifier.bias':
                report.dropped.append(
                    (key, 'BNNeckHead\'s classifier has no bias (max |bias| '
                     f'= {value.abs().max().item():.3g}); it only shifts '
                     'the training logits, not the retrieval feature'))
            else:
                report.dropped.append(
                    (key, 'identity classifier left out (--no-classifier)'
                     if classifier_key is None else
                     'not part of the mapped architecture'))
            continue
        for prefix in encoder_prefixes:
            out[prefix + key] = value
            report.mapped.append((key, prefix + key))
    if not any(k.startswith(tuple(encoder_prefixes)) for k in out):
        raise TorchreidCheckpointError(
            'torchreid_to_mmreid: the checkpoint holds no trunk weights '
            f'(only {sorted(state_dict)[:5]}). {DOC}')
    report.added.append(
        (BNNECK_PREFIX + '*', 'BNNeck BatchNorm: torchreid has none; it '
         'keeps its initialisation when the checkpoint is loaded'))
    return out, report


def mmreid_to_torchreid(
    state_dict: Mapping[str, torch.Tensor],
    encoder_prefix: str = ENCODER_PREFIX,
    classifier_key: Optional[str] = CLASSIFIER_KEY
) -> Tuple[Dict[str, torch.Tensor], ConversionReport]:
    """Map an mmreid_text model's state dict back to torchreid's keys.

    Args:
        state_dict: The model's keys (``backbone.encoder.*``, ``head.*``).
        encoder_prefix: Trunk to export; ``backbone.encoders.<m>.`` picks
            one modality's encoder when ``share_weights=False``.
        classifier_key: Source of torchreid's ``classifier.weight`` (its
            ``classifier.bias`` is set to zeros); None or absent: no
            classifier is written.

    Returns:
        ``(torchreid state dict, report)``.
    """
    report = ConversionReport()
    out = {}
    for key, value in state_dict.items():
        if key.startswith(encoder_prefix):
            out[key[len(encoder_prefix):]] = value
            report.mapped.append((key, key[len(encoder_prefix):]))
        elif classifier_key is not None and key == classifier_key:
            out['classifier.weight'] = value
            out['classifier.bias'] = value.new_zeros(value.shape[0])
            report.mapped.append((key, 'classifier.weight'))
            report.added.append(
                ('classifier.bias', 'zeros: BNNeckHead\'s classifier has no '
                 'bias'))
        elif key == CLASSIFIER_KEY:
            report.dropped.append(
                (key, 'identity classifier left out (--no-classifier)'))
        elif key.startswith(BNNECK_PREFIX):
            report.dropped.append(
                (key, 'BNNeck BatchNorm: torchreid\'s models have none; '
                 'their eval output equals our pre-BN retrieval feature'))
        else:
            report.dropped.append((key, 'not part of the torchreid model'))
    if not any(k.startswith(encoder_prefix) for k in state_dict):
        prefixes = sorted({
            '.'.join(k.split('.')[:3]) + '.'
            for k in state_dict if k.startswith('backbone.')
        })
        raise TorchreidCheckpointError(
            f'mmreid_to_torchreid: no key starts with {encoder_prefix!r}; '
            f'the backbone keys start with {prefixes[:8]}. With '
            'share_weights=False pick one modality\'s encoder '
            f'(--modality NAME -> backbone.encoders.NAME.). {DOC}')
    if 'classifier.weight' not in out:
        report.added.append(
            ('classifier.*', f'not written: no {classifier_key!r} in the '
             'checkpoint; load into torchreid with strict=False'))
    return out, report
