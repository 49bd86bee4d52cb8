# Copyright (c) mmreid_text contributors. All rights reserved.
"""Parameter and FLOP counting (fvcore) for ReID models.

FLOPs are multiply-accumulates (fvcore counts one fused multiply-add as
one flop), per sample with all modalities, at test time (``eval`` mode).
Two conventions are reported:

- ``flops``: fvcore's default count. It has no handle for
  ``aten::scaled_dot_product_attention``, so the attention score
  (``Q K^T``) and value (``A V``) products are left out, as are
  element-wise ops (add, mul, GELU, softmax). This is the convention of
  the papers' tables: the plain CLIP ViT-B/16 visual encoder at 288x144
  gives 86.17 M parameters / 13.96 GFLOPs.
- ``flops_full``: the same count plus the two attention products of every
  ``scaled_dot_product_attention`` call (:func:`sdpa_flop_jit`).

Video (tracklet) models take ``[B, M, T, 3, H, W]``.  Their counts are per
tracklet (all ``T`` frames); :attr:`ComplexityResult.flops_per_frame` is
that count divided by ``T``, the convention of the VLD paper (Table X:
"FLOPs per frame").  ``T`` comes from the input shape or from the config
(any ``num_frames`` key of the model, e.g. the backbone's hub, or
``SampleFrames(num_frames=T)`` in the test pipeline; see
:func:`find_num_frames`).
"""
import contextlib
import copy
from collections import Counter
from dataclasses import dataclass, field
from typing import (Any, Dict, Iterator, List, Mapping, Optional, Sequence,
                    Tuple, Union)

import torch
from fvcore.nn import FlopCountAnalysis
from fvcore.nn.jit_handles import get_shape
from torch import nn

from mmreid_text.structures import ReIDDataSample

SDPA_OP = 'aten::scaled_dot_product_attention'
#: Modality names of visible-infrared data: each sample holds ONE of them
#: (a visible or an infrared image / tracklet), so a counted sample has one
#: modality slot even when the backbone lists both.
SINGLE_MODALITY_NAMES = ('vis', 'ir')
#: Fused attention kernel that nn.MultiheadAttention uses on its inference
#: fast path; fvcore cannot see the projections inside it.
FUSED_MHA_OP = 'aten::_native_multi_head_attention'


def sdpa_flop_jit(inputs: List[Any], outputs: List[Any]) -> int:
    """fvcore handle of ``aten::scaled_dot_product_attention``.

    With ``query`` ``[..., L, E]``, ``key`` ``[..., S, E]`` and ``value``
    ``[..., S, Ev]`` (``...`` = batch and heads), counts the
    multiply-accumulates of the score product ``Q K^T`` (``L*S*E``) and of
    the value product ``A V`` (``L*S*Ev``) per leading index. Softmax,
    scaling and masking are element-wise and, as in fvcore, not counted.
    """
    query_shape = get_shape(inputs[0])
    key_shape = get_shape(inputs[1])
    value_shape = get_shape(inputs[2])
    leading = 1
    for size in query_shape[:-2]:
        leading *= size
    length, dim = query_shape[-2], query_shape[-1]
    source = key_shape[-2]
    return leading * length * source * (dim + value_shape[-1])


@dataclass
class ComplexityResult:
    """Parameters and multiply-accumulates of one forward pass.

    Attributes:
        params (int): All parameters (shared ones once).
        learnable_params (int): Parameters with ``requires_grad``.
        flops (int): fvcore's default count (MACs) per sample.
        attention_flops (int): MACs of the attention score and value
            products per sample (not in ``flops``).
        input_shape (tuple): Shape of the counted input.
        uncounted_ops (dict): ``{op: calls}`` of operators fvcore has no
            handle for (element-wise ops, mostly).
        num_frames (int, optional): ``T`` of a video input (``flops`` is
            then per tracklet); None for images.
    """
    params: int
    learnable_params: int
    flops: int
    attention_flops: int
    input_shape: Tuple[int, ...] = ()
    uncounted_ops: Dict[str, int] = field(default_factory=dict)
    num_frames: Optional[int] = None

    @property
    def flops_full(self) -> int:
        """MACs including the attention products."""
        return self.flops + self.attention_flops

    @property
    def flops_per_frame(self) -> Optional[float]:
        """Video: ``flops / T`` (whole tracklet / T); None for images."""
        if self.num_frames is None:
            return None
        return self.flops / self.num_frames

    @property
    def flops_full_per_frame(self) -> Optional[float]:
        """Video: ``flops_full / T``; None for images."""
        if self.num_frames is None:
            return None
        return self.flops_full / self.num_frames

    def to_dict(self, ndigits: int = 4) -> Dict[str, float]:
        """``params_m``, ``learnable_params_m`` (millions), ``gflops``,
        ``gflops_full`` (10^9 MACs per sample, i.e. per tracklet for
        video); video adds ``num_frames``, ``gflops_per_frame`` and
        ``gflops_full_per_frame`` (per tracklet / T)."""
        out = dict(
            params_m=round(self.params / 1e6, ndigits),
            learnable_params_m=round(self.learnable_params / 1e6, ndigits),
            gflops=round(self.flops / 1e9, ndigits),
            gflops_full=round(self.flops_full / 1e9, ndigits))
        if self.num_frames is not None:
            out.update(
                num_frames=self.num_frames,
                gflops_per_frame=round(self.flops_per_frame / 1e9, ndigits),
                gflops_full_per_frame=round(self.flops_full_per_frame / 1e9,
                                            ndigits))
        return out


