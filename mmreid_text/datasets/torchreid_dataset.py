# Copyright (c) mmreid_text contributors. All rights reserved.
"""torchreid's single-modality image datasets as mmreid_text datasets."""
import os.path as osp
from typing import List, Optional, Sequence, Tuple

from mmreid_text.registry import DATASETS
from mmreid_text.utils.torchreid_compat import torchreid_image_datasets
from .base_reid_dataset import BaseReIDDataset, ReIDSample

TORCHREID_HINT = ('See docs/torchreid.md for the folder layout torchreid '
                  'expects.')


class TorchreidDatasetMissingError(FileNotFoundError):
    """The dataset folder is missing; torchreid would download it."""


def check_dataset_folder(dataset_dir: str,
                         dataset_url: Optional[str] = None) -> None:
    """Raise :class:`TorchreidDatasetMissingError` if the folder is
    missing (where torchreid would download ``dataset_url``)."""
    if not osp.exists(dataset_dir):
        raise TorchreidDatasetMissingError(
            f'TorchreidImageDataset: "{dataset_dir}" does not exist. '
            'mmreid_text never downloads data (torchreid would fetch '
            f'{dataset_url or "nothing: it is prepared by hand"}); put the '
            f'benchmark there yourself. {TORCHREID_HINT}')


def _no_download(self, dataset_dir: str, dataset_url: Optional[str]) -> None:
    """Replaces torchreid's ``Dataset.download_dataset``: never fetch."""
    check_dataset_folder(dataset_dir, dataset_url)


@DATASETS.register_module()
class TorchreidImageDataset(BaseReIDDataset):
    """A torchreid image dataset (Market-1501, DukeMTMC-reID, MSMT17...).

    torchreid's own parser reads the files (``torchreid.data.datasets``,
    including datasets added with ``torchreid.data.register_image_dataset``)
    and this wrapper turns its ``(img_path, pid, camid, dsetid)`` tuples
    into mmreid_text info dicts with ONE modality, so every model and
    pipeline of the package runs on them unchanged::

        {'img_path': {'rgb': path}, 'modalities': ('rgb', ),
         'modality': 'rgb', 'pid': int, 'camid': int,
         'is_query': bool, 'is_gallery': bool, ...}

    Nothing is downloaded: torchreid's constructors fetch the data when
    their folder is missing; here a missing folder raises
    :class:`TorchreidDatasetMissingError` naming it instead.

    Identities and cameras are torchreid's: the ``train`` split holds
    torchreid's relabelled ids (then relabelled to ``0..N-1`` in sorted
    order, which keeps them), ``query`` / ``gallery`` their raw ids,
    ``camid`` is 0-based; torchreid drops the junk images (Market-1501
    pid -1). Samples are sorted by path in each part (torchreid lists
    folders with ``glob``, in file-system order).

    Args:
        name: torchreid dataset name (``'market1501'``, ``'dukemtmcreid'``,
            ``'msmt17'``, ``'cuhk03'``...).
        data_root: torchreid's ``root``: the folder that holds the dataset
            folder (``<data_root>/market1501/Market-1501-v15.09.15/``,
            ``<data_root>/dukemtmc-reid/DukeMTMC-reID/``...).
        split: ``'train'``, ``'query'``, ``'gallery'`` or ``'test'``
            (query entries followed by gallery entries, ``is_query`` /
            ``is_gallery`` set: what ``ReIDMetric`` evaluates).
        modality: Name of the one modality (default ``'rgb'``; a model
            built for this data has ``modalities=(modality, )``).
        dataset_kwargs: Extra arguments of the torchreid dataset class
            (``split_id=0``, ``cuhk03_labeled=True``,
            ``market1501_500k=True``...).
        **kwargs: :class:`BaseReIDDataset` arguments (``pipeline``,
            ``holdout``, ``relabel``, ``check_files``...).
    """

    SPLITS = ('train', 'query', 'gallery', 'test')
    METAINFO = dict(modalities=('rgb', ), classes=('person', ))
    #: ``{split: ((torchreid part, role), ...)}``.
    PARTS = dict(
        train=(('train', 'train'), ),
        query=(('query', 'query'), ),
        gallery=(('gallery', 'gallery'), ),
        test=(('query', 'query'), ('gallery', 'gallery')))

    def __init__(self,
                 name: str,
                 data_root: str,
                 split: str = 'train',
                 modality: str = 'rgb',
                 dataset_kwargs: Optional[dict] = None,
                 **kwargs) -> None:
        self.name = name
        self.modality = modality
        self.dataset_kwargs = dict(dataset_kwargs or {})
        for key in ('root', 'transform', 'mode', 'verbose', 'combineall'):
            if key in self.dataset_kwargs:
                raise ValueError(
                    f'TorchreidImageDataset: dataset_kwargs may not set '
                    f'{key!r} (root is data_root; the split and pipeline '
                    'are set by this wrapper).')
        metainfo = dict(kwargs.pop('metainfo', None) or {})
        metainfo.setdefault('modalities', (modality, ))
        super().__init__(
            data_root=data_root, split=split, metainfo=metainfo, **kwargs)

    @property
    def stored_modalities(self) -> Tuple[str, ...]:
        return (self.modality, )

    def _torchreid_class(self) -> type:
        factory = torchreid_image_datasets('TorchreidImageDataset')
        if self.name not in factory:
            raise KeyError(
                f'TorchreidImageDataset: unknown torchreid dataset '
                f'{self.name!r}; choose one of {sorted(factory)} (or add '
                'yours with torchreid.data.register_image_dataset before '
                'building the dataset).')
        base = factory[self.name]
        # never download: fail on a missing folder instead
        return type(f'NoDownload{base.__name__}', (base, ),
                    dict(download_dataset=_no_download))

    def _load_torchreid(self):
        cls = self._torchreid_class()
        folder = getattr(cls, 'dataset_dir', None)
        if isinstance(folder, str):
            # some classes (University1652) download without calling
            # download_dataset: check their folder first
            check_dataset_folder(
                osp.join(self.data_root, folder),
                getattr(cls, 'dataset_url', None))
        try:
            return cls(
                root=self.data_root, verbose=False, **self.dataset_kwargs)
        except TorchreidDatasetMissingError:
            raise
        except (RuntimeError, IndexError, AssertionError, AttributeError,
                FileNotFoundError) as err:
            raise RuntimeError(
                f'TorchreidImageDataset({self.name!r}): torchreid could not '
                f'read "{self.data_root}": {type(err).__name__}: {err}. '
                f'{TORCHREID_HINT}') from err

    def parse_split(self, split: str) -> List[ReIDSample]:
        dataset = self._load_torchreid()
        samples = []
        for part, role in self.PARTS[split]:
            items = sorted(getattr(dataset, part), key=lambda t: str(t[0]))
            for item in items:
                path, pid, camid = item[0], item[1], item[2]
                if not isinstance(path, str):
                    raise TypeError(
                        f'TorchreidImageDataset: {self.name!r} is not an '
                        f'image dataset (sample paths {type(path).__name__})'
                        '; video datasets are not supported.')
                samples.append(
                    ReIDSample(
                        img_path={self.modality: path},
                        pid=int(pid),
                        camid=int(camid),
                        is_query=role == 'query',
                        is_gallery=role == 'gallery'))
        return samples

    @classmethod
    def available(cls) -> Sequence[str]:
        """Names of torchreid's image datasets (``name`` values)."""
        return sorted(torchreid_image_datasets('TorchreidImageDataset'))
