# Copyright (c) mmreid_text contributors. All rights reserved.
"""open_clip architecture configs and helpers around open_clip's towers.

Besides open_clip's own names, ``arch`` may name one of the architectures
shipped as data in ``model_configs/*.json`` (same format as open_clip's):
``'clip-tiny'`` (the random-init ViT of the demo, the tiny method configs
and the tests) and ``'clip-tiny-rn'`` (its ModifiedResNet twin for tests of
the ResNet path). See :func:`list_local_clip_archs`.

Towers are always open_clip's own classes (``VisionTransformer``,
``ModifiedResNet``, ``TextTransformer``) built by open_clip's
``_build_vision_tower`` / ``_build_text_tower``; nothing here forks them.
"""
import copy
import json
import os
import os.path as osp
from collections import OrderedDict
from typing import Dict, List, Mapping, Sequence, Tuple, Union

import open_clip
from open_clip.model import _build_text_tower, _build_vision_tower
from open_clip.modified_resnet import ModifiedResNet
from open_clip.transformer import (TextTransformer, Transformer,
                                   VisionTransformer)
from torch import nn

#: Module names of the ModifiedResNet stem, in forward order.
RESNET_STEM_NAMES = ('conv1', 'bn1', 'act1', 'conv2', 'bn2', 'act2', 'conv3',
                     'bn3', 'act3', 'avgpool')

#: Folder of the architectures shipped with mmreid_text (package data).
LOCAL_ARCH_DIR = osp.join(osp.dirname(osp.abspath(__file__)), 'model_configs')


def list_local_clip_archs() -> List[str]:
    """Names of the architectures in :data:`LOCAL_ARCH_DIR` (sorted)."""
    if not osp.isdir(LOCAL_ARCH_DIR):
        return []
    return sorted(
        osp.splitext(name)[0] for name in os.listdir(LOCAL_ARCH_DIR)
        if name.endswith('.json'))


def _load_local_arch(name: str) -> Dict:
    with open(osp.join(LOCAL_ARCH_DIR, f'{name}.json')) as f:
        return json.load(f)


def _to_plain(obj):
    """ConfigDict / tuples -> plain dicts / lists (open_clip expects them)."""
    if isinstance(obj, Mapping):
        return {k: _to_plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_to_plain(v) for v in obj]
    return obj


def get_clip_arch_config(arch: Union[str, Mapping]) -> dict:
    """An open_clip model config as a fresh plain dict.

    Args:
        arch: an open_clip model name (``'ViT-B-16'``, ``'RN50'``,
            ``'local-dir:/path'``; see ``open_clip.list_models()``), the
            name of an architecture shipped with mmreid_text
            (``'clip-tiny'``, see :func:`list_local_clip_archs`) or a dict
            with ``embed_dim`` and ``vision_cfg`` (and ``text_cfg`` for the
            text encoder) in open_clip's format.

    Raises:
        KeyError: unknown name or a dict without ``embed_dim``.
        ValueError: an ``hf-hub:`` name (would need a download).
    """
    if isinstance(arch, str):
        if arch.startswith('hf-hub:'):
            raise ValueError(
                f'arch={arch!r} would download its config from the '
                f'Hugging Face hub; mmreid_text never downloads at run time. '
                f'Use a built-in open_clip name, "local-dir:/path" or a dict.')
        if arch in list_local_clip_archs():
            cfg = _load_local_arch(arch)
        else:
            cfg = open_clip.get_model_config(arch)
        if cfg is None:
            raise KeyError(
                f'Unknown open_clip architecture {arch!r}. Use a name from '
                f'open_clip.list_models() (e.g. "ViT-B-16", "RN50"), one of '
                f'mmreid_text\'s {list_local_clip_archs()} or a dict with '
                f'embed_dim and vision_cfg [+ text_cfg].')
        cfg = _to_plain(cfg)
    elif isinstance(arch, Mapping):
        cfg = _to_plain(copy.deepcopy(dict(arch)))
    else:
        raise TypeError('arch must be an open_clip model name or a dict, got '
                        f'{type(arch).__name__}.')
    if 'embed_dim' not in cfg:
        raise KeyError(f'The arch config has no "embed_dim": {cfg}.')
    return cfg


def arch_display_name(arch: Union[str, Mapping]) -> str:
    """Short name of an arch for messages."""
    return arch if isinstance(arch, str) else 'custom arch dict'


def is_resnet_arch(arch_cfg: Mapping) -> bool:
    """True when the vision tower is open_clip's ModifiedResNet."""
    return isinstance(arch_cfg['vision_cfg'].get('layers'), (list, tuple))


def tiny_clip_arch(vision: str = 'vit') -> dict:
    """The tiny random-weight CLIP arch of the demo, tiny configs and tests.

    A fresh copy of ``get_clip_arch_config('clip-tiny')`` (``vision='vit'``:
    4 blocks of width 128, 2 heads, patch 8) or of ``'clip-tiny-rn'``
    (``vision='resnet'``: ModifiedResNet with layers [1, 1, 1, 1] and width
    16, i.e. 512 channels at layer4). Both have ``embed_dim`` 128 and the
    same text tower (width 128, 2 layers, 2 heads, context 77, the full BPE
    vocabulary so that open_clip's tokenizer works). The single definition
    is ``model_configs/clip-tiny*.json``; configs say ``arch='clip-tiny'``.
    """
    names = {'vit': 'clip-tiny', 'resnet': 'clip-tiny-rn'}
    if vision not in names:
        raise ValueError(f"vision must be 'vit' or 'resnet', got {vision!r}")
    return get_clip_arch_config(names[vision])


