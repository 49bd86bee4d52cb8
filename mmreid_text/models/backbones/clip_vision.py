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
from ..utils.clip_arch import (RESNET_STEM_NAMES, arch_display_name,
                               build_clip_vision_tower, get_clip_arch_config,
                               get_residual_blocks, is_resnet_arch,
                               resnet_feature_grid, resnet_stem,
                               set_resnet_last_stride)
from ..utils.clip_checkpoint import (CLIPCheckpoint,
                                     CLIPCheckpointMismatchError,
                                     extract_visual_state_dict,
                                     load_checked_state_dict,
                                     load_checkpoint_and_quick_gelu)
from ..utils.feature_contract import FeatureContract
from ..utils.modality_encoders import ModalityEncoders
from ..utils.pos_embed import infer_pos_embed_grid, interpolate_pos_embed


def _pair(value: Union[int, Sequence[int]], name: str) -> Tuple[int, int]:
    if isinstance(value, int):
        return value, value
    value = tuple(int(v) for v in value)
    if len(value) != 2:
        raise ValueError(f'{name} must be an int or (H, W), got {value}.')
    return value


@MODELS.register_module()
class CLIPVisionBackbone(ModalityEncoders, FeatureContract, BaseModule):
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
        modality_stems: ModifiedResNet only (with ``share_weights``): give
            every modality of ``modalities`` its own copy of CLIP's stem
            (``conv1 bn1 relu conv2 bn2 relu conv3 bn3 relu avgpool``, all
            three ReLUs) while layer1-4 and attnpool stay shared, as the
            "two parallel first convolutional layers" of AGW / EEES. All
            copies start from the same (pretrained) stem weights. See
            "Modality stems" below. Default False: one stem, the plain
            CLIP tower.
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

    Modality stems (``modality_stems=True``): the stems live in
    ``stems[modality]`` (``nn.ModuleDict``; state-dict keys
    ``stems.<modality>.conv1.weight``...), and the shared tower keeps no
    stem of its own. Every image is routed to the stem of its modality:
    with a single-slot input ``[B, 1, ...]`` by ``sample_modalities``
    (one name per sample, e.g. the ``'modality'`` metainfo of the data
    samples; :class:`~mmreid_text.models.ReIDModel` passes it, see
    :attr:`needs_sample_modalities`), with a multi-slot input ``[B, M,
    ...]`` by the slot names (``modalities``). The images of each modality
    go through their stem as one group (each stem's BatchNorm sees only its
    modality, as AGW's separate modules), the results are put back in the
    input order and layer1-4 / attnpool run on the whole batch at once.

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
                 modality_stems: bool = False,
                 pos_embed_interpolation: str = 'bilinear',
                 pretrained_grid: Optional[Sequence[int]] = None,
                 with_cp: bool = False,
                 hub: Optional[Mapping] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.arch_cfg = get_clip_arch_config(arch)
        self.arch_name = arch_display_name(arch)
        self.img_size = _pair(img_size, 'img_size')
        self._set_modalities(modalities)
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
        self.modality_stems = bool(modality_stems)
        if self.modality_stems and not self.is_resnet:
            raise ValueError('modality_stems=True needs a ModifiedResNet '
                             f'(RN) arch, not {self.arch_name}.')
        if self.modality_stems and not share_weights:
            raise ValueError(
                'modality_stems=True shares layer1-4 between the modalities; '
                'with share_weights=False every modality already has its own '
                'encoder (stem included). Use one of the two.')

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

        if self.modality_stems:
            # each modality gets a copy of the (pretrained) stem; the shared
            # tower keeps none, so no stem parameter is unused
            stem = resnet_stem(encoder)
            self.stems = nn.ModuleDict({
                modality: copy.deepcopy(stem)
                for modality in self.modalities
            })
            for name in RESNET_STEM_NAMES:
                delattr(encoder, name)
        else:
            self.stems = None
        self._set_encoders(encoder)
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

    @property
    def needs_sample_modalities(self) -> bool:
        """True when the forward routes each sample by its modality
        (``modality_stems``): callers pass ``sample_modalities``."""
        return self.modality_stems

    # ----------------------------------------------------------------- access
    def get_blocks(self, modality: Optional[str] = None) -> List[nn.Module]:
        """Residual blocks of the encoder of ``modality``, in order
        (ViT ``ResidualAttentionBlock``s or RN ``Bottleneck``s)."""
        return get_residual_blocks(self.get_encoder(modality))

    def get_stem(self, modality: Optional[str] = None) -> nn.Sequential:
        """ModifiedResNet only: the stem (conv1..bn3 with their three ReLUs
        and avgpool) of ``modality`` as one module made of the encoder's
        own layers (deep-copy it for a per-modality stem); with
        ``modality_stems`` the modality's own stem (``modality`` may be
        None only when there is one modality; the tower of
        :meth:`get_encoder` then has no stem modules)."""
        if not self.is_resnet:
            raise TypeError(f'{self.arch_name} is not a ModifiedResNet; '
                            'get_stem applies to RN archs.')
        if self.modality_stems:
            if modality is None and len(self.modalities) == 1:
                modality = self.modalities[0]
            if modality not in self.stems:
                raise KeyError(
                    f'No stem for modality {modality!r}; the backbone has '
                    f'one stem per modality in {self.modalities}: name one.')
            return self.stems[modality]
        return resnet_stem(self.get_encoder(modality))

    def train(self, mode: bool = True) -> 'CLIPVisionBackbone':
        """A frozen backbone stays in eval mode."""
        return super().train(mode and not self.frozen)

    # ---------------------------------------------------------------- forward
    def _stem_routes(self, lead: Sequence[int],
                     modalities: Optional[Sequence[str]],
                     sample_modalities: Optional[Sequence[str]]) -> tuple:
        """The stem (modality name) of every image of an input with lead
        axes ``lead`` = ``(B, M)`` or ``(B, M, T)``, in flattened order."""
        name = f'{type(self).__name__}(modality_stems=True)'
        batch, num_slots = int(lead[0]), int(lead[1])
        if sample_modalities is not None:
            per_sample = tuple(sample_modalities)
            if num_slots != 1:
                raise ValueError(
                    f'{name}: sample_modalities routes single-slot inputs '
                    f'[B, 1, ...]; this input has {num_slots} modality '
                    'slots, which are routed by their names (modalities=...).'
                    ' Pass one of the two.')
            if modalities is not None:
                raise ValueError(f'{name}: pass either sample_modalities (one '
                                 'name per sample) or modalities (one name '
                                 'per slot), not both.')
            if len(per_sample) != batch:
                raise ValueError(
                    f'{name}: {len(per_sample)} sample_modalities for a '
                    f'batch of {batch} samples; give one name per sample.')
            missing = [i for i, m in enumerate(per_sample) if m is None]
            if missing:
                raise ValueError(
                    f'{name}: samples {missing[:10]} have no modality '
                    '(sample_modalities holds None); every sample needs '
                    "its 'modality' metainfo ('vis' / 'ir') to choose its "
                    'stem.')
            known = set(self.modalities)
            unknown = sorted({m for m in per_sample if m not in known})
            if unknown:
                raise ValueError(
                    f'{name}: sample_modalities has unknown modalities '
                    f'{unknown}; the backbone has stems for '
                    f'{self.modalities}. Check the data samples\' '
                    "'modality' metainfo and model.backbone.modalities.")
        else:
            slots = self._slot_modalities(num_slots, modalities)
            if any(slot is None for slot in slots):
                raise ValueError(
                    f'{name} has one stem per modality in {self.modalities} '
                    f'and cannot tell which stem each image of the '
                    f'{num_slots}-slot input uses. For [B, 1, ...] inputs '
                    'pass sample_modalities=[one modality per sample] '
                    '(ReIDModel.extract_feat passes the data samples\' '
                    "metainfo 'modality'; give the model data_samples), for "
                    'multi-slot inputs modalities=(one name per slot).')
            per_sample = tuple(slots[slot] for _ in range(batch)
                               for slot in range(num_slots))
        repeat = 1
        for size in lead[2:]:
            repeat *= int(size)
        return tuple(route for route in per_sample for _ in range(repeat))

    def _run_stems(self, images: torch.Tensor,
                   routes: Sequence[str]) -> torch.Tensor:
        """``images`` ``[N, 3, H, W]`` through the stem of ``routes[i]``:
        one group per modality, the outputs back in input order."""
        if len(set(routes)) == 1:
            return self.stems[routes[0]](images)
        outputs, order = [], []
        for modality in self.modalities:
            index = [i for i, route in enumerate(routes) if route == modality]
            if not index:
                continue
            index = torch.tensor(index, device=images.device)
            group = images.index_select(0, index)
            outputs.append(self.stems[modality](group))
            order.append(index)
        # argsort of the grouped order is its inverse permutation
        inverse = torch.argsort(torch.cat(order))
        return torch.cat(outputs).index_select(0, inverse)

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

    def _encode_resnet(
            self,
            tower: nn.Module,
            images: torch.Tensor,
            routes: Optional[Sequence[str]] = None) -> Dict[str, torch.Tensor]:
        if routes is None:
            x = tower.stem(images)
        else:
            x = self._run_stems(images, routes)
        for layer in (tower.layer1, tower.layer2, tower.layer3, tower.layer4):
            x = layer(x)
        return dict(
            feature_map=x,
            tokens=x.flatten(2).transpose(1, 2),
            cls=x.mean(dim=(2, 3)),
            proj_cls=tower.attnpool(x))

    def _encode(
            self,
            tower: nn.Module,
            images: torch.Tensor,
            routes: Optional[Sequence[str]] = None) -> Dict[str, torch.Tensor]:
        """``images`` ``[N, 3, H, W]`` -> dict of ``[N, ...]`` tensors;
        ``routes``: the stem of each image (``modality_stems`` only)."""
        if self.is_resnet:
            return self._encode_resnet(tower, images, routes)
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
                modalities: Optional[Sequence[str]] = None,
                sample_modalities: Optional[Sequence[str]] = None) -> dict:
        """Encode every modality slot.

        Args:
            inputs: ``[B, M, 3, H, W]`` or ``[B, M, T, 3, H, W]``.
            modalities: names of the ``M`` slots; defaults to the backbone's
                ``modalities`` (needed with separate encoders when ``M``
                differs).
            sample_modalities: ``modality_stems`` only: the modality of
                each of the ``B`` samples of a single-slot input ``[B, 1,
                ...]`` (e.g. ``data_samples[i].metainfo['modality']``),
                choosing its stem. Ignored without ``modality_stems``.

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
        # the stem of every image (modality_stems needs share_weights: one
        # encode call for all slots, in flattened order)
        routes = (
            self._stem_routes(inputs.shape[:-3], modalities, sample_modalities)
            if self.modality_stems else None)
        feats = self._encode_modality_slots(
            inputs, slot_modalities,
            lambda tower, images: self._encode(tower, images, routes))
        feats['grid'] = self.grid
        return feats
