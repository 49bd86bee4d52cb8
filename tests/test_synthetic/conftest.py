# Copyright (c) mmreid_text contributors. All rights reserved.
import os
import os.path as osp

import pytest

from mmreid_text.synthetic import make_synthetic

#: A small RGBNT201 set: 3 train ids, 12 test ids, 4 frames per camera.
SMALL_RGBNT201 = dict(
    num_train_ids=3, num_test_ids=12, images_per_camera=4, seed=0)
#: Tiny sets of every layout (fast; used by the loader and stream tests).
TINY = dict(
    RGBNT201=dict(num_train_ids=2, num_test_ids=2, images_per_camera=2),
    RGBNT100=dict(num_train_ids=3, num_test_ids=3),
    MSVR310=dict(num_train_ids=3, num_test_ids=4, num_query_ids=2),
    WMVEID863=dict(num_train_ids=3, num_test_ids=3),
    MarketMM=dict(
        num_train_ids=3, num_test_ids=3, num_distractors=2, num_junk=2),
    HITSZVCM=dict(
        num_train_ids=2,
        num_test_ids=3,
        tracklets_per_modality=1,
        frames_per_tracklet=12),
    BUPTCampus=dict(
        num_train_ids=2,
        num_auxiliary_ids=1,
        num_test_ids=2,
        cameras_per_id=2,
        frames_per_tracklet=3),
    SYSUMM01=dict(
        num_train_ids=3, num_val_ids=1, num_test_ids=2, images_per_camera=1),
    RegDB=dict(num_train_ids=3, num_test_ids=2, images_per_id=2, num_trials=2),
)
PERSON_SIZE = (64, 32)
VEHICLE_SIZE = (32, 64)


def generate_tiny(name, root, seed=0, **overrides):
    """A tiny set of layout ``name`` under ``root``."""
    from mmreid_text.synthetic import SYNTHETIC_LAYOUTS
    person = SYNTHETIC_LAYOUTS[name].subject != 'vehicle'
    return make_synthetic(
        name,
        str(root),
        seed=seed,
        img_size=PERSON_SIZE if person else VEHICLE_SIZE,
        **dict(TINY[name], **overrides))


def all_files(folder):
    """``{relative path: bytes}`` of every file below ``folder``."""
    found = {}
    for dirpath, _, files in os.walk(folder):
        for name in files:
            path = osp.join(dirpath, name)
            with open(path, 'rb') as f:
                found[osp.relpath(path, folder)] = f.read()
    return found


@pytest.fixture(scope='session')
def small_rgbnt201(tmp_path_factory):
    """Stats of :data:`SMALL_RGBNT201` generated once (256x128 images)."""
    root = str(tmp_path_factory.mktemp('synthetic_rgbnt201'))
    return make_synthetic('RGBNT201', root, **SMALL_RGBNT201)
