# Copyright (c) mmreid_text contributors. All rights reserved.
"""CLIP visual backbone for multi-modal / video ReID (open_clip towers)."""
import copy
from typing import Dict, List, Mapping, Optional, Sequence, Tuple, Union

import torch
from mmengine.logging import print_log
from mmengine.model import BaseModule
from torch import nn
from torch.utils.checkpoint import checkpoint as grad_checkpoint

from mmreid_text.registry import MODELS
from ..utils.clip_arch import (arch_display_name, build_clip_vision_tower,
                               get_clip_arch_config, get_residual_blocks,
                               is_resnet_arch, resnet_feature_grid,
                               resnet_stem, set_resnet_last_stride)
from ..utils.clip_checkpoint import (CLIPCheckpoint,
                                     CLIPCheckpointMismatchError,
                                     extract_visual_state_dict,
                                     load_checked_state_dict,
                                     load_checkpoint_and_quick_gelu)
from ..utils.feature_contract import FeatureContract
from ..utils.pos_embed import infer_pos_embed_grid, interpolate_pos_embed


def _pair(value: Union[int, Sequence[int]], name: str) -> Tuple[int, int]:
    if isinstance(value, int):
        return value, value
    value = tuple(int(v) for v in value)
    if len(value) != 2:
        raise ValueError(f'{name} must be an int or (H, W), got {value}.')
    return value


