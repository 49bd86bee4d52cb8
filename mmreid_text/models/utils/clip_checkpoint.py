# Copyright (c) mmreid_text contributors. All rights reserved.
"""Reading CLIP weights from local files and loading them into towers.

Supported files (always local, never downloaded):

- OpenAI TorchScript archives (``ViT-B-16.pt``, ``RN50.pt``),
- plain torch / open_clip state dicts or training checkpoints
  (``.pt``/``.pth``/``.bin``; a ``'state_dict'`` entry and ``module.``
  prefixes are unwrapped),
- ``.safetensors`` files.

The last file read is cached (keyed by path, mtime and size), so a visual
backbone and a text encoder built from the same file read it once.
"""
import os
import os.path as osp
import warnings
import zipfile
from dataclasses import dataclass
from typing import Dict, List, Mapping, Optional, Tuple, Union

import torch
from mmengine.logging import print_log
from torch import nn

#: Entries OpenAI's archives carry next to the weights.
OPENAI_META_KEYS = ('input_resolution', 'context_length', 'vocab_size')
#: Top-level CLIP entries that belong to neither tower.
NON_TOWER_KEYS = OPENAI_META_KEYS + ('logit_scale', 'logit_bias', 'attn_mask')
#: Where users find how to obtain the CLIP weight files.
WEIGHTS_DOC = 'docs/get_started.md (section "CLIP weights")'
#: How many keys of each kind a mismatch error lists.
MAX_LISTED_KEYS = 20


class CLIPCheckpointMismatchError(RuntimeError):
    """Weights in a file do not fit the architecture they are loaded into."""


@dataclass
class CLIPCheckpoint:
    """Weights of one CLIP file.

    Attributes:
        path: absolute path of the file.
        state_dict: flat ``{name: tensor}`` with floating tensors in fp32
            (OpenAI archives store fp16). Shared by every user of the cache:
            do not modify it in place.
        file_format: ``'torchscript'``, ``'torch'`` or ``'safetensors'``.
    """
    path: str
    state_dict: Dict[str, torch.Tensor]
    file_format: str

    @property
    def is_openai(self) -> bool:
        """True for OpenAI's release format (these need QuickGELU)."""
        return (self.file_format == 'torchscript'
                or any(k in self.state_dict for k in OPENAI_META_KEYS))


_cache: Dict[str, object] = {'key': None, 'checkpoint': None}


def clear_clip_checkpoint_cache() -> None:
    """Forget the cached file (frees its memory)."""
    _cache['key'] = None
    _cache['checkpoint'] = None


def _is_torchscript_archive(path: str) -> bool:
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
    return any(
        name.endswith('/constants.pkl') or '/code/' in name for name in names)


def _unwrap_state_dict(obj: object, path: str) -> Dict[str, torch.Tensor]:
    for wrapper_key in ('state_dict', 'model'):
        if isinstance(obj, Mapping) and isinstance(
                obj.get(wrapper_key), Mapping):
            obj = obj[wrapper_key]
            break
    if not isinstance(obj, Mapping):
        raise TypeError(
            f'{path} does not hold a state dict (found '
            f'{type(obj).__name__}); expected a CLIP state dict, an '
            f'open_clip checkpoint or an OpenAI TorchScript archive. See '
            f'{WEIGHTS_DOC}.')
    state_dict = {
        k: v
        for k, v in obj.items() if isinstance(k, str) and torch.is_tensor(v)
    }
    if state_dict and all(k.startswith('module.') for k in state_dict):
        state_dict = {k[len('module.'):]: v for k, v in state_dict.items()}
    return state_dict


def _read_file(path: str) -> Tuple[object, str]:
    if path.lower().endswith('.safetensors'):
        from safetensors.torch import load_file
        return load_file(path, device='cpu'), 'safetensors'
    if _is_torchscript_archive(path):
        with warnings.catch_warnings():
            # torch>=2.9 flags TorchScript as deprecated; OpenAI ships it
            warnings.simplefilter('ignore', FutureWarning)
            module = torch.jit.load(path, map_location='cpu')
        return module.state_dict(), 'torchscript'
    return torch.load(path, map_location='cpu', weights_only=True), 'torch'