def build_clip_vision_tower(arch_cfg: Mapping, img_size: Sequence[int],
                            quick_gelu: bool) -> nn.Module:
    """Build open_clip's vision tower for a ``(H, W)`` input.

    ViT: built directly for ``(H, W)`` (positional embedding of
    ``H/p * W/p + 1`` positions). ModifiedResNet: built at its config size;
    the caller resizes the attnpool positional embedding.

    Raises:
        ValueError: timm / attentional-pool towers, or a ViT input size that
            is not a multiple of the patch size.
    """
    vision_cfg = dict(arch_cfg['vision_cfg'])
    if vision_cfg.get('timm_model_name'):
        raise ValueError('timm vision towers are not supported by '
                         'CLIPVisionBackbone; use a ViT or RN CLIP arch.')
    if is_resnet_arch(arch_cfg):
        vision_cfg['layers'] = tuple(vision_cfg['layers'])
    else:
        unsupported = {
            'attentional_pool': False,
            'final_ln_after_pool': False,
            'pool_type': 'tok',
            'pos_embed_type': 'learnable',
        }
        for key, default in unsupported.items():
            if vision_cfg.get(key, default) != default:
                raise ValueError(
                    f'vision_cfg.{key}={vision_cfg[key]!r} is not supported '
                    f'by CLIPVisionBackbone (needs {default!r}).')
        patch = vision_cfg.get('patch_size', 16)
        height, width = img_size
        if height % patch or width % patch:
            raise ValueError(
                f'img_size {tuple(img_size)} is not a multiple of the patch '
                f'size {patch}.')
        vision_cfg['image_size'] = (int(height), int(width))
    return _build_vision_tower(
        arch_cfg['embed_dim'], vision_cfg, quick_gelu=quick_gelu)


def build_clip_text_tower(arch_cfg: Mapping,
                          quick_gelu: bool) -> TextTransformer:
    """Build open_clip's ``TextTransformer`` of a CLIP arch.

    Raises:
        KeyError: the arch has no ``text_cfg``.
        ValueError: text towers the TextEncoder cannot drive (Hugging Face
            towers, CoCa-style CLS embedding, non-argmax pooling, no causal
            mask).
    """
    if 'text_cfg' not in arch_cfg:
        raise KeyError('The arch config has no "text_cfg".')
    text_cfg = dict(arch_cfg['text_cfg'])
    checks = {
        'hf_model_name': None,
        'hf_tokenizer_name': None,
        'embed_cls': False,
        'pool_type': 'argmax',
        'no_causal_mask': False,
    }
    for key, default in checks.items():
        if text_cfg.get(key, default) != default:
            raise ValueError(
                f'text_cfg.{key}={text_cfg[key]!r} is not supported by '
                f'TextEncoder (needs {default!r}); use an OpenAI-style CLIP '
                f'text tower.')
    return _build_text_tower(
        arch_cfg['embed_dim'], text_cfg, quick_gelu=quick_gelu)


def get_residual_blocks(module: nn.Module) -> List[nn.Module]:
    """The residual blocks of an open_clip tower, in forward order.

    ViT / text tower / Transformer: the ``ResidualAttentionBlock``s
    (``transformer.resblocks``); ModifiedResNet: the ``Bottleneck``s of
    layer1..layer4. The returned modules are the tower's own (hooks or
    wrappers placed on them act on the tower).
    """
    if isinstance(module, (VisionTransformer, TextTransformer)):
        return list(module.transformer.resblocks)
    if isinstance(module, Transformer):
        return list(module.resblocks)
    if isinstance(module, ModifiedResNet):
        return [
            block for layer in (module.layer1, module.layer2, module.layer3,
                                module.layer4) for block in layer
        ]
    raise TypeError('get_residual_blocks expects an open_clip '
                    'VisionTransformer, TextTransformer, Transformer or '
                    f'ModifiedResNet, got {type(module).__name__}.')


def resnet_stem(tower: ModifiedResNet) -> nn.Sequential:
    """The ModifiedResNet stem as one module.

    ``conv1 bn1 relu conv2 bn2 relu conv3 bn3 relu avgpool`` (all three
    ReLUs), made of the tower's own modules, so ``resnet_stem(t)(x)`` equals
    ``t.stem(x)``; ``copy.deepcopy`` it to give a modality its own stem. The
    child names equal the tower's, so stem weights load by the same keys.
    """
    if not isinstance(tower, ModifiedResNet):
        raise TypeError('resnet_stem expects an open_clip ModifiedResNet, '
                        f'got {type(tower).__name__}.')
    return nn.Sequential(
        OrderedDict(
            (name, getattr(tower, name)) for name in RESNET_STEM_NAMES))


def set_resnet_last_stride(tower: ModifiedResNet, stride: int) -> None:
    """Set the stride of layer4 (1 doubles the final map, as in CSDN/EEES).

    ModifiedResNet downsamples with an ``AvgPool2d(stride)`` in the first
    Bottleneck and in its shortcut; both are replaced (no weights change).
    """
    if stride not in (1, 2):
        raise ValueError(f'last_stride must be 1 or 2, got {stride}.')
    block = tower.layer4[0]
    pool = nn.AvgPool2d(stride) if stride > 1 else nn.Identity()
    block.avgpool = pool
    block.stride = stride
    if block.downsample is not None:
        setattr(block.downsample, '-1', copy.deepcopy(pool))


def resnet_feature_grid(img_size: Sequence[int],
                        last_stride: int = 2) -> Tuple[int, int]:
    """``(h, w)`` of ModifiedResNet's layer4 map for an ``(H, W)`` input."""

    def side(size: int) -> int:
        size = (size + 1) // 2  # conv1: 3x3, stride 2, padding 1
        size //= 2  # stem avgpool
        size //= 2  # layer2
        size //= 2  # layer3
        return size // last_stride  # layer4

    height, width = img_size
    return side(int(height)), side(int(width))
