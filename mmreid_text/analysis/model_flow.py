# Copyright (c) mmreid_text contributors. All rights reserved.
"""Trace the feature dict through a ReID model (``print_model_flow.py``).

:func:`trace_model_flow` runs one forward pass of a
:class:`~mmreid_text.models.ReIDModel` with hooks on the backbone, every
neck, the head and every loss term, and records, per component, the
``feats`` keys it actually read and wrote with their shapes next to its
declaration (:class:`~mmreid_text.models.utils.FeatureContract`), and per
loss the outputs it consumed. :func:`format_model_flow` renders the result
as an aligned text table.
"""
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence

import torch
from torch import nn

from mmreid_text.models.utils.feature_contract import (FeatureAccessRecorder,
                                                       FeatureKeys,
                                                       get_feature_keys,
                                                       written_keys)

#: Shape text of a key a component looked up but did not find.
ABSENT = '(absent)'


def describe_value(value: Any) -> str:
    """Short text of a feature dict entry.

    ``[2, 3, 512]`` for a tensor, ``3 x [2, 512]`` for a list of tensors of
    one shape, ``(16, 8)`` for a tuple of ints (``grid``), else the type.
    """
    if torch.is_tensor(value):
        return str(list(value.shape))
    if isinstance(value, (list, tuple)) and value and all(
            torch.is_tensor(v) for v in value):
        shapes = [str(list(v.shape)) for v in value]
        if len(set(shapes)) == 1:
            return f'{len(shapes)} x {shapes[0]}'
        return '[' + ', '.join(shapes) + ']'
    if isinstance(value, tuple) and all(isinstance(v, int) for v in value):
        return str(value)
    return type(value).__name__


@dataclass
class ComponentFlow:
    """What one component read and wrote in the traced pass.

    Attributes:
        position (str): ``'backbone'``, ``'necks[i]'`` or ``'head'``.
        type (str): Class name.
        declared (FeatureKeys, optional): Its declaration; None when it
            declares nothing.
        reads (dict): ``{key: shape text}`` of the keys it looked up, in
            sorted order (``ABSENT`` for an optional key not present).
        writes (dict): ``{key: shape text}`` of the keys it added or
            replaced, in output order.
    """
    position: str
    type: str
    declared: Optional[FeatureKeys]
    reads: Dict[str, str] = field(default_factory=dict)
    writes: Dict[str, str] = field(default_factory=dict)

    def mismatches(self, training: bool) -> List[str]:
        """Differences between the declaration and the traced pass."""
        if self.declared is None:
            return []
        problems = []
        declared_writes = set(self.declared.writes)
        if training:
            declared_writes |= set(self.declared.train_writes)
        if set(self.writes) != declared_writes:
            problems.append(f'declares writes {sorted(declared_writes)} but '
                            f'wrote {sorted(self.writes)}')
        allowed = (
            set(self.declared.reads) | set(self.declared.optional_reads)
            | set(self.declared.train_reads))
        required = set(self.declared.reads)
        if training:
            required |= set(self.declared.train_reads)
        read = set(self.reads)
        if not required <= read or not read <= allowed:
            problems.append(
                f'declares reads {sorted(self.declared.reads)} (optional '
                f'{sorted(self.declared.optional_reads)}, in training '
                f'{sorted(self.declared.train_reads)}) but read '
                f'{sorted(read)}')
        return problems


@dataclass
class LossFlow:
    """One loss term of the traced pass: its inputs and value."""
    name: str
    type: str
    weight: float
    inputs: Dict[str, str]
    value: Optional[float] = None


@dataclass
class ModelFlow:
    """Result of :func:`trace_model_flow`."""
    mode: str
    input_shape: List[int]
    components: List[ComponentFlow]
    losses: List[LossFlow]
    outputs: Dict[str, str]

    def mismatches(self) -> List[str]:
        """``'necks[0] X: declares ...'`` for every drifted declaration."""
        training = self.mode == 'loss'
        return [
            f'{c.position} {c.type}: {problem}' for c in self.components
            for problem in c.mismatches(training)
        ]


