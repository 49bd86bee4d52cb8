# Copyright (c) mmreid_text contributors. All rights reserved.
"""The feature dict as a checked contract.

Backbones, necks and heads exchange one ``dict`` of named tensors
(``feats``, see ``docs/config_guide.md``). Every component of this package
declares the keys it reads and writes, derived from its configured key
arguments (``in_key``, ``out_key``...), through five properties:

- ``reads``: keys the forward needs (missing -> the forward fails);
- ``optional_reads``: keys used when present (e.g. ``text_mask``);
- ``train_reads``: keys the forward needs in training mode only (EEES's
  ``CrossViewFusion`` reads the training-only caption features); they
  must be written before, in every mode or in training;
- ``writes``: keys added (or replaced) in every mode;
- ``train_writes``: keys added only in training mode (``logits``).

:class:`FeatureContract` is the mixin that documents them; a plugin
component may also define the properties without inheriting it.
:func:`check_feature_chain` walks backbone -> necks -> head at build time
(``ReIDModel.__init__``) and fails, naming the component, the key and the
keys available at that point, when a component reads a key that nothing
before it writes or a loss consumes an output that nothing produces.

Undeclared components (plugins that declare nothing) are *unknown*: they
may write anything, so from the first undeclared component on nothing
later (neither the reads of later components nor the loss inputs) is
checked; those fail at the first forward pass as before. A class that
overrides ``forward`` inherits no declaration: unless it (or a subclass)
defines one of the four properties itself, it counts as undeclared, so a
plugin subclassing a head with a new ``forward`` is never checked against
its parent's keys.

:class:`FeatureAccessRecorder` records what a forward actually reads and
writes; the tests use it to keep every declaration equal to its code.
"""
import difflib
from dataclasses import dataclass
from typing import (Any, Dict, Iterable, List, Mapping, Optional, Sequence,
                    Set, Tuple)

from torch import nn

#: Names of the declaration properties.
CONTRACT_ATTRS = ('reads', 'optional_reads', 'train_reads', 'writes',
                  'train_writes')


def _keys(values: Iterable[Optional[str]]) -> Tuple[str, ...]:
    """Drop None (an unset optional key) and duplicates, keep order."""
    out = []
    for value in values:
        if value is not None and value not in out:
            out.append(value)
    return tuple(out)


class FeatureContract:
    """Mixin of the components that read and write the feature dict.

    Two ways to declare. Most components name, per kind, the instance
    attributes that hold their configured keys (``key_attrs``); attributes
    set to None (an unset optional key) are skipped::

        key_attrs = dict(reads=('query_key', 'context_key'),
                         writes=('out_key', ))

    Components whose keys are not plain attributes override the
    properties :attr:`reads` / :attr:`writes` (and, where they apply,
    :attr:`optional_reads` / :attr:`train_writes`) instead.

    A subclass that overrides ``forward`` must restate the declarations it
    changes (``key_attrs`` or at least one property), otherwise it counts
    as undeclared.
    """

    #: ``{kind: names of the instance attributes holding keys}``, kinds
    #: from :data:`CONTRACT_ATTRS`.
    key_attrs: Dict[str, Tuple[str, ...]] = {}

    def _declared_keys(self, kind: str, required: bool) -> Tuple[str, ...]:
        attrs = self.key_attrs.get(kind)
        if attrs is None:
            if required:
                raise NotImplementedError(
                    f'{type(self).__name__} inherits FeatureContract but '
                    f'declares neither key_attrs["{kind}"] nor the '
                    f'"{kind}" property.')
            return ()
        return _keys(getattr(self, name) for name in attrs)

    @property
    def reads(self) -> Tuple[str, ...]:
        """Keys the forward pass needs."""
        return self._declared_keys('reads', required=True)

    @property
    def optional_reads(self) -> Tuple[str, ...]:
        """Keys used when present, ignored when absent."""
        return self._declared_keys('optional_reads', required=False)

    @property
    def train_reads(self) -> Tuple[str, ...]:
        """Keys the forward needs in training mode only."""
        return self._declared_keys('train_reads', required=False)

    @property
    def writes(self) -> Tuple[str, ...]:
        """Keys added to (or replaced in) the feature dict in every mode."""
        return self._declared_keys('writes', required=True)

    @property
    def train_writes(self) -> Tuple[str, ...]:
        """Keys added only in training mode (e.g. ``logits``)."""
        return self._declared_keys('train_writes', required=False)