def count_parameters(model: nn.Module) -> Tuple[int, int]:
    """``(total, learnable)`` parameter counts; shared tensors count once.
    """
    total = learnable = 0
    for param in model.parameters():  # de-duplicated by nn.Module
        total += param.numel()
        if param.requires_grad:
            learnable += param.numel()
    return total, learnable


@contextlib.contextmanager
def counting_mode(model: nn.Module) -> Iterator[None]:
    """Test-time forward that fvcore can trace completely.

    ``model`` is put in eval mode, gradients are enabled and the
    ``nn.MultiheadAttention`` inference fast path is switched off: that
    path runs one fused kernel (``_native_multi_head_attention``) whose
    projections fvcore would not count. Everything is restored on exit.
    """
    was_training = model.training
    fastpath = torch.backends.mha.get_fastpath_enabled()
    model.eval()
    torch.backends.mha.set_fastpath_enabled(False)
    try:
        with torch.enable_grad():
            yield
    finally:
        torch.backends.mha.set_fastpath_enabled(fastpath)
        model.train(was_training)


def count_flops(model: nn.Module,
                inputs: Union[torch.Tensor, Tuple[torch.Tensor, ...]],
                batch_size: Optional[int] = None,
                num_frames: Optional[int] = None) -> ComplexityResult:
    """Count parameters and MACs of ``model(*inputs)`` with fvcore.

    Args:
        model (nn.Module): Any module whose forward takes ``inputs`` and
            returns tensors (wrap models that return dicts, see
            :class:`RetrievalForward`).
        inputs (Tensor | tuple): The example input(s).
        batch_size (int, optional): Divide the counts by this to get per
            sample numbers. Defaults to the first dim of the first input.
        num_frames (int, optional): ``T`` of a video input, for the
            per-frame numbers. Defaults to ``inputs[0].shape[2]`` when the
            first input is a ``[B, M, T, 3, H, W]`` tracklet batch, else
            None (an image model).

    Returns:
        ComplexityResult: per-sample counts.
    """
    if isinstance(inputs, torch.Tensor):
        inputs = (inputs, )
    if batch_size is None:
        batch_size = int(inputs[0].shape[0])
    if num_frames is None and inputs[0].dim() == 6:
        num_frames = int(inputs[0].shape[2])
    if num_frames is not None and int(num_frames) < 1:
        raise ValueError(f'num_frames must be >= 1, got {num_frames}.')
    total, learnable = count_parameters(model)
    with counting_mode(model):
        analysis = FlopCountAnalysis(model, inputs)
        analysis.set_op_handle(SDPA_OP, sdpa_flop_jit)
        analysis.unsupported_ops_warnings(False)
        analysis.uncalled_modules_warnings(False)
        analysis.tracer_warnings('none')
        all_flops = int(analysis.total())
        by_operator = analysis.by_operator()
        uncounted = dict(analysis.unsupported_ops())
    if FUSED_MHA_OP in uncounted:
        raise RuntimeError(
            f'{FUSED_MHA_OP} was traced: nn.MultiheadAttention took its '
            'fused inference path and its projections would not be counted.'
            ' Count under counting_mode() (fast path off, grad enabled).')
    attention = int(by_operator.get(SDPA_OP.split('::')[-1], 0))
    return ComplexityResult(
        params=total,
        learnable_params=learnable,
        flops=(all_flops - attention) // batch_size,
        attention_flops=attention // batch_size,
        input_shape=tuple(inputs[0].shape),
        uncounted_ops=dict(Counter(uncounted).most_common()),
        num_frames=None if num_frames is None else int(num_frames))