def load_clip_checkpoint(path: str) -> CLIPCheckpoint:
    """Read a local CLIP weight file (cached by path + mtime + size).

    Raises:
        FileNotFoundError: the file does not exist.
        RuntimeError: the file exists but cannot be read as CLIP weights.
    """
    path = osp.abspath(osp.expanduser(str(path)))
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'CLIP weight file not found: {path}. `pretrained` must be a '
            f'local file (OpenAI .pt archive, open_clip .pt/.bin/.pth state '
            f'dict or .safetensors); see {WEIGHTS_DOC} for where to get '
            f'the weights and where to put them.')
    stat = os.stat(path)
    key = (osp.realpath(path), stat.st_mtime_ns, stat.st_size)
    if _cache['key'] == key:
        return _cache['checkpoint']
    try:
        content, file_format = _read_file(path)
    except Exception as err:
        raise RuntimeError(
            f'Could not read CLIP weights from {path}: '
            f'{type(err).__name__}: {err}. Expected an OpenAI TorchScript '
            f'archive, a torch state dict or a .safetensors file; see '
            f'{WEIGHTS_DOC}.') from err
    state_dict = {
        k: (v.float() if v.is_floating_point() else v)
        for k, v in _unwrap_state_dict(content, path).items()
    }
    if not state_dict:
        raise RuntimeError(
            f'{path} holds no tensors; expected CLIP weights, see '
            f'{WEIGHTS_DOC}.')
    checkpoint = CLIPCheckpoint(path, state_dict, file_format)
    clear_clip_checkpoint_cache()
    _cache['key'] = key
    _cache['checkpoint'] = checkpoint
    print_log(
        f'Read CLIP weights from {path} ({file_format}, '
        f'{len(state_dict)} tensors, OpenAI format: {checkpoint.is_openai})',
        logger='current')
    return checkpoint


def load_clip_state_dict(path: str) -> Dict[str, torch.Tensor]:
    """The flat fp32 state dict of a local CLIP file (see
    :func:`load_clip_checkpoint`)."""
    return load_clip_checkpoint(path).state_dict


def resolve_quick_gelu(quick_gelu: Union[bool, str],
                       checkpoint: Optional[CLIPCheckpoint] = None,
                       arch_cfg: Optional[Mapping] = None,
                       owner: str = 'CLIP') -> bool:
    """Decide whether the towers use QuickGELU and log the decision.

    Args:
        quick_gelu: True / False, or ``'auto'``: True for OpenAI weights
            (TorchScript archive or a state dict with OpenAI's
            ``input_resolution``/``context_length``/``vocab_size`` entries)
            and for archs whose config says ``quick_gelu: true``
            (e.g. ``ViT-B-16-quickgelu``), False otherwise.
        checkpoint: the weights that will be loaded, if any.
        arch_cfg: the open_clip model config.
        owner: name used in the log line.
    """
    if isinstance(quick_gelu, bool):
        value, reason = quick_gelu, 'set in the config'
    elif quick_gelu == 'auto':
        if checkpoint is not None and checkpoint.is_openai:
            value, reason = True, f'auto: OpenAI weights in {checkpoint.path}'
        elif arch_cfg is not None and arch_cfg.get('quick_gelu', False):
            value, reason = True, 'auto: the arch config asks for it'
        elif checkpoint is not None:
            value, reason = False, ('auto: non-OpenAI weights in '
                                    f'{checkpoint.path}')
        else:
            value, reason = False, 'auto: no pretrained weights'
    else:
        raise ValueError(
            f"quick_gelu must be True, False or 'auto', got {quick_gelu!r}.")
    print_log(f'{owner}: quick_gelu={value} ({reason})', logger='current')
    return value


