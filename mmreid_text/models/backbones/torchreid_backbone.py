# Copyright (c) mmreid_text contributors. All rights reserved.
"""torchreid's image models (OSNet, ResNet, ResNet-IBN...) as a backbone."""
from typing import Dict, Optional, Sequence, Tuple

import torch
from mmengine.logging import print_log
from mmengine.model import BaseModule
from torch import nn

from mmreid_text.registry import MODELS
from mmreid_text.utils.torchreid_compat import (torchreid_model_factory,
                                                torchreid_models)
from ..utils.feature_contract import FeatureContract
from ..utils.modality_encoders import ModalityEncoders
from ..utils.torchreid_checkpoint import (TORCHREID_CLASSIFIER,
                                          load_trunk_weights)

#: torchreid 0.2.5 archs whose forward is ``featuremaps -> global average
#: pool -> fc (if any) -> classifier``; for each, torchreid's eval output
#: equals this backbone's ``proj_cls`` (checked at 256x128).
SUPPORTED_ARCHS: Tuple[str, ...] = (
    'resnet18', 'resnet34', 'resnet50', 'resnet101', 'resnet152',
    'resnext50_32x4d', 'resnext101_32x8d', 'resnet50_fc512', 'se_resnet50',
    'se_resnet50_fc512', 'se_resnet101', 'se_resnext50_32x4d',
    'se_resnext101_32x4d', 'inceptionresnetv2', 'xception', 'resnet50_ibn_a',
    'resnet50_ibn_b', 'mobilenetv2_x1_0', 'mobilenetv2_x1_4',
    'shufflenet_v2_x0_5', 'shufflenet_v2_x1_0', 'shufflenet_v2_x1_5',
    'shufflenet_v2_x2_0', 'osnet_x1_0', 'osnet_x0_75', 'osnet_x0_5',
    'osnet_x0_25', 'osnet_ibn_x1_0', 'osnet_ain_x1_0', 'osnet_ain_x0_75',
    'osnet_ain_x0_5', 'osnet_ain_x0_25')

#: Why the other archs of torchreid's ``build_model`` are not supported.
#: torchreid archs without a ``featuremaps()`` method.
_NO_FEATUREMAPS = ('densenet121', 'densenet169', 'densenet201', 'densenet161',
                   'densenet121_fc512', 'inceptionv4', 'nasnsetmobile',
                   'shufflenet', 'squeezenet1_0', 'squeezenet1_0_fc512',
                   'squeezenet1_1', 'hacnn', 'mlfn')
#: Why the other archs of torchreid's ``build_model`` are not supported.
UNSUPPORTED_REASONS: Dict[str, str] = dict(
    {name: 'it has no featuremaps() method'
     for name in _NO_FEATUREMAPS},
    mudeep='its head flattens the feature map instead of pooling it',
    resnet50mid='its featuremaps() returns mid-level and final maps',
    pcb_p6='it pools horizontal parts, not the whole map',
    pcb_p4='it pools horizontal parts, not the whole map')


def _supported_message(name: str) -> str:
    reason = UNSUPPORTED_REASONS.get(name)
    why = (f'{name!r} is not supported ({reason})'
           if reason else f'{name!r} is not a torchreid image model')
    return (f'TorchreidBackbone: {why}. Supported names: '
            f'{", ".join(SUPPORTED_ARCHS)}. See docs/torchreid.md.')


