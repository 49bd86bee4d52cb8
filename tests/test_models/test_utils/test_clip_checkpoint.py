# Copyright (c) mmreid_text contributors. All rights reserved.
import os
import warnings

import open_clip
import pytest
import torch
from safetensors.torch import save_file

from mmreid_text.models.utils import (CLIPCheckpointMismatchError,
                                      tiny_clip_arch)
from mmreid_text.models.utils.clip_checkpoint import (
    check_state_dict_fits, clear_clip_checkpoint_cache,
    extract_text_state_dict, extract_visual_state_dict, load_clip_checkpoint,
    load_clip_state_dict, resolve_quick_gelu)


@pytest.fixture(autouse=True)
def _fresh_cache():
    clear_clip_checkpoint_cache()
    yield
    clear_clip_checkpoint_cache()


@pytest.fixture(scope='module')
def tiny_clip():
    torch.manual_seed(0)
    return open_clip.model.CLIP(**tiny_clip_arch()).eval()


def _assert_same_weights(loaded, model):
    expected = model.state_dict()
    assert set(loaded) == set(expected)
    for key, value in expected.items():
        assert torch.equal(loaded[key], value), key


def save_torchscript(model, path):
    """A TorchScript archive with the parameter names of open_clip's CLIP,
    the way OpenAI releases its weights."""
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        traced = torch.jit.trace(
            model.eval(),
            (torch.randn(1, 3, 64, 64), torch.zeros(1, 77, dtype=torch.long)),
            check_trace=False)
    traced.save(str(path))


def test_plain_state_dict(tmp_path, tiny_clip):
    path = tmp_path / 'clip.bin'
    torch.save(tiny_clip.state_dict(), path)
    checkpoint = load_clip_checkpoint(str(path))
    assert checkpoint.file_format == 'torch'
    assert not checkpoint.is_openai
    _assert_same_weights(checkpoint.state_dict, tiny_clip)


def test_wrapped_training_checkpoint(tmp_path, tiny_clip):
    path = tmp_path / 'epoch_3.pt'
    wrapped = {f'module.{k}': v for k, v in tiny_clip.state_dict().items()}
    torch.save({'epoch': 3, 'name': 'run', 'state_dict': wrapped}, path)
    _assert_same_weights(load_clip_state_dict(str(path)), tiny_clip)


def test_safetensors(tmp_path, tiny_clip):
    path = tmp_path / 'clip.safetensors'
    save_file({
        k: v.contiguous()
        for k, v in tiny_clip.state_dict().items()
    }, str(path))
    checkpoint = load_clip_checkpoint(str(path))
    assert checkpoint.file_format == 'safetensors'
    _assert_same_weights(checkpoint.state_dict, tiny_clip)


def test_torchscript_archive(tmp_path, tiny_clip):
    path = tmp_path / 'ViT-tiny.pt'
    save_torchscript(tiny_clip, path)
    checkpoint = load_clip_checkpoint(str(path))
    assert checkpoint.file_format == 'torchscript'
    assert checkpoint.is_openai
    loaded = {
        k: v
        for k, v in checkpoint.state_dict.items() if k != 'attn_mask'
    }
    _assert_same_weights(loaded, tiny_clip)


def test_half_precision_weights_become_fp32(tmp_path, tiny_clip):
    path = tmp_path / 'half.pt'
    torch.save({k: v.half() for k, v in tiny_clip.state_dict().items()}, path)
    state_dict = load_clip_state_dict(str(path))
    assert all(v.dtype == torch.float32 for v in state_dict.values())


def test_cache_by_path_and_mtime(tmp_path, tiny_clip):
    path = tmp_path / 'clip.pt'
    torch.save(tiny_clip.state_dict(), path)
    first = load_clip_checkpoint(str(path))
    assert load_clip_checkpoint(str(path)) is first
    stat = os.stat(path)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    second = load_clip_checkpoint(str(path))
    assert second is not first
    clear_clip_checkpoint_cache()
    assert load_clip_checkpoint(str(path)) is not second


def test_missing_file_points_to_docs(tmp_path):
    path = tmp_path / 'nowhere' / 'ViT-B-16.pt'
    with pytest.raises(FileNotFoundError) as error:
        load_clip_checkpoint(str(path))
    assert str(path) in str(error.value)
    assert 'docs/get_started.md' in str(error.value)


def test_unreadable_and_non_dict_files(tmp_path):
    garbage = tmp_path / 'garbage.pt'
    garbage.write_bytes(b'not a checkpoint')
    with pytest.raises(RuntimeError, match='garbage.pt'):
        load_clip_checkpoint(str(garbage))
    a_list = tmp_path / 'list.pt'
    torch.save([torch.zeros(1)], a_list)
    with pytest.raises(TypeError, match='does not hold a state dict'):
        load_clip_checkpoint(str(a_list))