@dataclass(frozen=True)
class FeatureKeys:
    """The declaration of one component, as read by
    :func:`get_feature_keys`."""
    reads: Tuple[str, ...] = ()
    optional_reads: Tuple[str, ...] = ()
    train_reads: Tuple[str, ...] = ()
    writes: Tuple[str, ...] = ()
    train_writes: Tuple[str, ...] = ()


def _first_owner(cls: type, names: Sequence[str]) -> Optional[type]:
    """The first class of ``cls``'s MRO that defines one of ``names``."""
    for klass in cls.__mro__:
        if klass is FeatureContract:
            continue
        if any(name in vars(klass) for name in names):
            return klass
    return None


def is_declared(module: Any) -> bool:
    """Whether ``module`` declares its feature keys (see module doc)."""
    cls = type(module)
    decl_owner = _first_owner(cls, CONTRACT_ATTRS + ('key_attrs', ))
    if decl_owner is None:
        return False
    forward_owner = _first_owner(cls, ('forward', ))
    return forward_owner is None or issubclass(decl_owner, forward_owner)


def get_feature_keys(module: Any) -> Optional[FeatureKeys]:
    """The declared keys of ``module``; None when it declares nothing."""
    if not is_declared(module):
        return None
    values = {}
    for name in CONTRACT_ATTRS:
        value = getattr(module, name, ())
        if isinstance(value, str) or not isinstance(value, Iterable):
            raise TypeError(
                f'{type(module).__name__}.{name} must be a sequence of key '
                f'names, got {value!r}.')
        values[name] = _keys(value)
    return FeatureKeys(**values)


class FeatureContractError(ValueError):
    """A component or loss of a model config reads a key nothing writes."""


def _key_arguments(module: nn.Module, key: str) -> List[str]:
    """Names of the ``*_key`` arguments of ``module`` set to ``key``."""
    return sorted(name for name, value in vars(module).items()
                  if name.endswith('_key') and value == key)


def _hint_close(key: str, available: Iterable[str]) -> str:
    close = difflib.get_close_matches(key, sorted(available), n=3)
    return f' Did you mean {close}?' if close else ''


def _describe(available: Mapping[str, str]) -> str:
    """``'a, b (backbone X); c (necks[0] Y)'``, grouped by writer."""
    groups: Dict[str, List[str]] = {}
    for key, writer in available.items():
        groups.setdefault(writer, []).append(key)
    if not groups:
        return '(none)'
    return '; '.join(f'{", ".join(sorted(keys))} ({writer})'
                     for writer, keys in groups.items())


@dataclass
class ChainReport:
    """Result of :func:`check_feature_chain`.

    Attributes:
        checked (bool): False when an undeclared component stopped the
            check (``unknown_from`` names it).
        unknown_from (str, optional): ``'necks[1] MyNeck'``.
        available (dict): ``{key: writer}`` of the keys known to exist
            after the last checked component (training outputs included
            when the whole chain was checked).
    """
    checked: bool
    unknown_from: Optional[str]
    available: Dict[str, str]