def make_data_samples(
        batch_size: int,
        modalities: Sequence[str],
        caption: Optional[Union[str, Mapping[str, str]]] = None,
        num_frames: Optional[int] = None) -> List[ReIDDataSample]:
    """Test-time data samples with neutral meta for counting.

    Each sample is a query and gallery entry of identity 0, camera 0, no
    scene, no missing modality. ``caption`` (if given) is used as the
    caption of every modality, for models that read captions at test time;
    a ``{modality: caption}`` mapping gives each modality its own (models
    that encode identical texts once count one text otherwise; a modality
    left out gets ``''``, no caption).
    A single modality is also given as ``modality`` (visible-infrared
    samples); ``num_frames`` (video) is stored as meta ``num_frames``.
    """
    samples = []
    for index in range(batch_size):
        meta = dict(
            pid=0,
            camid=0,
            scene_id=-1,
            modalities=tuple(modalities),
            missing_modalities=(),
            is_query=True,
            is_gallery=True,
            sample_idx=index)
        if len(modalities) == 1:
            meta['modality'] = modalities[0]
        if num_frames is not None:
            meta['num_frames'] = int(num_frames)
        if caption is not None:
            if isinstance(caption, str):
                meta['captions'] = {mod: caption for mod in modalities}
            else:
                unknown = set(caption) - set(modalities)
                if unknown:
                    raise ValueError(
                        f'captions for {sorted(unknown)}, but '
                        f'the modalities are {tuple(modalities)}.')
                meta['captions'] = {
                    mod: caption.get(mod, '')
                    for mod in modalities
                }
        sample = ReIDDataSample()
        sample.set_metainfo(meta)
        samples.append(sample)
    return samples


class RetrievalForward(nn.Module):
    """Expose a ReID model's test-time feature as a plain tensor output.

    ``forward(inputs)`` runs ``model(inputs, data_samples, mode='tensor')``
    (backbone, necks, head, including any text encoder the components call
    at test time) and returns ``outputs[output_key]``.

    Args:
        model (nn.Module): A :class:`~mmreid_text.models.ReIDModel`.
        data_samples (list): Meta of the batch (see
            :func:`make_data_samples`).
        output_key (str): Entry of the head's output dict to return.
    """

    def __init__(self,
                 model: nn.Module,
                 data_samples: Optional[List[ReIDDataSample]] = None,
                 output_key: str = 'retrieval') -> None:
        super().__init__()
        self.model = model
        self.data_samples = data_samples
        self.output_key = output_key

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        outputs = self.model(inputs, self.data_samples, mode='tensor')
        if self.output_key not in outputs:
            raise KeyError(
                f'The model output has no "{self.output_key}" (it has '
                f'{sorted(outputs)}); pass output_key= naming the feature to '
                'count.')
        return outputs[self.output_key]


def disable_pretrained(cfg: Any) -> Any:
    """Copy of a model config with every pretrained weight switched off.

    Sets each ``pretrained`` key to None and drops ``init_cfg`` entries of
    type ``Pretrained``, at any depth, so that building never reads a
    weight file (random init; counts do not depend on the values).
    """

    def strip(node):
        if isinstance(node, dict):
            out = {}
            for key, value in node.items():
                if key == 'pretrained':
                    out[key] = None
                elif key == 'init_cfg' and _is_pretrained_init(value):
                    out[key] = None
                else:
                    out[key] = strip(value)
            return out
        if isinstance(node, (list, tuple)):
            return type(node)(strip(v) for v in node)
        return copy.deepcopy(node)

    if hasattr(cfg, 'to_dict'):  # mmengine ConfigDict -> plain dict
        cfg = cfg.to_dict()
    return strip(cfg)


def _is_pretrained_init(init_cfg: Any) -> bool:
    items = init_cfg if isinstance(init_cfg, (list, tuple)) else [init_cfg]
    return any(
        isinstance(item, dict) and item.get('type') == 'Pretrained'
        for item in items)


def find_num_frames(cfg: Any, where: str = 'model') -> Optional[int]:
    """``T`` of a video config: the value of every ``num_frames`` key.

    Searches ``cfg`` (a model config, or a dataloader config whose pipeline
    holds ``SampleFrames(num_frames=T)``) at any depth.

    Args:
        cfg (dict): config node to search.
        where (str): name of the node, for messages.

    Returns:
        int | None: the common value; None when no key is set (image).

    Raises:
        ValueError: the keys disagree (T must be one config value).
    """
    found: Dict[str, int] = {}

    def visit(node: Any, path: str) -> None:
        if hasattr(node, 'to_dict'):
            node = node.to_dict()
        if isinstance(node, dict):
            for key, value in node.items():
                child = f'{path}.{key}'
                if key == 'num_frames' and value is not None:
                    found[child] = int(value)
                else:
                    visit(value, child)
        elif isinstance(node, (list, tuple)):
            for index, value in enumerate(node):
                visit(value, f'{path}[{index}]')

    visit(cfg, where)
    values = set(found.values())
    if len(values) > 1:
        raise ValueError(
            f'num_frames differs within the config: {found}. T (frames per '
            'tracklet) must be one config value used everywhere.')
    return values.pop() if values else None