@MODELS.register_module()
class TorchreidBackbone(ModalityEncoders, FeatureContract, BaseModule):
    """A torchreid image model's trunk producing the feature dict.

    The network is torchreid's own (``torchreid.models.build_model(name,
    num_classes=1, pretrained=False)``: nothing is downloaded); its
    identity ``classifier`` is removed (the head classifies), the rest is
    kept under the torchreid key names (``encoder.conv1...``, ``encoder.fc``)
    so torchreid checkpoints map one to one
    (``tools/model_converters/torchreid_to_mmreid.py``).

    Args:
        name: torchreid model name, one of :data:`SUPPORTED_ARCHS`
            (``'osnet_x1_0'``, ``'resnet50'``, ``'resnet50_ibn_a'``...).
        pretrained: Local weight file in torchreid's format (a state dict
            or ``save_checkpoint``'s ``{'state_dict': ..., 'epoch': ...}``,
            ``module.`` prefixes allowed), e.g. torchreid's ImageNet or
            model-zoo files; None keeps torchreid's random init. A file
            that does not fit the arch raises an error listing the keys.
        modalities: Names of the modality slots of the input, in order
            (``('rgb', )`` for torchreid's single-modality datasets).
        share_weights: One trunk for all modalities (default); False gives
            every modality its own deep copy (all start from ``pretrained``).
        frozen: Freeze all weights and keep the trunk in eval mode.
        ignore_keys: Prefixes of ``pretrained`` keys to leave out
            (default the identity classifier ``'classifier.'``).
        init_missing: Prefixes of trunk keys that may be absent from
            ``pretrained`` (they keep their init), e.g. ``('fc.', )``.
        last_stride: ResNet-family archs (those with ``layer4``: ResNet,
            ResNeXt, SE-ResNet, ResNet-IBN): stride of ``layer4``'s first
            block; 1 doubles the map (BoT's last-stride trick, as
            torchreid's ``ResNet(last_stride=1)``); None keeps the arch's
            (2; 1 for ``*_fc512``). Weights are unaffected.
        init_cfg: mmengine init config.

    Forward input ``[B, M, 3, H, W]`` (or ``[B, M, T, 3, H, W]``; outputs
    then carry ``T`` after ``M``), normalised as the torchreid weights
    expect (ImageNet mean / std: set the data preprocessor's ``mean`` /
    ``std`` accordingly). Output dict, the keys of CLIP's ModifiedResNet
    path:

    - ``'feature_map'`` ``[B, M, C, h, w]``: ``featuremaps(x)``;
    - ``'tokens'`` ``[B, M, h*w, C]``: the map's positions as tokens;
    - ``'cls'`` ``[B, M, C]``: global average pool of the map;
    - ``'proj_cls'`` ``[B, M, E]``: torchreid's embedding ``fc`` applied to
      ``cls`` (OSNet: Linear + BN + ReLU to 512; ``*_fc512``), or ``cls``
      itself when the arch has no ``fc`` (ResNet-50: ``E = C = 2048``).
      This is torchreid's eval-mode output, and what ``BNNeckHead``
      reads by default (``in_key='proj_cls'``, ``in_channels=E``:
      :attr:`embed_dim`);
    - ``'grid'`` ``(h, w)``.
    """

    encoder_noun = 'trunks'

    def __init__(self,
                 name: str = 'osnet_x1_0',
                 pretrained: Optional[str] = None,
                 modalities: Sequence[str] = ('rgb', ),
                 share_weights: bool = True,
                 frozen: bool = False,
                 ignore_keys: Sequence[str] = (TORCHREID_CLASSIFIER, ),
                 init_missing: Sequence[str] = (),
                 last_stride: Optional[int] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.arch_name = name
        self._set_modalities(modalities)
        self.share_weights = share_weights
        self.frozen = frozen
        self.pretrained = pretrained
        trunk = self._build_trunk(name)
        if last_stride is not None:
            self._set_last_stride(trunk, int(last_stride))
        if pretrained is None:
            print_log(
                f'TorchreidBackbone({name}): no pretrained file, random '
                'init (torchreid\'s).',
                logger='current')
        else:
            ignored = load_trunk_weights(trunk, pretrained, name,
                                         tuple(ignore_keys),
                                         tuple(init_missing))
            print_log(
                f'TorchreidBackbone({name}): loaded {pretrained}' +
                (f' (left out {len(ignored)} keys: '
                 f'{", ".join(ignored[:4])})' if ignored else '') + '.',
                logger='current')
        self._set_encoders(trunk)
        if frozen:
            for param in self.parameters():
                param.requires_grad = False
            self.train(False)

    def _build_trunk(self, name: str) -> nn.Module:
        if name not in SUPPORTED_ARCHS:
            raise ValueError(_supported_message(name))
        if name not in torchreid_model_factory('TorchreidBackbone'):
            raise ValueError(
                f'TorchreidBackbone: the installed torchreid has no model '
                f'{name!r}. {_supported_message(name)}')
        model = torchreid_models('TorchreidBackbone').build_model(
            name,
            num_classes=1,
            loss='softmax',
            pretrained=False,
            use_gpu=False)
        if not callable(getattr(model, 'featuremaps', None)) or not hasattr(
                model, 'classifier'):
            raise ValueError(_supported_message(name))
        fc = getattr(model, 'fc', None)
        # the classifier's input is the embedding: fc's output, or the
        # pooled map when there is no fc
        self.embed_dim = int(model.classifier.in_features)
        self.out_channels = (
            int(fc[0].in_features) if fc is not None else self.embed_dim)
        del model.classifier
        return model

    def _set_last_stride(self, trunk: nn.Module, stride: int) -> None:
        """Set the stride of every strided conv of ``layer4[0]`` (its 3x3
        or 1x1 conv and the downsample shortcut) to ``stride``."""
        layer4 = getattr(trunk, 'layer4', None)
        if not isinstance(layer4, nn.Sequential) or stride not in (1, 2):
            raise ValueError(
                f'TorchreidBackbone: last_stride={stride} needs a '
                'ResNet-family arch (with layer4) and a stride of 1 or 2; '
                f'{self.arch_name!r} ' +
                ('has no layer4.'
                 if not isinstance(layer4, nn.Sequential) else 'has one.'))
        convs = [
            m for m in layer4[0].modules()
            if isinstance(m, nn.Conv2d) and max(m.stride) > 1
        ]
        if not convs and stride == 1:
            return  # already 1 (resnet50_fc512)
        if not convs:
            raise ValueError(
                f'TorchreidBackbone: {self.arch_name!r} has last stride 1 '
                'built in; last_stride=2 is not supported for it.')
        for conv in convs:
            conv.stride = (stride, stride)

    # --------------------------------------------------------------- contract
    @property
    def reads(self) -> Tuple[str, ...]:
        """Nothing: the backbone creates the feature dict from images."""
        return ()

    @property
    def writes(self) -> Tuple[str, ...]:
        return ('feature_map', 'tokens', 'cls', 'proj_cls', 'grid')

    def train(self, mode: bool = True) -> 'TorchreidBackbone':
        """A frozen backbone stays in eval mode."""
        return super().train(mode and not self.frozen)

    # ---------------------------------------------------------------- forward
    @staticmethod
    def _encode(trunk: nn.Module,
                images: torch.Tensor) -> Dict[str, torch.Tensor]:
        """``images`` ``[N, 3, H, W]`` -> dict of ``[N, ...]`` tensors."""
        fmap = trunk.featuremaps(images)
        cls = fmap.mean(dim=(2, 3))
        fc = getattr(trunk, 'fc', None)
        return dict(
            feature_map=fmap,
            tokens=fmap.flatten(2).transpose(1, 2),
            cls=cls,
            proj_cls=fc(cls) if fc is not None else cls)

    def forward(self,
                inputs: torch.Tensor,
                modalities: Optional[Sequence[str]] = None) -> dict:
        """Encode every modality slot.

        Args:
            inputs: ``[B, M, 3, H, W]`` or ``[B, M, T, 3, H, W]``.
            modalities: names of the ``M`` slots; defaults to the backbone's
                ``modalities`` (needed with separate trunks when ``M``
                differs).

        Returns:
            The feature dict described in the class docstring.
        """
        if inputs.dim() not in (5, 6) or inputs.shape[-3] != 3:
            raise ValueError(
                'TorchreidBackbone expects [B, M, 3, H, W] images or '
                f'[B, M, T, 3, H, W] tracklets, got {tuple(inputs.shape)}.')
        slot_modalities = self._slot_modalities(inputs.shape[1], modalities)
        feats = self._encode_modality_slots(inputs, slot_modalities,
                                            self._encode)
        feats['grid'] = tuple(int(s) for s in feats['feature_map'].shape[-2:])
        return feats
