# Copyright (c) mmreid_text contributors. All rights reserved.
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmengine.logging import MessageHub
from mmengine.model import BaseModel

from mmreid_text.registry import MODELS
from mmreid_text.structures import ReIDDataSample, stack_pids
from .utils.feature_contract import ChainReport, check_feature_chain

#: Output added by :meth:`ReIDModel.loss` for the losses: the identity
#: labels ``[B]`` of the batch.
LABELS_KEY = 'labels'
#: Output added by :meth:`ReIDModel.loss` for the losses: the modality of
#: every sample of the batch (a tuple of ``B`` names, ``'vis'`` / ``'ir'``
#: for visible-infrared data, from the metainfo ``'modality'``; None for a
#: sample without one, e.g. a multi-spectral sample).
SAMPLE_MODALITIES_KEY = 'sample_modalities'
#: Outputs that hold one entry per sample (not one per modality): a loss
#: gets them whole, they never trigger the per-element list expansion.
PER_SAMPLE_KEYS = (SAMPLE_MODALITIES_KEY, )
#: Keys of ``ReIDModel(test_cfg=...)`` and their defaults.
TEST_CFG_DEFAULTS = dict(flip=False, flip_fuse='concat')


class LossTerm(nn.Module):
    """One weighted loss term of a :class:`ReIDModel`.

    Args:
        name (str): Term name; logged as ``loss_<name>``.
        cfg (dict): The loss config plus ``weight`` (float, default 1) and
            ``inputs`` (names of the entries of the model's output dict the
            loss consumes, in call order; ``'labels'`` are the identity
            labels of the batch, ``'sample_modalities'`` the tuple of the
            samples' modality names).
    """

    def __init__(self, name: str, cfg: dict) -> None:
        super().__init__()
        cfg = dict(cfg)
        self.name = name
        self.weight = float(cfg.pop('weight', 1.0))
        inputs = cfg.pop('inputs', None)
        if not inputs:
            raise ValueError(f'Loss "{name}" needs inputs=(...) naming the '
                             'outputs it consumes, e.g. ("logits", '
                             '"labels").')
        self.inputs = tuple(inputs)
        self.loss = MODELS.build(cfg)

    def forward(self, outputs: Dict[str, object]) -> torch.Tensor:
        args = []
        for key in self.inputs:
            if key not in outputs:
                raise KeyError(
                    f'Loss "{self.name}" consumes "{key}" but the model '
                    f'produced only {sorted(outputs)}; fix its inputs or '
                    'add the component that produces it.')
            args.append(outputs[key])
        expand = [
            isinstance(a, (list, tuple)) and key not in PER_SAMPLE_KEYS
            for key, a in zip(self.inputs, args)
        ]
        lists = [a for a, flag in zip(args, expand) if flag]
        if not lists:
            return self.loss(*args) * self.weight
        # A list-valued input (e.g. one logit tensor per modality) applies
        # the loss to each element and sums, as CLIP-ReID does.
        n = len(lists[0])
        if any(len(x) != n for x in lists):
            raise ValueError(f'Loss "{self.name}": list inputs differ in '
                             'length.')
        total = 0.
        for i in range(n):
            total = total + self.loss(
                *[a[i] if flag else a for a, flag in zip(args, expand)])
        return total * self.weight