def sample_modalities(
        model_cfg: dict,
        modalities: Optional[Sequence[str]] = None) -> Tuple[str, ...]:
    """Modality slots of one counted sample.

    ``modalities`` if given; otherwise ``backbone.modalities`` (``('rgb',
    'nir', 'tir')`` when unset), except that visible-infrared names
    (:data:`SINGLE_MODALITY_NAMES`) give one slot: a VI sample is a single
    visible or infrared image / tracklet (the first listed is counted; the
    shared encoder costs the same for either, and a backbone with modality
    stems routes the sample through that modality's stem: the samples
    carry ``'modality'``, see :func:`make_data_samples`; every stem's
    parameters are counted).
    """
    if modalities is not None:
        modalities = tuple(modalities)
        if not modalities:
            raise ValueError('modalities must not be empty.')
        return modalities
    backbone = model_cfg.get('backbone', {})
    names = tuple(backbone.get('modalities') or ('rgb', 'nir', 'tir'))
    if all(name in SINGLE_MODALITY_NAMES for name in names):
        return names[:1]
    return names


def model_input_shape(
        model_cfg: dict,
        shape: Optional[Sequence[int]] = None,
        batch_size: int = 1,
        num_frames: Optional[int] = None,
        modalities: Optional[Sequence[str]] = None) -> Tuple[int, ...]:
    """``[B, M, 3, H, W]`` (image) or ``[B, M, T, 3, H, W]`` (video).

    ``M`` = ``len(sample_modalities(model_cfg, modalities))``; ``(H, W)`` =
    ``shape`` or ``backbone.img_size``; ``T`` = ``num_frames`` or the
    model config's ``num_frames`` (:func:`find_num_frames`), none = image.
    """
    backbone = model_cfg.get('backbone', {})
    if shape is None:
        shape = backbone.get('img_size')
        if shape is None:
            raise ValueError('The config has no model.backbone.img_size; '
                             'pass the input size (--shape H W).')
    if isinstance(shape, int):
        shape = (shape, shape)
    height, width = (int(s) for s in shape)
    num_slots = len(sample_modalities(model_cfg, modalities))
    configured = find_num_frames(model_cfg)
    if num_frames is None:
        num_frames = configured
    elif configured is not None and int(num_frames) != configured:
        raise ValueError(
            f'The model config sets num_frames={configured}; counting with '
            f'{num_frames} frames would not match the model. Change the '
            'config value instead (e.g. --cfg-options).')
    if num_frames is None:
        return (batch_size, num_slots, 3, height, width)
    if int(num_frames) < 1:
        raise ValueError(f'num_frames must be >= 1, got {num_frames}.')
    return (batch_size, num_slots, int(num_frames), 3, height, width)


def model_complexity(
        model_cfg: dict,
        shape: Optional[Sequence[int]] = None,
        caption: Optional[Union[str, Mapping[str, str]]] = None,
        output_key: str = 'retrieval',
        num_frames: Optional[int] = None,
        modalities: Optional[Sequence[str]] = None) -> ComplexityResult:
    """Build a ReID model from its config (random init) and count it.

    Args:
        model_cfg (dict): The ``model`` entry of a config (``ReIDModel``).
        shape (tuple, optional): ``(H, W)``; also sets
            ``backbone.img_size``. Defaults to the backbone's ``img_size``.
        caption (str | dict, optional): Caption given to every modality of
            the counting sample (models that read captions at test time),
            or ``{modality: caption}`` (see :func:`make_data_samples`).
        output_key (str): Head output counted (``'retrieval'``).
        num_frames (int, optional): ``T`` of a video model: the counted
            input is one ``[1, M, T, 3, H, W]`` tracklet and the result
            carries per-frame numbers. Defaults to the model config's
            ``num_frames`` (none: an image model).
        modalities (Sequence[str], optional): modality slots of the counted
            sample (see :func:`sample_modalities`).

    Returns:
        ComplexityResult: per sample (per tracklet for video), test time.
    """
    from mmreid_text.registry import MODELS
    model_cfg = disable_pretrained(model_cfg)
    input_shape = model_input_shape(model_cfg, shape, 1, num_frames,
                                    modalities)
    if shape is not None and 'backbone' in model_cfg:
        model_cfg['backbone']['img_size'] = tuple(input_shape[-2:])
    model = MODELS.build(model_cfg)
    slots = sample_modalities(model_cfg, modalities)
    frames = input_shape[2] if len(input_shape) == 6 else None
    samples = make_data_samples(input_shape[0], slots, caption, frames)
    wrapper = RetrievalForward(model, samples, output_key)
    inputs = torch.randn(input_shape)
    return count_flops(wrapper, inputs, num_frames=frames)
