# Copyright (c) mmreid_text contributors. All rights reserved.
"""The RegDB layout (visible-thermal person images, 10 trials)."""
import os
import os.path as osp
from typing import Dict, List, Tuple

from PIL import Image

from .base import (FrameSpec, SyntheticLayout, check_int, pick_sorted,
                   register_layout)
from .hitsz_vcm import IR_SPECTRA, check_choice

#: RegDB's loader accepts training labels 0..205.
MAX_TRAIN_IDS = 206
GENDERS = ('female', 'male')
VIEWS = ('front', 'back')


@register_layout
class RegDBLayout(SyntheticLayout):
    """``RegDB/{Visible,Thermal}/<id>/<gender>_<view>_<v|t>_<frame5>_<id>
    .bmp`` + ``idx/{train,test}_{visible,thermal}_<t>.txt``, t = 1..T.

    RegDB's dual camera takes a visible and a thermal image at once, so
    every sample is one render written twice (``Visible`` and ``Thermal``,
    same frame number; thermal rendered as ``ir_spectrum``, by default TIR:
    grey, no colours and no patterns), BMP files like the release. All
    identities (folders ``1..N``, N = train + test ids) are written once;
    trial ``t`` draws ``num_train_ids`` of them for training (its own plan
    stream) and tests on the others. List lines are ``<relative path>
    <label>``, id after id, labels 0-based in sorted id order within the
    trial's train (or test) ids; the visible and thermal lists of a split
    carry the same label sequence, as in the release. Gender and view in
    the file names follow the folder id and only decorate the name (the
    loader reads labels, never names).

    Captions of every image go to one file, ``captions/all.json`` (the
    images of a trial's training split differ from trial to trial).

    Args:
        num_train_ids: Training ids of each trial (at most 206).
        num_test_ids: Test ids of each trial.
        images_per_id: Visible (and as many thermal) images per id.
        num_trials: Trials written, 1..10.
        ir_spectrum: ``'tir'`` (default; RegDB's camera is thermal) or
            ``'nir'``.
    """
    name = 'RegDB'
    dataset_folder = 'RegDB'
    loader = 'RegDB'
    subject = 'person'
    stream_id = 9
    default_img_size = (128, 64)
    modalities = ('vis', 'ir')
    rendered = {'vis': 'rgb', 'ir': 'tir'}
    split_folders = ('all', )
    modality_dirs = {'vis': 'Visible', 'ir': 'Thermal'}
    modality_codes = {'vis': 'v', 'ir': 't'}
    list_words = {'vis': 'visible', 'ir': 'thermal'}
    _plan_seed = None

    def __init__(self,
                 num_train_ids: int = 6,
                 num_test_ids: int = 4,
                 images_per_id: int = 4,
                 num_trials: int = 2,
                 ir_spectrum: str = 'tir') -> None:
        self._set_params(
            num_train_ids=check_int('num_train_ids', num_train_ids, 1,
                                    MAX_TRAIN_IDS,
                                    'RegDB trains on labels 0..205.'),
            num_test_ids=check_int('num_test_ids', num_test_ids, 1, 99999),
            images_per_id=check_int('images_per_id', images_per_id, 1, 9999),
            num_trials=check_int('num_trials', num_trials, 1, 10),
            ir_spectrum=check_choice('ir_spectrum', ir_spectrum, IR_SPECTRA))
        self.rendered = {'vis': 'rgb', 'ir': ir_spectrum}
        self.index_files = tuple(f'idx/{split}_{word}_{t}.txt'
                                 for t in range(1, num_trials + 1)
                                 for split in ('train', 'test')
                                 for word in self.list_words.values())

    @property
    def num_ids(self) -> int:
        return self.num_train_ids + self.num_test_ids

    def trial_ids(self, seed: int, trial: int) -> Dict[str, List[int]]:
        """``{'train': ids, 'test': ids}`` (sorted) of ``trial``."""
        ids = range(1, self.num_ids + 1)
        train = pick_sorted(self.rng(seed, 2, trial), ids, self.num_train_ids)
        return dict(train=train, test=[i for i in ids if i not in train])

    def plan(self, seed: int) -> List[FrameSpec]:
        # write_index gets the plan only: it draws the trials again
        self._plan_seed = seed
        specs = []
        for pid in range(1, self.num_ids + 1):
            first = int(
                self.rng(seed, 1, pid).integers(1,
                                                100000 - self.images_per_id))
            specs.extend(
                FrameSpec('all', 'test', pid, 1, first + i)
                for i in range(self.images_per_id))
        return specs

    def file_name(self, spec: FrameSpec, modality: str = 'vis') -> str:
        gender = GENDERS[spec.pid % 2]
        view = VIEWS[spec.pid // 2 % 2]
        return (f'{gender}_{view}_{self.modality_codes[modality]}_'
                f'{spec.index:05d}_{spec.pid}.bmp')

    def rel_paths(self, spec: FrameSpec) -> Dict[str, str]:
        return {
            mod: f'{sub}/{spec.pid}/{self.file_name(spec, mod)}'
            for mod, sub in self.modality_dirs.items()
        }

    def caption_file(self, folder: str) -> str:
        return 'captions/all.json'

    def save_image(self, path: str, image) -> None:
        Image.fromarray(image, mode='RGB').save(path, format='BMP')

    def managed_paths(self) -> Tuple[str, ...]:
        return ('Thermal', 'Visible', 'captions', 'idx')

    def write_index(self, dataset_dir: str, specs: List[FrameSpec]) -> None:
        if self._plan_seed is None:
            raise RuntimeError('RegDB layout: call plan() before '
                               'write_index().')
        idx = osp.join(dataset_dir, 'idx')
        os.makedirs(idx, exist_ok=True)
        by_pid: Dict[int, List[FrameSpec]] = {}
        for spec in specs:
            by_pid.setdefault(spec.pid, []).append(spec)
        for trial in range(1, self.num_trials + 1):
            for split, ids in self.trial_ids(self._plan_seed, trial).items():
                for mod, word in self.list_words.items():
                    lines = [
                        f'{self.rel_paths(s)[mod]} {label}'
                        for label, pid in enumerate(ids) for s in by_pid[pid]
                    ]
                    path = osp.join(idx, f'{split}_{word}_{trial}.txt')
                    with open(path, 'w') as f:
                        f.writelines(line + '\n' for line in lines)