def trace_model_flow(model: nn.Module,
                     inputs: torch.Tensor,
                     data_samples: Optional[Sequence] = None,
                     mode: str = 'loss') -> ModelFlow:
    """Run one pass of ``model`` and record the feature dict at every step.

    Args:
        model: A :class:`~mmreid_text.models.ReIDModel`.
        inputs: Preprocessed inputs ``[B, M, (T,) 3, H, W]``.
        data_samples: The batch's data samples (``pid`` needed for
            ``'loss'``).
        mode: ``'loss'`` (training mode, losses computed) or
            ``'predict'`` (eval mode).

    Returns:
        ModelFlow: components in forward order, losses in config order.
    """
    if mode not in ('loss', 'predict'):
        raise ValueError(f'mode must be "loss" or "predict", got {mode!r}.')
    stages = [('backbone', model.backbone)]
    stages += [(f'necks[{i}]', neck) for i, neck in enumerate(model.necks)]
    stages.append(('head', model.head))
    records = {
        id(module):
        ComponentFlow(position,
                      type(module).__name__, get_feature_keys(module))
        for position, module in stages
    }
    losses: List[LossFlow] = []
    final: Dict[str, str] = {}
    handles = []

    def wrap_feats(module, args):
        if not args or not isinstance(args[0], dict):
            return None
        return (FeatureAccessRecorder(args[0]), *args[1:])

    def record(module, args, output):
        flow = records[id(module)]
        if not isinstance(output, dict):
            return
        if module is model.backbone:
            before: dict = {}
        else:
            before = args[0]
            for key in sorted(getattr(before, 'accessed', ())):
                flow.reads[key] = (
                    describe_value(before[key]) if key in before else ABSENT)
        flow.writes = {
            key: describe_value(output[key])
            for key in written_keys(before, output)
        }
        if module is model.head:
            final.update({
                key: describe_value(value)
                for key, value in output.items()
            })

    def record_loss(term, args, output):
        outputs = args[0]
        losses.append(
            LossFlow(
                term.name,
                type(term.loss).__name__,
                term.weight,
                {key: describe_value(outputs[key])
                 for key in term.inputs},
                value=float(output.detach().float().mean())))

    for _, module in stages:
        if module is not model.backbone:
            handles.append(module.register_forward_pre_hook(wrap_feats))
        handles.append(module.register_forward_hook(record))
    for term in getattr(model, 'loss_terms', ()):
        handles.append(term.register_forward_hook(record_loss))
    was_training = model.training
    try:
        model.train(mode == 'loss')
        with torch.no_grad():
            model(inputs, list(data_samples or []) or None, mode=mode)
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)
    return ModelFlow(mode, list(inputs.shape),
                     [records[id(module)] for _, module in stages], losses,
                     final)


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [len(h) for h in header]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row)]
    lines = ['  '.join(h.ljust(w) for h, w in zip(header, widths)).rstrip()]
    lines.append('  '.join('-' * w for w in widths))
    for row in rows:
        lines.append('  '.join(cell.ljust(w)
                               for cell, w in zip(row, widths)).rstrip())
    return '\n'.join(lines)


def format_model_flow(flow: ModelFlow) -> str:
    """Aligned text: one block of rows per component, then the losses.

    Every read and every written key is on its own row as
    ``key [shape]``; keys written only in training are marked
    ``(train)``, undeclared components ``(undeclared)``.
    """
    rows = []
    for comp in flow.components:
        name = comp.type + ('' if comp.declared else ' (undeclared)')
        train_only = set(comp.declared.train_writes) if comp.declared else ()
        reads = [f'{k} {v}' for k, v in comp.reads.items()] or ['-']
        writes = [
            f'{k} {v}' + (' (train)' if k in train_only else '')
            for k, v in comp.writes.items()
        ] or ['-']
        for index in range(max(len(reads), len(writes))):
            rows.append([
                comp.position if index == 0 else '',
                name if index == 0 else '',
                reads[index] if index < len(reads) else '',
                writes[index] if index < len(writes) else '',
            ])
    parts = [
        f'inputs {flow.input_shape}, mode {flow.mode} ('
        f'{"training" if flow.mode == "loss" else "eval"})', '',
        _table(['position', 'component', 'reads', 'writes'], rows)
    ]
    if flow.losses:
        loss_rows = [[
            loss.name, loss.type, f'{loss.weight:g}',
            ', '.join(f'{k} {v}' for k, v in loss.inputs.items()),
            '' if loss.value is None else f'{loss.value:.4f}'
        ] for loss in flow.losses]
        parts += [
            '',
            _table(['loss', 'type', 'weight', 'consumes', 'value'], loss_rows)
        ]
    problems = flow.mismatches()
    if problems:
        parts += ['', 'declarations that differ from the forward pass:']
        parts += [f'  {p}' for p in problems]
    return '\n'.join(parts)