def check_feature_chain(components: Sequence[Tuple[str, nn.Module]],
                        loss_inputs: Optional[Mapping[str, Tuple[
                            str, Sequence[str]]]] = None,
                        extra_outputs: Sequence[str] = ('labels', ),
                        config_path: str = 'model') -> ChainReport:
    """Check that every key read in a component chain is written before.

    Args:
        components: ``[(position, module)]`` in forward order, e.g.
            ``[('backbone', b), ('necks[0]', n0), ('head', h)]``.
        loss_inputs: ``{loss name: (loss type, inputs)}``; inputs must be
            produced by a component (training outputs included) or be one
            of ``extra_outputs``.
        extra_outputs: Outputs the model adds itself (``labels``).
        config_path: Config prefix used in the fix hints (``'model'``).

    Raises:
        FeatureContractError: naming the component (position and type) or
            loss, the key, the keys available at that point and a fix.
    """
    declared = []
    for position, module in components:
        keys = get_feature_keys(module)
        declared.append((position, module, keys))

    def label(position: str, module: nn.Module) -> str:
        return f'{position} {type(module).__name__}'

    # every writer of the whole chain, for "runs later" hints
    writers: Dict[str, List[str]] = {}
    for position, module, keys in declared:
        if keys is not None:
            for key in (*keys.writes, *keys.train_writes):
                writers.setdefault(key, []).append(label(position, module))

    available: Dict[str, str] = {}
    train_only: Dict[str, str] = {}
    for index, (position, module, keys) in enumerate(declared):
        name = label(position, module)
        if keys is None:
            return ChainReport(False, name, available)
        for key in keys.reads:
            if key in available:
                continue
            raise FeatureContractError(
                _read_error(name, position, module, key, available, train_only,
                            writers, config_path, index))
        for key in keys.train_reads:
            if key in available or key in train_only:
                continue
            raise FeatureContractError(
                _read_error(name, position, module, key, available, train_only,
                            writers, config_path, index))
        for key in keys.writes:
            available[key] = name
            train_only.pop(key, None)
        for key in keys.train_writes:
            if key not in available:
                train_only[key] = name
    outputs = dict(available)
    outputs.update(train_only)
    for key in extra_outputs:
        outputs.setdefault(key, 'ReIDModel')
    for loss_name, (loss_type, inputs) in (loss_inputs or {}).items():
        for key in inputs:
            if key in outputs:
                continue
            raise FeatureContractError(
                f'Loss "{loss_name}" ({loss_type}) consumes "{key}", which '
                'the model does not produce. Outputs available to the '
                f'losses: {_describe(outputs)}.{_hint_close(key, outputs)} '
                f'Fix {config_path}.losses.{loss_name}.inputs, or add the '
                f'component that writes "{key}" to {config_path}.necks.')
    return ChainReport(True, None, outputs)


def _read_error(name: str, position: str, module: nn.Module, key: str,
                available: Mapping[str, str], train_only: Mapping[str, str],
                writers: Mapping[str, List[str]], config_path: str,
                index: int) -> str:
    message = (f'{name} reads feats["{key}"], but no component before it '
               f'writes that key. Keys available at this point: '
               f'{_describe(available)}.')
    arguments = _key_arguments(module, key)
    where = f'{config_path}.{position}'
    if arguments:
        setting = ' / '.join(f'{where}.{arg}' for arg in arguments)
    else:
        setting = f'the key argument of {where}'
    if key in train_only:
        return (f'{message} "{key}" is written by {train_only[key]} only in '
                'training mode, so testing would fail; read a key written in '
                f'every mode (set {setting}).')
    later = [w for w in writers.get(key, ()) if w != name]
    later_necks = [w for w in later if w.startswith('necks[')]
    if later_necks:
        return (f'{message} "{key}" is written by {", ".join(later_necks)}, '
                f'which runs later: move it before {position} in '
                f'{config_path}.necks (components run in list order).')
    if later:
        return (f'{message} "{key}" is written by {", ".join(later)}, which '
                'runs after every neck (its outputs only reach the losses); '
                f'set {setting} to one of the available keys.')
    return (f'{message}{_hint_close(key, available)} Nothing in this model '
            f'writes "{key}": add the component that produces it before '
            f'{position}, or set {setting} (now "{key}") to one of the '
            'available keys.')


class FeatureAccessRecorder(dict):
    """A feature dict that records the keys a forward pass reads.

    ``recorder[key]`` and ``recorder.get(key)`` add ``key`` to
    :attr:`accessed` (whether present or not); membership tests and
    copies (``dict(recorder)``) do not count as reads.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.accessed: Set[str] = set()

    def __getitem__(self, key):
        self.accessed.add(key)
        return super().__getitem__(key)

    def get(self, key, default=None):
        self.accessed.add(key)
        return super().get(key, default)


def written_keys(before: Mapping[str, Any],
                 after: Mapping[str, Any]) -> Tuple[str, ...]:
    """Keys of ``after`` that are new or hold another object than in
    ``before`` (what a component added or replaced), in ``after``'s
    order."""
    return tuple(key for key in after
                 if key not in before or after[key] is not before[key])
