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
"""
import contextlib
import copy
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple, Union

import torch
from fvcore.nn import FlopCountAnalysis
from fvcore.nn.jit_handles import get_shape
from torch import nn

from mmreid_text.structures import ReIDDataSample

SDPA_OP = 'aten::scaled_dot_product_attention'
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
    """
    params: int
    learnable_params: int
    flops: int
    attention_flops: int
    input_shape: Tuple[int, ...] = ()
    uncounted_ops: Dict[str, int] = field(default_factory=dict)

    @property
    def flops_full(self) -> int:
        """MACs including the attention products."""
        return self.flops + self.attention_flops

    def to_dict(self, ndigits: int = 4) -> Dict[str, float]:
        """``params_m``, ``learnable_params_m`` (millions), ``gflops``,
        ``gflops_full`` (10^9 MACs)."""
        return dict(
            params_m=round(self.params / 1e6, ndigits),
            learnable_params_m=round(self.learnable_params / 1e6, ndigits),
            gflops=round(self.flops / 1e9, ndigits),
            gflops_full=round(self.flops_full / 1e9, ndigits))


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
                batch_size: Optional[int] = None) -> ComplexityResult:
    """Count parameters and MACs of ``model(*inputs)`` with fvcore.

    Args:
        model (nn.Module): Any module whose forward takes ``inputs`` and
            returns tensors (wrap models that return dicts, see
            :class:`RetrievalForward`).
        inputs (Tensor | tuple): The example input(s).
        batch_size (int, optional): Divide the counts by this to get per
            sample numbers. Defaults to the first dim of the first input.

    Returns:
        ComplexityResult: per-sample counts.
    """
    if isinstance(inputs, torch.Tensor):
        inputs = (inputs, )
    if batch_size is None:
        batch_size = int(inputs[0].shape[0])
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
        uncounted_ops=dict(Counter(uncounted).most_common()))


def make_data_samples(batch_size: int,
                      modalities: Sequence[str],
                      caption: Optional[str] = None) -> List[ReIDDataSample]:
    """Test-time data samples with neutral meta for counting.

    Each sample is a query and gallery entry of identity 0, camera 0, no
    scene, no missing modality. ``caption`` (if given) is used as the
    caption of every modality, for models that read captions at test time.
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
        if caption is not None:
            meta['captions'] = {mod: caption for mod in modalities}
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


def model_input_shape(model_cfg: dict,
                      shape: Optional[Sequence[int]] = None,
                      batch_size: int = 1) -> Tuple[int, ...]:
    """``[B, M, 3, H, W]`` of a ReID model config.

    ``M`` = ``len(backbone.modalities)`` (3 when unset); ``(H, W)`` =
    ``shape`` or ``backbone.img_size``.
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
    modalities = backbone.get('modalities') or ('rgb', 'nir', 'tir')
    return (batch_size, len(modalities), 3, height, width)


def model_complexity(model_cfg: dict,
                     shape: Optional[Sequence[int]] = None,
                     caption: Optional[str] = None,
                     output_key: str = 'retrieval') -> ComplexityResult:
    """Build a ReID model from its config (random init) and count it.

    Args:
        model_cfg (dict): The ``model`` entry of a config (``ReIDModel``).
        shape (tuple, optional): ``(H, W)``; also sets
            ``backbone.img_size``. Defaults to the backbone's ``img_size``.
        caption (str, optional): Caption given to every modality of the
            counting sample (models that read captions at test time).
        output_key (str): Head output counted (``'retrieval'``).

    Returns:
        ComplexityResult: per sample, all modalities, test time.
    """
    from mmreid_text.registry import MODELS
    model_cfg = disable_pretrained(model_cfg)
    input_shape = model_input_shape(model_cfg, shape)
    if shape is not None and 'backbone' in model_cfg:
        model_cfg['backbone']['img_size'] = tuple(input_shape[-2:])
    model = MODELS.build(model_cfg)
    backbone = model_cfg.get('backbone', {})
    modalities = backbone.get('modalities') or ('rgb', 'nir', 'tir')
    samples = make_data_samples(input_shape[0], modalities, caption)
    wrapper = RetrievalForward(model, samples, output_key)
    inputs = torch.randn(input_shape)
    return count_flops(wrapper, inputs)
