# Copyright (c) mmreid_text contributors. All rights reserved.
import os.path as osp
from typing import List, Optional

from mmreid_text.registry import DATASETS
from .base_reid_dataset import DOCS_HINT, BaseReIDDataset, ReIDSample
from .resize_cache import apply_resize_cache, build_resize_cache


@DATASETS.register_module()
class RegDB(BaseReIDDataset):
    """RegDB visible-thermal person ReID (images, 10 trials).

    Reads the released layout unchanged::

        data_root/                        # e.g. data/RegDB
          Visible/<id>/<name>.bmp   Thermal/<id>/<name>.bmp
          idx/train_visible_<t>.txt  train_thermal_<t>.txt
              test_visible_<t>.txt   test_thermal_<t>.txt     # t = 1..10

    Each list line is ``<path relative to data_root> <label>`` (e.g.
    ``Visible/1/female_back_v_06583_1.bmp 0``); the label is the only
    identity source (names are not parsed). Samples of the visible list
    get modality ``'vis'`` and camid 1, those of the thermal list ``'ir'``
    and camid 2 (as ``eval_regdb``), visible list first, each in file
    order.

    ``trial`` (1..10) selects the lists: one model is trained and tested
    per trial and the results are averaged over the trials. ``train``:
    labels must lie in ``[0, num_train_classes - 1]`` (206 classes:
    ``[0, 205]``), then relabelled in sorted order (the identity map for
    the released lists). ``test``: every
    sample is query *and* gallery (``is_query`` and ``is_gallery``); the
    ``'regdb'`` protocol takes the visible or thermal ones as queries by
    direction (``vis2ir``, ``ir2vis``); labels stay as written.

    Args:
        data_root (str): The ``RegDB`` folder (holding ``idx/``).
        split (str): ``'train'`` or ``'test'``.
        trial (int): Which of the 10 splits, 1..10. Defaults to 1.
        num_train_classes (int): Training labels must be below this.
            Defaults to 206.
        resize_cache (dict, optional): As in :class:`SYSUMM01`.
        **kwargs: See :class:`BaseReIDDataset`.
    """

    SPLITS = ('train', 'test')
    METAINFO = dict(modalities=('vis', 'ir'), classes=('person', ))
    #: modality -> (list-file word, camid, image folder of the release).
    LISTS = dict(vis=('visible', 1, 'Visible'), ir=('thermal', 2, 'Thermal'))
    NUM_TRIALS = 10

    def __init__(self,
                 data_root: str,
                 split: str = 'train',
                 trial: int = 1,
                 num_train_classes: int = 206,
                 resize_cache: Optional[dict] = None,
                 **kwargs) -> None:
        if (isinstance(trial, bool) or not isinstance(trial, int)
                or not 1 <= trial <= self.NUM_TRIALS):
            raise ValueError(f'RegDB: trial must be an integer in 1..'
                             f'{self.NUM_TRIALS} (idx/*_<trial>.txt), got '
                             f'{trial!r}.')
        if (isinstance(num_train_classes, bool)
                or not isinstance(num_train_classes, int)
                or num_train_classes < 1):
            raise ValueError('RegDB: num_train_classes must be an int >= 1, '
                             f'got {num_train_classes!r}.')
        self.trial = trial
        self.num_train_classes = num_train_classes
        self.resize_cache = build_resize_cache(resize_cache, data_root,
                                               'RegDB')
        super().__init__(data_root=data_root, split=split, **kwargs)

    def list_file(self, split: str, modality: str) -> str:
        """Path of ``idx/<split>_<visible|thermal>_<trial>.txt``."""
        word = self.LISTS[modality][0]
        return osp.join(self.data_root, 'idx',
                        f'{split}_{word}_{self.trial}.txt')

    def _read_list(self, split: str, modality: str) -> List[ReIDSample]:
        path = self.list_file(split, modality)
        if not osp.isfile(path):
            raise FileNotFoundError(
                f'RegDB: "{path}" does not exist; data_root must hold idx/ '
                'with {train,test}_{visible,thermal}_<trial>.txt for trials '
                f'1..{self.NUM_TRIALS} from the RegDB release. {DOCS_HINT}')
        word, camid, image_dir = self.LISTS[modality]
        other = [v[2] for m, v in self.LISTS.items() if m != modality]
        train = split == 'train'
        samples = []
        with open(path, encoding='utf-8') as f:
            lines = [(i, t.strip()) for i, t in enumerate(f, 1) if t.strip()]
        if not lines:
            raise ValueError(f'RegDB: "{path}" lists no image. {DOCS_HINT}')
        for line, text in lines:
            where = f'{path}, line {line}'
            fields = text.rsplit(maxsplit=1)
            if len(fields) != 2 or not fields[1].lstrip('-').isdigit():
                raise ValueError(
                    f'RegDB: {where}: expected "<relative path> <integer '
                    f'label>", e.g. "{image_dir}/1/x.bmp 0", got "{text}". '
                    f'Restore the file from the release. {DOCS_HINT}')
            rel, label = fields[0].replace('\\', '/'), int(fields[1])
            if train and not 0 <= label < self.num_train_classes:
                raise ValueError(
                    f'RegDB: {where}: training label {label} is outside '
                    f'[0, {self.num_train_classes - 1}] (num_train_classes='
                    f'{self.num_train_classes}); RegDB trains on 206 '
                    'identities with labels 0..205. Use the idx files of the '
                    'release or set num_train_classes.')
            if rel.split('/', 1)[0] in other:
                raise ValueError(
                    f'RegDB: {where}: the {word} list names "{rel}" under '
                    f'{other[0]}/; the visible and thermal lists are swapped '
                    f'or corrupt. {DOCS_HINT}')
            samples.append(
                ReIDSample(
                    img_path={modality: osp.join(self.data_root, rel)},
                    pid=label,
                    camid=camid,
                    is_query=not train,
                    is_gallery=not train))
        return samples

    def parse_split(self, split: str) -> List[ReIDSample]:
        return [s for m in self.LISTS for s in self._read_list(split, m)]

    def load_data_list(self) -> List[dict]:
        data_list = super().load_data_list()
        if self.resize_cache is not None:
            apply_resize_cache(self.resize_cache, data_list, self.data_root,
                               'RegDB')
        return data_list