@MODELS.register_module()
class ReIDModel(BaseModel):
    """Generic ReID model: backbone -> necks (in order) -> head.

    Components exchange one feature dict (see ``docs/config_guide.md``):
    the backbone creates it from the inputs, each neck reads the keys it
    needs and adds its own, and the head adds ``retrieval`` (the ranking
    feature) plus its training outputs (``logits``, ``global_feat``...).
    Losses are listed in the config and consume named outputs.

    The chain is checked when the model is built
    (:func:`~mmreid_text.models.utils.check_feature_chain`): a component
    that reads a key no component before it writes, or a loss whose
    ``inputs`` name an output nothing produces (``labels`` always exists),
    raises :class:`~mmreid_text.models.utils.FeatureContractError` naming
    the component, the key and the keys available there. Components that
    declare no keys (plugins) are unknown: nothing after them is checked
    (``feature_check`` holds the report).

    Besides the head's outputs the losses get ``labels`` (``[B]`` identity
    labels) and ``sample_modalities`` (tuple of the ``B`` samples'
    metainfo ``'modality'``, None where a sample has none; a loss that
    consumes it fails with a clear error on such a batch).

    A backbone whose ``needs_sample_modalities`` is True (e.g.
    ``CLIPVisionBackbone(modality_stems=True)``) gets
    ``sample_modalities=[s.metainfo['modality'] for s in data_samples]``
    in :meth:`extract_feat`.

    Args:
        backbone (dict): Visual backbone config.
        head (dict): Head config.
        necks (list[dict], optional): Necks applied in order.
        text_encoder (dict, optional): A frozen text encoder shared by the
            components that call ``set_text_encoder``.
        losses (dict): ``{name: dict(type=..., weight=..., inputs=(...))}``.
        data_preprocessor (dict, optional): Defaults to
            ``ReIDDataPreprocessor``.
        test_cfg (dict, optional): Test-time options of :meth:`predict`
            (``mode='predict'`` only; ``'tensor'`` / ``'loss'`` are never
            changed): ``flip`` (bool, default False) adds horizontal-flip
            test-time augmentation: the batch is encoded a second time
            with every image flipped left-right and the two retrieval
            features are fused by ``flip_fuse``: ``'concat'`` (default,
            ``[B, 2F]`` = original then flipped, as the CSDN code EEES
            builds on) or ``'mean'`` (``[B, F]``, the average).
    """

    def __init__(self,
                 backbone: dict,
                 head: dict,
                 necks: Optional[Sequence[dict]] = None,
                 text_encoder: Optional[dict] = None,
                 losses: Optional[Dict[str, dict]] = None,
                 data_preprocessor: Optional[dict] = None,
                 test_cfg: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        if data_preprocessor is None:
            data_preprocessor = dict(type='ReIDDataPreprocessor')
        super().__init__(
            data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone)
        self.text_encoder = (
            MODELS.build(text_encoder) if text_encoder is not None else None)
        self.necks = nn.ModuleList([MODELS.build(n) for n in necks or []])
        self.head = MODELS.build(head)
        for module in [*self.necks, self.head]:
            if hasattr(module, 'set_text_encoder'):
                if self.text_encoder is None:
                    raise ValueError(
                        f'{type(module).__name__} needs a text encoder; set '
                        'model.text_encoder in the config.')
                module.set_text_encoder(self.text_encoder)
            if hasattr(module, 'set_backbone'):
                # e.g. VLD's STA reuses the backbone's ln_post / proj
                module.set_backbone(self.backbone)
        self.loss_terms = nn.ModuleList(
            [LossTerm(name, cfg) for name, cfg in (losses or {}).items()])
        self.test_cfg = self._parse_test_cfg(test_cfg)
        self.feature_check = self._check_feature_chain()

    @staticmethod
    def _parse_test_cfg(test_cfg: Optional[dict]) -> dict:
        """Check ``test_cfg`` against :data:`TEST_CFG_DEFAULTS`."""
        cfg = dict(TEST_CFG_DEFAULTS)
        given = dict(test_cfg or {})
        unknown = sorted(set(given) - set(cfg))
        if unknown:
            raise ValueError(
                f'ReIDModel(test_cfg=...): unknown keys {unknown}; '
                f'supported: {sorted(cfg)} (model.test_cfg holds test-time '
                'options of the model; the test loop is the top-level '
                'test_cfg).')
        cfg.update(given)
        cfg['flip'] = bool(cfg['flip'])
        if cfg['flip_fuse'] not in ('concat', 'mean'):
            raise ValueError("ReIDModel(test_cfg=...): flip_fuse must be "
                             f"'concat' or 'mean', got {cfg['flip_fuse']!r}.")
        return cfg

    def _check_feature_chain(self) -> ChainReport:
        """Build-time check of backbone -> necks -> head and the losses."""
        components = [('backbone', self.backbone)]
        components += [(f'necks[{index}]', neck)
                       for index, neck in enumerate(self.necks)]
        components.append(('head', self.head))
        loss_inputs = {
            term.name: (type(term.loss).__name__, term.inputs)
            for term in self.loss_terms
        }
        return check_feature_chain(
            components,
            loss_inputs,
            extra_outputs=(LABELS_KEY, SAMPLE_MODALITIES_KEY))

    def _backbone_kwargs(self, data_samples: Optional[List]) -> dict:
        """``sample_modalities`` for a backbone that routes by modality.

        Passed only when ``backbone.needs_sample_modalities`` is True and
        the data samples carry ``'modality'``; without data samples (or
        without the metainfo, e.g. multi-slot inputs routed by slot names)
        the backbone gets nothing and raises its own error when it cannot
        route.
        """
        if not getattr(self.backbone, 'needs_sample_modalities', False):
            return {}
        modalities = sample_modality_names(data_samples)
        missing = samples_without_modality(modalities)
        if len(missing) == len(modalities):  # none (or no data samples)
            return {}
        if missing:
            raise ValueError(
                f'{type(self.backbone).__name__} routes every sample by its '
                f"metainfo 'modality', but samples {missing[:10]} of the "
                'batch have none. Use a dataset that sets it for every '
                'sample (one modality per sample, e.g. SYSUMM01 / RegDB).')
        return dict(sample_modalities=modalities)

    def extract_feat(self,
                     inputs: torch.Tensor,
                     data_samples: Optional[List] = None) -> dict:
        """Backbone and necks: inputs ``[B, M, (T,) 3, H, W]`` -> feats.

        A backbone with ``needs_sample_modalities`` (modality stems) also
        gets ``sample_modalities`` from the data samples' metainfo
        ``'modality'``; with ``data_samples=None`` it then needs
        multi-slot inputs routed by slot name, or it raises an error
        saying what to pass (``tools/analysis_tools/get_flops.py`` gives
        its counted sample a ``'modality'``).
        """
        feats = self.backbone(inputs, **self._backbone_kwargs(data_samples))
        for neck in self.necks:
            feats = neck(feats, data_samples)
        return feats

    def forward(self,
                inputs: torch.Tensor,
                data_samples: Optional[List[ReIDDataSample]] = None,
                mode: str = 'tensor') -> Union[dict, list]:
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            return self.head(
                self.extract_feat(inputs, data_samples), data_samples)
        raise RuntimeError(f'Invalid mode "{mode}".')

    def loss(self, inputs: torch.Tensor,
             data_samples: List[ReIDDataSample]) -> Dict[str, torch.Tensor]:
        """Weighted loss terms ``{'loss_<name>': value}``."""
        if not self.loss_terms:
            raise ValueError('model.losses is empty: nothing to train.')
        feats = self.extract_feat(inputs, data_samples)
        outputs = self.head(feats, data_samples)
        outputs[LABELS_KEY] = stack_pids(data_samples, inputs.device)
        outputs[SAMPLE_MODALITIES_KEY] = sample_modality_names(data_samples)
        self._check_sample_modalities(outputs[SAMPLE_MODALITIES_KEY])
        losses = {}
        for term in self.loss_terms:
            value = term(outputs)
            if not torch.isfinite(value).all():
                it = MessageHub.get_current_instance().get_info('iter')
                raise FloatingPointError(
                    f'Loss term "{term.name}" is {value.item()} at training '
                    f'iteration {it}. Lower the learning rate, check the '
                    'data of this batch, or disable AMP to find the cause.')
            losses[f'loss_{term.name}'] = value
        return losses

    def _check_sample_modalities(self, modalities: tuple) -> None:
        """A loss consuming ``sample_modalities`` needs every name."""
        missing = samples_without_modality(modalities)
        if not missing:
            return
        for term in self.loss_terms:
            if SAMPLE_MODALITIES_KEY in term.inputs:
                raise ValueError(
                    f'Loss "{term.name}" consumes "{SAMPLE_MODALITIES_KEY}" '
                    f"but samples {missing[:10]} of the batch have no "
                    "metainfo 'modality'. It needs one modality per sample "
                    '(visible-infrared datasets such as SYSUMM01 / RegDB, '
                    'packed by PackReIDInputs).')

    def _retrieval(self, inputs: torch.Tensor,
                   data_samples: Optional[List]) -> torch.Tensor:
        """The head's ``retrieval`` feature ``[B, F]`` (detached)."""
        feats = self.extract_feat(inputs, data_samples)
        return self.head(feats, data_samples)['retrieval'].detach()

    def predict(self, inputs: torch.Tensor,
                data_samples: List[ReIDDataSample]) -> List[ReIDDataSample]:
        """Set ``pred_feature`` ``[F]`` on every data sample.

        With ``test_cfg.flip`` the feature of the left-right flipped batch
        (``inputs.flip(-1)``) is fused with the original one:
        ``cat([f, f_flip], 1)`` (``'concat'``, ``[2F]``) or
        ``(f + f_flip) / 2`` (``'mean'``).
        """
        retrieval = self._retrieval(inputs, data_samples)
        if self.test_cfg['flip']:
            flipped = self._retrieval(inputs.flip(-1), data_samples)
            if self.test_cfg['flip_fuse'] == 'concat':
                retrieval = torch.cat([retrieval, flipped], dim=1)
            else:
                retrieval = (retrieval + flipped) / 2
        if data_samples is None:
            data_samples = [ReIDDataSample() for _ in range(len(retrieval))]
        for sample, feat in zip(data_samples, retrieval):
            sample.set_pred_feature(feat)
        return data_samples


def sample_modality_names(
        data_samples: Optional[Sequence]) -> Tuple[Optional[str], ...]:
    """The metainfo ``'modality'`` of every data sample (None where a
    sample has none); ``()`` without data samples."""
    if not data_samples:
        return ()
    return tuple(sample.metainfo.get('modality') for sample in data_samples)


def samples_without_modality(modalities: Sequence[Optional[str]]) -> List[int]:
    """Indices of the samples whose modality name is None."""
    return [i for i, m in enumerate(modalities) if m is None]
