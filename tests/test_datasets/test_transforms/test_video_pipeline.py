# Copyright (c) mmreid_text contributors. All rights reserved.
"""The VI video train pipeline on a real tracklet of image files."""
import mmcv
import numpy as np
import torch
from mmengine.dataset import Compose
from PIL import Image

from mmreid_text.utils import register_all_modules

register_all_modules()

H, W, PAD, N, T = 16, 8, 2, 8, 4


def _tracklet(tmp_path):
    rng = np.random.default_rng(0)
    frames, paths = [], []
    for f in range(N):
        arr = rng.integers(0, 256, (H, W, 3), dtype=np.uint8)
        p = tmp_path / 'vis' / f'{f:02d}.png'
        p.parent.mkdir(exist_ok=True)
        Image.fromarray(arr).save(p)
        frames.append(arr)
        paths.append(str(p))
    info = dict(
        img_path={'vis': paths},
        rel_img_path={'vis': [f'vis/{f:02d}.png' for f in range(N)]},
        modalities=('vis', ),
        modality='vis',
        stored_modalities=('vis', 'ir'),
        pid=3,
        camid=1,
        scene_id=-1,
        is_query=False,
        is_gallery=False,
        num_frames_total=N,
        sample_idx=0)
    return info, frames


def _candidates(src, out):
    """Every (flip, top, left, channel) turning ``src`` into ``out``."""
    src = mmcv.imresize(src, (W, H))  # Resize to its own size
    padded = np.zeros((H + 2 * PAD, W + 2 * PAD, 3), np.uint8)
    padded[PAD:PAD + H, PAD:PAD + W] = src
    found = set()
    for top in range(2 * PAD + 1):
        for left in range(2 * PAD + 1):
            crop = padded[top:top + H, left:left + W]
            for flip in (False, True):
                img = crop[:, ::-1] if flip else crop
                for c in range(3):
                    same = [(out[..., k] == img[..., c]).all()
                            for k in range(3)]
                    if all(same):
                        found.add((flip, top, left, c))
    return found


def test_video_train_pipeline_shares_one_decision_per_tracklet(tmp_path):
    info, frames = _tracklet(tmp_path)
    pipeline = Compose([
        dict(type='SampleFrames', num_frames=T, mode='chunk_first'),
        dict(type='LoadMultiModalImages'),
        dict(
            type='BroadcastToModalities',
            transforms=[
                dict(type='Resize', scale=(W, H)),
                dict(type='RandomCrop', crop_size=(H, W), padding=PAD),
                dict(type='RandomFlip', prob=0.5, direction='horizontal'),
            ]),
        dict(type='ChannelExchange', prob=1.0),
        dict(type='PackReIDInputs', video=True),
    ])
    np.random.seed(0)
    decisions = []
    for _ in range(8):
        out = pipeline(dict(info))
        x = out['inputs']
        assert x.shape == (1, T, 3, H, W) and x.dtype == torch.uint8
        meta = out['data_samples'].metainfo
        # n = 8, T = 4: chunks of 2, first frame of each
        assert meta['frame_inds'] == [0, 2, 4, 6]
        assert meta['img_path']['vis'] == [
            info['img_path']['vis'][i] for i in (0, 2, 4, 6)
        ]
        assert meta['modality'] == 'vis' and meta['num_frames'] == T
        assert meta['modalities'] == ('vis', ) and meta['pid'] == 3
        per_frame = [
            _candidates(frames[i], x[0, t].permute(1, 2, 0).numpy())
            for t, i in enumerate(meta['frame_inds'])
        ]
        shared = set.intersection(*per_frame)
        # one crop, one flip and one channel for all T frames
        assert len(shared) == 1, per_frame
        decisions.append(shared.pop())
    assert len(set(decisions)) > 1  # and the decision is random


def test_video_test_pipeline_is_deterministic(tmp_path):
    info, frames = _tracklet(tmp_path)
    pipeline = Compose([
        dict(type='SampleFrames', num_frames=T, mode='uniform'),
        dict(type='LoadMultiModalImages'),
        dict(
            type='BroadcastToModalities',
            transforms=[dict(type='Resize', scale=(W, H))]),
        dict(type='PackReIDInputs', video=True),
    ])
    out = pipeline(dict(info))
    assert out['data_samples'].metainfo['frame_inds'] == [0, 2, 4, 6]
    expect = np.stack([frames[i] for i in (0, 2, 4, 6)]).transpose(0, 3, 1, 2)
    assert torch.equal(out['inputs'][0], torch.from_numpy(expect))


def test_pack_video_keys_are_harmless_for_images():
    from mmreid_text.datasets.transforms import PackReIDInputs
    res = dict(
        img=[np.zeros((4, 2, 3), np.uint8)], modalities=('rgb', ), pid=1)
    out = PackReIDInputs()(dict(res))
    assert out['inputs'].shape == (1, 3, 4, 2)
    meta = out['data_samples'].metainfo
    assert 'modality' not in meta and 'frame_inds' not in meta
    assert PackReIDInputs(video=True)(dict(res))['inputs'].shape == (1, 1, 3,
                                                                     4, 2)