@MODELS.register_module()
class CLIPVisionBackbone(FeatureContract, BaseModule):
    """CLIP image encoder (open_clip ViT or ModifiedResNet) for ReID.

    The encoder is open_clip's own tower; this class only builds it for the
    ReID input size, loads a local pretrained file (resizing the positional
    embedding to the ReID grid) and runs it on every modality of a sample.

    Args:
        arch: open_clip model name (``'ViT-B-16'``, ``'RN50'``, ...) or an
            open_clip config dict with ``embed_dim`` and ``vision_cfg``.
        img_size: input ``(H, W)``, e.g. ``(256, 128)`` -> 16x8 grid for
            ViT-B/16, ``(288, 144)`` -> 18x9.
        pretrained: local CLIP weight file (OpenAI ``.pt`` archive, open_clip
            state dict or ``.safetensors``); None keeps open_clip's random
            init.
        quick_gelu: True / False / ``'auto'`` (True for OpenAI weights).
        modalities: names of the modality slots of the input, in order.
        share_weights: one encoder for all modalities (default); False gives
            every modality its own deep copy (all start from the same
            weights).
        out_layers: 0-based block indices (negative counts from the end)
            whose CLS token (block output, before ``ln_post``, as CLIP-ReID's
            11th-block feature) is also returned as ``'layer{i}_cls'``
            ``[B, M, C]``. ViT only.
        frozen: freeze all weights and keep the encoder in eval mode.
        last_stride: ModifiedResNet only: stride of layer4 (default 2; 1 as
            in CSDN/EEES gives an 18x9 map at 288x144).
        pos_embed_interpolation: ``F.interpolate`` mode used to resize the
            positional embedding (``'bilinear'`` as CLIP-ReID).
        pretrained_grid: ``(h, w)`` of the checkpoint's positional embedding
            when it cannot be inferred (non-square, e.g. a 16x8 ReID
            checkpoint); square grids are inferred.
        with_cp: gradient checkpointing of the ViT blocks while training.
        hub: ViT only: the spatial-temporal hub of VLD (Li et al., TIFS
            2025, Sec. III-D, Eq. 6-8), ``dict(start_layer=9, num_frames=T,
            init_std=1.0)``; None (default) = off, the encoder is plain
            CLIP. See :meth:`_encode_vit` and the ``'hub_tokens'`` /
            ``'cls_pre_ln'`` outputs below.
        init_cfg: mmengine init config.

    Spatial-temporal hub (``hub`` set): a learnable ``H`` ``[T, T, C]``
    (parameter ``hub``, shared by all modalities and encoders). Before
    block ``start_layer`` (0-based) frame ``t`` of a tracklet gets the
    ``T`` tokens ``H[t]`` appended after its CLS and patch tokens (Eq. 6);
    before every following block the hub tokens of the tracklet are
    transposed between the frame axis and the hub-index axis (Eq. 7-8):
    the token at hub slot ``j`` of frame ``t`` moves to slot ``t`` of
    frame ``j``. The input must be ``[B, M, T, 3, H, W]`` with ``T ==
    num_frames``. ``init_std`` is the std of ``H``'s normal init: the
    paper does not give it, the public VLD code uses ``torch.randn``
    (std 1.0, the default here). With ``hub=None`` no parameter is added
    and the forward is exactly the plain one.

    Forward input ``[B, M, 3, H, W]`` (or ``[B, M, T, 3, H, W]`` for
    tracklets; outputs then carry the ``T`` axis after ``M``). Output dict:

    - ViT: ``'cls'`` ``[B, M, C]`` and ``'tokens'`` ``[B, M, N, C]`` after
      ``ln_post``; ``'proj_cls'`` ``[B, M, E]`` and ``'proj_tokens'``
      ``[B, M, N, E]`` (the same ``@ proj``); ``'layer{i}_cls'``;
      ``'grid'`` ``(h, w)`` with ``N = h * w``.
    - ViT with ``hub``: also ``'hub_tokens'`` ``[B, M, T, T, C]`` (the
      hub tokens after the last block, before ``ln_post``;
      ``hub_tokens[b, m, t]`` are the ``T`` tokens frame ``t`` carried in
      the last block) and ``'cls_pre_ln'`` ``[B, M, T, C]`` (each frame's
      CLS after the last block, before ``ln_post``: STA's query).
      ``'tokens'`` holds the patch tokens only (no hub tokens).
    - ModifiedResNet: ``'feature_map'`` ``[B, M, C, h, w]`` (layer4),
      ``'tokens'`` ``[B, M, h*w, C]``, ``'cls'`` ``[B, M, C]`` (global
      average pool), ``'proj_cls'`` ``[B, M, E]`` (attnpool), ``'grid'``.
    """

    def __init__(self,
                 arch: Union[str, Mapping] = 'ViT-B-16',
                 img_size: Union[int, Sequence[int]] = (256, 128),
                 pretrained: Optional[str] = None,
                 quick_gelu: Union[bool, str] = 'auto',
                 modalities: Sequence[str] = ('rgb', 'nir', 'tir'),
                 share_weights: bool = True,
                 out_layers: Sequence[int] = (),
                 frozen: bool = False,
                 last_stride: Optional[int] = None,
                 pos_embed_interpolation: str = 'bilinear',
                 pretrained_grid: Optional[Sequence[int]] = None,
                 with_cp: bool = False,
                 hub: Optional[Mapping] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.arch_cfg = get_clip_arch_config(arch)
        self.arch_name = arch_display_name(arch)
        self.img_size = _pair(img_size, 'img_size')
        self.modalities = tuple(modalities)
        if not self.modalities or len(set(self.modalities)) != len(
                self.modalities):
            raise ValueError('modalities must be non-empty and unique, got '
                             f'{self.modalities}.')
        self.share_weights = share_weights
        self.frozen = frozen
        self.with_cp = with_cp
        self.pos_embed_interpolation = pos_embed_interpolation
        self.pretrained = pretrained
        self.pretrained_grid = (None if pretrained_grid is None else _pair(
            pretrained_grid, 'pretrained_grid'))
        self.is_resnet = is_resnet_arch(self.arch_cfg)
        if self.is_resnet:
            self.last_stride = 2 if last_stride is None else int(last_stride)
            if out_layers:
                raise ValueError('out_layers is only supported for ViT '
                                 f'archs, not {self.arch_name}.')
        elif last_stride is not None:
            raise ValueError('last_stride only applies to ModifiedResNet '
                             f'(RN) archs, not {self.arch_name}.')
        else:
            self.last_stride = None

        checkpoint, self.quick_gelu = load_checkpoint_and_quick_gelu(
            pretrained, quick_gelu, self.arch_cfg,
            f'{type(self).__name__}({self.arch_name})')
        encoder = self._build_encoder(checkpoint)
        if self.is_resnet:
            self.width = encoder.attnpool.k_proj.in_features
        else:
            self.width = encoder.transformer.width
            if not encoder.transformer.batch_first:
                raise RuntimeError('Expected a batch-first open_clip '
                                   'transformer (open_clip >= 2.24).')
        self.embed_dim = encoder.output_dim
        self.num_blocks = len(get_residual_blocks(encoder))
        self.out_layers = self._normalise_out_layers(out_layers)
        self.hub_cfg = self._parse_hub(hub)
        if self.hub_cfg is not None:
            self.hub = nn.Parameter(
                torch.randn(self.hub_cfg['num_frames'],
                            self.hub_cfg['num_frames'], self.width) *
                self.hub_cfg['init_std'])
        else:
            self.hub = None

        if share_weights:
            self.encoder = encoder
        else:
            self.encoders = nn.ModuleDict({
                modality:
                encoder if index == 0 else copy.deepcopy(encoder)
                for index, modality in enumerate(self.modalities)
            })
        if frozen:
            for param in self.parameters():
                param.requires_grad = False
            self.train(False)

    # ------------------------------------------------------------------ build
    def _normalise_out_layers(self, out_layers: Sequence[int]) -> tuple:
        normalised = []
        for index in out_layers:
            real = index + self.num_blocks if index < 0 else index
            if not 0 <= real < self.num_blocks:
                raise ValueError(
                    f'out_layers index {index} is out of range for '
                    f'{self.num_blocks} blocks.')
            normalised.append(real)
        return tuple(sorted(set(normalised)))

    def _parse_hub(self, hub: Optional[Mapping]) -> Optional[dict]:
        """Check ``hub=dict(start_layer, num_frames, init_std)``."""
        if hub is None:
            return None
        name = f'{type(self).__name__}(hub=...)'
        if self.is_resnet:
            raise ValueError(f'{name}: the spatial-temporal hub needs a ViT '
                             f'arch, not {self.arch_name}.')
        hub = dict(hub)
        unknown = sorted(set(hub) - {'start_layer', 'num_frames', 'init_std'})
        if unknown:
            raise ValueError(f'{name}: unknown keys {unknown}; use '
                             'start_layer, num_frames and init_std.')
        if 'num_frames' not in hub:
            raise ValueError(f'{name}: num_frames (T, the frames per '
                             'tracklet) is required.')
        num_frames = int(hub['num_frames'])
        start_layer = int(hub.get('start_layer', 9))
        init_std = float(hub.get('init_std', 1.0))
        if num_frames < 1:
            raise ValueError(f'{name}: num_frames must be >= 1, got '
                             f'{num_frames}.')
        if not 0 <= start_layer < self.num_blocks:
            raise ValueError(
                f'{name}: start_layer={start_layer} is not a block index of '
                f'{self.arch_name} (0..{self.num_blocks - 1}).')
        if init_std <= 0:
            raise ValueError(f'{name}: init_std must be > 0, got '
                             f'{init_std}.')
        return dict(
            start_layer=start_layer, num_frames=num_frames, init_std=init_std)

    def _build_encoder(self, checkpoint: Optional[CLIPCheckpoint]):
        tower = build_clip_vision_tower(self.arch_cfg, self.img_size,
                                        self.quick_gelu)
        if self.is_resnet:
            set_resnet_last_stride(tower, self.last_stride)
            self.grid = resnet_feature_grid(self.img_size, self.last_stride)
            pos_key = 'attnpool.positional_embedding'
        else:
            self.grid = tuple(int(s) for s in tower.grid_size)
            pos_key = 'positional_embedding'
        if min(self.grid) < 1:
            raise ValueError(f'img_size {self.img_size} is too small for '
                             f'{self.arch_name} (feature grid {self.grid}).')
        if self.is_resnet:
            # open_clip sizes attnpool for a square input; resize it
            pos_embed = tower.attnpool.positional_embedding.detach()
            tower.attnpool.positional_embedding = nn.Parameter(
                interpolate_pos_embed(
                    pos_embed, self.grid, mode=self.pos_embed_interpolation))
        if checkpoint is None:
            print_log(
                f'{type(self).__name__}({self.arch_name}): no pretrained '
                f'file, random init.',
                logger='current')
        else:
            self._load_pretrained(tower, checkpoint, pos_key)
        return tower

    def _load_pretrained(self, tower: nn.Module, checkpoint: CLIPCheckpoint,
                         pos_key: str) -> None:
        state_dict = extract_visual_state_dict(checkpoint.state_dict)
        if not state_dict:
            first_keys = ', '.join(list(checkpoint.state_dict)[:5])
            raise CLIPCheckpointMismatchError(
                f'{checkpoint.path} holds no visual tower weights (no key '
                f'starts with "visual."; first keys: {first_keys}). Pass a '
                f'CLIP checkpoint with both towers.')
        source = state_dict.get(pos_key)
        target = tower.state_dict()[pos_key]
        if (source is not None and source.dim() == 2
                and source.shape[-1] == target.shape[-1]):
            same_count = source.shape[0] == target.shape[0]
            if (not same_count or (self.pretrained_grid is not None
                                   and self.pretrained_grid != self.grid)):
                old_grid = self.pretrained_grid or infer_pos_embed_grid(
                    source.shape[0] - 1, self.grid)
                state_dict[pos_key] = interpolate_pos_embed(
                    source,
                    self.grid,
                    old_grid=old_grid,
                    mode=self.pos_embed_interpolation)
                print_log(
                    f'{type(self).__name__}: resized {pos_key} from grid '
                    f'{old_grid[0]}x{old_grid[1]} to '
                    f'{self.grid[0]}x{self.grid[1]} '
                    f'({self.pos_embed_interpolation}).',
                    logger='current')
        load_checked_state_dict(tower, state_dict, checkpoint.path, 'visual',
                                self.arch_name)

    # --------------------------------------------------------------- contract
    @property
    def reads(self) -> Tuple[str, ...]:
        """Nothing: the backbone creates the feature dict from images."""
        return ()

    @property
    def writes(self) -> Tuple[str, ...]:
        """The keys of the class docstring for this arch."""
        if self.is_resnet:
            return ('feature_map', 'tokens', 'cls', 'proj_cls', 'grid')
        layers = tuple(f'layer{index}_cls' for index in self.out_layers)
        hub = () if self.hub is None else ('hub_tokens', 'cls_pre_ln')
        return (*layers, *hub, 'cls', 'tokens', 'proj_cls', 'proj_tokens',
                'grid')

    # ----------------------------------------------------------------- access
    def get_encoder(self, modality: Optional[str] = None) -> nn.Module:
        """The open_clip tower used for ``modality`` (any when shared)."""
        if self.share_weights:
            return self.encoder
        if modality not in self.encoders:
            raise KeyError(f'No encoder for modality {modality!r}; the '
                           f'backbone has {self.modalities}.')
        return self.encoders[modality]

    def get_blocks(self, modality: Optional[str] = None) -> List[nn.Module]:
        """Residual blocks of the encoder of ``modality``, in order
        (ViT ``ResidualAttentionBlock``s or RN ``Bottleneck``s)."""
        return get_residual_blocks(self.get_encoder(modality))

    def get_stem(self, modality: Optional[str] = None) -> nn.Sequential:
        """ModifiedResNet only: the stem (conv1..bn3 with their three ReLUs
        and avgpool) of the encoder of ``modality`` as one module made of
        the encoder's own layers (deep-copy it for a per-modality stem)."""
        if not self.is_resnet:
            raise TypeError(f'{self.arch_name} is not a ModifiedResNet; '
                            'get_stem applies to RN archs.')
        return resnet_stem(self.get_encoder(modality))

    def train(self, mode: bool = True) -> 'CLIPVisionBackbone':
        """A frozen backbone stays in eval mode."""
        return super().train(mode and not self.frozen)

    # ---------------------------------------------------------------- forward
    def _slot_modalities(self, num_slots: int,
                         modalities: Optional[Sequence[str]]) -> tuple:
        if modalities is not None:
            modalities = tuple(modalities)
            if len(modalities) != num_slots:
                raise ValueError(
                    f'{len(modalities)} modality names for {num_slots} '
                    f'input slots.')
            unknown = [m for m in modalities if m not in self.modalities]
            if unknown:
                raise ValueError(f'Unknown modalities {unknown}; the '
                                 f'backbone has {self.modalities}.')
            return modalities
        if num_slots == len(self.modalities):
            return self.modalities
        if self.share_weights:
            return (None, ) * num_slots
        raise ValueError(
            f'The input has {num_slots} modality slots but the backbone has '
            f'separate encoders for {self.modalities}; pass '
            f'modalities=(...) naming each slot.')

    def _run_block(self, block: nn.Module, x: torch.Tensor) -> torch.Tensor:
        if self.with_cp and self.training and x.requires_grad:
            return grad_checkpoint(block, x, use_reentrant=False)
        return block(x)

    def _attach_hub(self, x: torch.Tensor) -> torch.Tensor:
        """Eq. 6: append ``H[t]`` to frame ``t``: ``[N*T, L, C]`` ->
        ``[N*T, L + T, C]`` (frames of a tracklet contiguous)."""
        num_frames = self.hub_cfg['num_frames']
        hub = self.hub.to(x.dtype)[None].expand(x.shape[0] // num_frames, -1,
                                                -1, -1)
        return torch.cat([x, hub.flatten(0, 1)], dim=1)

    def _transpose_hub(self, x: torch.Tensor) -> torch.Tensor:
        """Eq. 7: swap the frame and hub-index axes of the last ``T``
        tokens: slot ``j`` of frame ``t`` -> slot ``t`` of frame ``j``."""
        num_frames = self.hub_cfg['num_frames']
        hub = x[:, -num_frames:].unflatten(0, (-1, num_frames))
        hub = hub.transpose(1, 2).flatten(0, 1)
        return torch.cat([x[:, :-num_frames], hub], dim=1)

    def _encode_vit(self, tower: nn.Module,
                    images: torch.Tensor) -> Dict[str, torch.Tensor]:
        # open_clip's embedding: patchify, CLS, positional embedding,
        # patch dropout, ln_pre -> [N, 1 + h*w, C]
        x = tower._embeds(images)
        num_tokens = x.shape[1]
        start = None if self.hub is None else self.hub_cfg['start_layer']
        outputs = {}
        for index, block in enumerate(tower.transformer.resblocks):
            if start is not None and index == start:
                x = self._attach_hub(x)
            elif start is not None and index > start:
                x = self._transpose_hub(x)
            x = self._run_block(block, x)
            if index in self.out_layers:
                outputs[f'layer{index}_cls'] = x[:, 0]
        if start is not None:
            # per frame (the lead axes are restored by forward)
            outputs['hub_tokens'] = x[:, num_tokens:]
            outputs['cls_pre_ln'] = x[:, 0]
            x = x[:, :num_tokens]
        x = tower.ln_post(x)
        cls_token, tokens = x[:, 0], x[:, 1:]
        outputs.update(
            cls=cls_token,
            tokens=tokens,
            proj_cls=cls_token @ tower.proj,
            proj_tokens=tokens @ tower.proj)
        return outputs

    def _encode_resnet(self, tower: nn.Module,
                       images: torch.Tensor) -> Dict[str, torch.Tensor]:
        x = tower.stem(images)
        for layer in (tower.layer1, tower.layer2, tower.layer3, tower.layer4):
            x = layer(x)
        return dict(
            feature_map=x,
            tokens=x.flatten(2).transpose(1, 2),
            cls=x.mean(dim=(2, 3)),
            proj_cls=tower.attnpool(x))

    def _encode(self, tower: nn.Module,
                images: torch.Tensor) -> Dict[str, torch.Tensor]:
        """``images`` ``[N, 3, H, W]`` -> dict of ``[N, ...]`` tensors."""
        if self.is_resnet:
            return self._encode_resnet(tower, images)
        return self._encode_vit(tower, images)

    def _check_hub_input(self, inputs: torch.Tensor) -> None:
        num_frames = self.hub_cfg['num_frames']
        if inputs.dim() != 6 or inputs.shape[2] != num_frames:
            raise ValueError(
                f'CLIPVisionBackbone(hub=dict(num_frames={num_frames})) '
                f'expects tracklets [B, M, {num_frames}, 3, H, W], got '
                f'{tuple(inputs.shape)}. Sample num_frames frames per '
                'tracklet in the pipeline (SampleFrames) and set '
                'model.backbone.hub.num_frames to the same T.')

    def forward(self,
                inputs: torch.Tensor,
                modalities: Optional[Sequence[str]] = None) -> dict:
        """Encode every modality slot.

        Args:
            inputs: ``[B, M, 3, H, W]`` or ``[B, M, T, 3, H, W]``.
            modalities: names of the ``M`` slots; defaults to the backbone's
                ``modalities`` (needed with separate encoders when ``M``
                differs).

        Returns:
            The feature dict described in the class docstring.
        """
        if inputs.dim() not in (5, 6):
            raise ValueError(
                'CLIPVisionBackbone expects [B, M, 3, H, W] images or '
                f'[B, M, T, 3, H, W] tracklets, got {tuple(inputs.shape)}.')
        expected = (3, *self.img_size)
        if tuple(inputs.shape[-3:]) != expected:
            raise ValueError(
                f'CLIPVisionBackbone was built for 3x{self.img_size[0]}x'
                f'{self.img_size[1]} images (img_size), got '
                f'{tuple(inputs.shape)}.')
        if self.hub is not None:
            self._check_hub_input(inputs)
        slot_modalities = self._slot_modalities(inputs.shape[1], modalities)
        if self.share_weights:
            lead = inputs.shape[:-3]
            flat = self._encode(self.encoder, inputs.flatten(0, len(lead) - 1))
            feats = {k: v.unflatten(0, lead) for k, v in flat.items()}
        else:
            per_slot = []
            for index, modality in enumerate(slot_modalities):
                slot = inputs[:, index]
                lead = slot.shape[:-3]
                flat = self._encode(self.encoders[modality],
                                    slot.flatten(0,
                                                 len(lead) - 1))
                per_slot.append({
                    k: v.unflatten(0, lead)
                    for k, v in flat.items()
                })
            feats = {
                k: torch.stack([out[k] for out in per_slot], dim=1)
                for k in per_slot[0]
            }
        feats['grid'] = self.grid
        return feats