def test_quick_gelu_resolution(tmp_path, tiny_clip):
    plain = tmp_path / 'plain.pt'
    torch.save(tiny_clip.state_dict(), plain)
    openai_like = tmp_path / 'openai.pt'
    torch.save(
        dict(
            tiny_clip.state_dict(),
            input_resolution=torch.tensor(64),
            context_length=torch.tensor(77),
            vocab_size=torch.tensor(49408)), openai_like)
    archive = tmp_path / 'archive.pt'
    save_torchscript(tiny_clip, archive)

    assert resolve_quick_gelu('auto', load_clip_checkpoint(str(plain))) \
        is False
    assert resolve_quick_gelu('auto',
                              load_clip_checkpoint(str(openai_like))) is True
    assert resolve_quick_gelu('auto', load_clip_checkpoint(str(archive))) \
        is True
    assert resolve_quick_gelu('auto') is False
    assert resolve_quick_gelu('auto', None, {'quick_gelu': True}) is True
    assert resolve_quick_gelu(False,
                              load_clip_checkpoint(str(archive))) is False
    with pytest.raises(ValueError, match='quick_gelu'):
        resolve_quick_gelu('yes')


def test_tower_extraction(tiny_clip):
    state_dict = dict(tiny_clip.state_dict(), input_resolution=torch.ones(1))
    visual = extract_visual_state_dict(state_dict)
    assert set(visual) == set(tiny_clip.visual.state_dict())
    text = extract_text_state_dict(state_dict)
    assert 'token_embedding.weight' in text and 'text_projection' in text
    assert not any(k.startswith('visual.') for k in text)
    assert 'logit_scale' not in text and 'input_resolution' not in text
    # CustomTextCLIP layout
    custom = {'text.' + k: v for k, v in text.items()}
    custom['visual.proj'] = state_dict['visual.proj']
    assert set(extract_text_state_dict(custom)) == set(text)


def test_mismatch_error_lists_keys(tiny_clip):
    tower = tiny_clip.visual
    state_dict = dict(tower.state_dict())
    state_dict.pop('conv1.weight')
    state_dict['proj'] = torch.zeros(3, 3)
    for index in range(25):
        state_dict[f'extra.{index}'] = torch.zeros(1)
    with pytest.raises(CLIPCheckpointMismatchError) as error:
        check_state_dict_fits(tower, state_dict, '/x/clip.pt', 'visual',
                              'tiny')
    message = str(error.value)
    assert '/x/clip.pt' in message and "'tiny'" in message
    assert 'missing keys: conv1.weight' in message
    assert 'extra.19' in message and 'extra.20' not in message
    assert '(5 more)' in message
    assert 'proj: checkpoint (3, 3) vs model (128, 128)' in message
    state_dict = dict(tower.state_dict())
    state_dict.pop('ln_post.bias')
    with pytest.raises(CLIPCheckpointMismatchError, match='ln_post.bias'):
        check_state_dict_fits(tower, state_dict, 'f', 'visual')
    check_state_dict_fits(tower, tower.state_dict(), 'f', 'visual')


def test_load_checkpoint_and_quick_gelu_reads_the_file_it_resolves_for(
        tmp_path, tiny_clip):
    """The towers' shared first step: no file -> (None, auto gives False);
    an OpenAI-style file -> its checkpoint and QuickGELU; an explicit
    setting wins. A helper that ignored ``pretrained`` or resolved against
    another checkpoint would fail here."""
    from mmreid_text.models.utils import load_checkpoint_and_quick_gelu
    assert load_checkpoint_and_quick_gelu(None, 'auto', {},
                                          'T') == (None, False)
    assert load_checkpoint_and_quick_gelu(None, 'auto', {'quick_gelu': True},
                                          'T') == (None, True)
    openai_like = tmp_path / 'openai.pt'
    torch.save(
        dict(
            tiny_clip.state_dict(),
            input_resolution=torch.tensor(64),
            context_length=torch.tensor(77),
            vocab_size=torch.tensor(49408)), openai_like)
    checkpoint, quick = load_checkpoint_and_quick_gelu(
        str(openai_like), 'auto', {}, 'T')
    assert checkpoint is load_clip_checkpoint(str(openai_like))
    assert quick is True
    assert load_checkpoint_and_quick_gelu(str(openai_like), False, {},
                                          'T')[1] is False
