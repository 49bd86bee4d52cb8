# Copyright (c) mmreid_text contributors. All rights reserved.
from typing import Dict, List, Optional, Sequence, Union

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


class LossTerm(nn.Module):
    """One weighted loss term of a :class:`ReIDModel`.

    Args:
        name (str): Term name; logged as ``loss_<name>``.
        cfg (dict): The loss config plus ``weight`` (float, default 1) and
            ``inputs`` (names of the entries of the model's output dict the
            loss consumes, in call order; ``'labels'`` are the identity
            labels of the batch).
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
        lists = [a for a in args if isinstance(a, (list, tuple))]
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
                *[a[i] if isinstance(a, (list, tuple)) else a for a in args])
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

    Args:
        backbone (dict): Visual backbone config.
        head (dict): Head config.
        necks (list[dict], optional): Necks applied in order.
        text_encoder (dict, optional): A frozen text encoder shared by the
            components that call ``set_text_encoder``.
        losses (dict): ``{name: dict(type=..., weight=..., inputs=(...))}``.
        data_preprocessor (dict, optional): Defaults to
            ``ReIDDataPreprocessor``.
    """

    def __init__(self,
                 backbone: dict,
                 head: dict,
                 necks: Optional[Sequence[dict]] = None,
                 text_encoder: Optional[dict] = None,
                 losses: Optional[Dict[str, dict]] = None,
                 data_preprocessor: Optional[dict] = None,
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
        self.feature_check = self._check_feature_chain()

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
            components, loss_inputs, extra_outputs=(LABELS_KEY, ))

    def extract_feat(self,
                     inputs: torch.Tensor,
                     data_samples: Optional[List] = None) -> dict:
        """Backbone and necks: inputs ``[B, M, (T,) 3, H, W]`` -> feats."""
        feats = self.backbone(inputs)
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

    def predict(self, inputs: torch.Tensor,
                data_samples: List[ReIDDataSample]) -> List[ReIDDataSample]:
        """Set ``pred_feature`` ``[F]`` on every data sample."""
        feats = self.extract_feat(inputs, data_samples)
        retrieval = self.head(feats, data_samples)['retrieval'].detach()
        if data_samples is None:
            data_samples = [ReIDDataSample() for _ in range(len(retrieval))]
        for sample, feat in zip(data_samples, retrieval):
            sample.set_pred_feature(feat)
        return data_samples