def load_checkpoint_and_quick_gelu(
        pretrained: Optional[str], quick_gelu: Union[bool,
                                                     str], arch_cfg: Mapping,
        owner: str) -> Tuple[Optional[CLIPCheckpoint], bool]:
    """Read ``pretrained`` (None: random init) and resolve ``quick_gelu``.

    The shared first step of the CLIP visual and text towers; see
    :func:`load_clip_checkpoint` and :func:`resolve_quick_gelu`.
    """
    checkpoint = (None
                  if pretrained is None else load_clip_checkpoint(pretrained))
    return checkpoint, resolve_quick_gelu(quick_gelu, checkpoint, arch_cfg,
                                          owner)


def extract_visual_state_dict(
        state_dict: Mapping[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
    """The ``visual.*`` entries of a CLIP state dict, prefix removed."""
    prefix = 'visual.'
    return {
        k[len(prefix):]: v
        for k, v in state_dict.items() if k.startswith(prefix)
    }


def extract_text_state_dict(
        state_dict: Mapping[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
    """The text-tower entries of a CLIP state dict.

    Handles both layouts: open_clip ``CLIP``/OpenAI (text weights at the top
    level: ``token_embedding``, ``positional_embedding``, ``transformer.*``,
    ``ln_final``, ``text_projection``) and ``CustomTextCLIP`` (``text.*``).
    Names are returned as an open_clip ``TextTransformer`` expects them.
    """
    prefix = 'text.'
    if any(k.startswith(prefix) for k in state_dict):
        return {
            k[len(prefix):]: v
            for k, v in state_dict.items() if k.startswith(prefix)
        }
    return {
        k: v
        for k, v in state_dict.items()
        if not k.startswith('visual.') and k not in NON_TOWER_KEYS
    }


def _format_keys(keys: List[str]) -> str:
    listed = ', '.join(keys[:MAX_LISTED_KEYS])
    more = len(keys) - MAX_LISTED_KEYS
    return listed + (f', ... ({more} more)' if more > 0 else '')


def check_state_dict_fits(module: nn.Module,
                          state_dict: Mapping[str, torch.Tensor],
                          source: str,
                          part: str,
                          arch_name: str = '') -> None:
    """Raise when ``state_dict`` does not fit ``module`` exactly.

    The error lists (the first 20) missing keys, unexpected keys and shape
    mismatches. Missing ``num_batches_tracked`` buffers are tolerated.

    Raises:
        CLIPCheckpointMismatchError
    """
    expected = module.state_dict()
    missing = [
        k for k in expected
        if k not in state_dict and not k.endswith('num_batches_tracked')
    ]
    unexpected = [k for k in state_dict if k not in expected]
    mismatched = [
        f'{k}: checkpoint {tuple(state_dict[k].shape)} vs model '
        f'{tuple(expected[k].shape)}' for k in expected
        if k in state_dict and state_dict[k].shape != expected[k].shape
    ]
    if not (missing or unexpected or mismatched):
        return
    arch_text = f' {arch_name!r}' if arch_name else ''
    lines = [
        f'The {part} weights in {source} do not fit the architecture'
        f'{arch_text}: {len(missing)} missing, {len(unexpected)} '
        f'unexpected, {len(mismatched)} with a different shape.'
    ]
    if missing:
        lines.append(f'  missing keys: {_format_keys(missing)}')
    if unexpected:
        lines.append(f'  unexpected keys: {_format_keys(unexpected)}')
    if mismatched:
        lines.append(f'  shape mismatches: {_format_keys(mismatched)}')
    lines.append('Check that `arch` names the architecture of the file '
                 '(e.g. ViT-B-16 for ViT-B-16.pt, RN50 for RN50.pt); see '
                 f'{WEIGHTS_DOC}.')
    raise CLIPCheckpointMismatchError('\n'.join(lines))


def load_checked_state_dict(module: nn.Module,
                            state_dict: Mapping[str, torch.Tensor],
                            source: str,
                            part: str,
                            arch_name: str = '') -> None:
    """:func:`check_state_dict_fits`, then load (values are copied)."""
    check_state_dict_fits(module, state_dict, source, part, arch_name)
    module.load_state_dict(state_dict, strict=False)
