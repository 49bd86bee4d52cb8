# Copyright (c) mmreid_text contributors. All rights reserved.
"""An optional cache of pre-resized images, rebuilt when stale.

Decoding full-size JPEGs and resizing them dominates the data loading of
image benchmarks such as SYSU-MM01 (AGW and its followers pre-resize the
training set once into ``.npy`` arrays for that reason). :class:`ResizeCache`
does the same with one file per image, so every split, modality and
pipeline keeps working unchanged::

    <cache_dir>/
      cache_manifest.json          # parameters + one entry per cached image
      cam1/0001/0001.jpg.png       # <path relative to data_root>.<format>

Each entry records the source's absolute path, ``st_mtime_ns`` and size in
bytes; an entry is rebuilt when any of them changed (or its file is gone),
and every entry is rebuilt when the parameters (``size``,
``interpolation``, ``format``) differ from the manifest's. Images are
converted to 3-channel RGB (grey infrared JPEGs included) before resizing.
The dataset then points ``img_path`` at the cached files; ``rel_img_path``
stays the original relative path, so caption files keep matching.
"""
import json
import os
import os.path as osp
from concurrent.futures import ThreadPoolExecutor
from typing import Dict, List, Optional, Sequence, Tuple

from mmengine.dist import barrier, get_dist_info
from mmengine.logging import print_log
from PIL import Image

CACHE_FORMAT = 'mmreid_text.resize_cache.v1'
MANIFEST_NAME = 'cache_manifest.json'
INTERPOLATIONS = dict(
    nearest=Image.NEAREST,
    bilinear=Image.BILINEAR,
    bicubic=Image.BICUBIC,
    lanczos=Image.LANCZOS)
FORMATS = ('png', 'jpg')
CACHE_KEYS = ('size', 'cache_dir', 'interpolation', 'format', 'workers')


def _source_key(path: str) -> List:
    st = os.stat(path)
    return [osp.abspath(path), st.st_mtime_ns, st.st_size]


class ResizeCache:
    """Resized copies of images under ``cache_dir``.

    Args:
        cache_dir (str): Folder of the cache (created if needed).
        size (tuple): ``(H, W)`` of the cached images, e.g. ``(288, 144)``.
        interpolation (str): ``'lanczos'`` (default; PIL's ANTIALIAS, as
            AGW's ``pre_process_sysu.py``), ``'bicubic'``, ``'bilinear'`` or
            ``'nearest'``.
        format (str): ``'png'`` (lossless, default) or ``'jpg'`` (quality
            95, about 4x smaller).
        workers (int): Threads that resize. Defaults to 4.
    """

    def __init__(self,
                 cache_dir: str,
                 size: Sequence[int],
                 interpolation: str = 'lanczos',
                 format: str = 'png',
                 workers: int = 4) -> None:
        try:
            height, width = (int(v) for v in size)
        except (TypeError, ValueError):
            height = width = 0
        if height < 1 or width < 1:
            raise ValueError('ResizeCache: size must be (H, W) with positive '
                             f'integers, got {size!r}.')
        if interpolation not in INTERPOLATIONS:
            raise ValueError(f'ResizeCache: interpolation must be one of '
                             f'{sorted(INTERPOLATIONS)}, got '
                             f'{interpolation!r}.')
        if format not in FORMATS:
            raise ValueError(f'ResizeCache: format must be one of {FORMATS}, '
                             f'got {format!r}.')
        if not cache_dir:
            raise ValueError('ResizeCache: cache_dir must be a folder path.')
        self.cache_dir = str(cache_dir)
        self.size = (height, width)
        self.interpolation = interpolation
        self.format = format
        self.workers = max(1, int(workers))

    @property
    def params(self) -> Dict:
        """What the cached pixels depend on (besides the sources)."""
        return dict(
            size=list(self.size),
            interpolation=self.interpolation,
            format=self.format)

    @property
    def manifest_path(self) -> str:
        return osp.join(self.cache_dir, MANIFEST_NAME)

    def cached_path(self, rel_path: str) -> str:
        """The cached file of an image (``rel_path`` relative to the data
        root)."""
        return osp.join(self.cache_dir, f'{rel_path}.{self.format}')

    def _read_manifest(self) -> Dict[str, List]:
        """Entries of a manifest with the same parameters, else ``{}``."""
        if not osp.isfile(self.manifest_path):
            return {}
        try:
            with open(self.manifest_path, encoding='utf-8') as f:
                data = json.load(f)
        except (OSError, ValueError):
            return {}
        if (not isinstance(data, dict) or data.get('format') != CACHE_FORMAT
                or data.get('params') != self.params):
            return {}
        entries = data.get('entries')
        return entries if isinstance(entries, dict) else {}

    def _write_manifest(self, entries: Dict[str, List]) -> None:
        tmp = self.manifest_path + '.tmp'
        with open(tmp, 'w', encoding='utf-8') as f:
            json.dump(
                dict(
                    format=CACHE_FORMAT,
                    params=self.params,
                    entries=dict(sorted(entries.items()))),
                f,
                indent=0)
        os.replace(tmp, self.manifest_path)

    def _resize(self, source: str, target: str) -> None:
        os.makedirs(osp.dirname(target), exist_ok=True)
        try:
            with Image.open(source) as img:
                img = img.convert('RGB').resize(
                    self.size[::-1], INTERPOLATIONS[self.interpolation])
        except OSError as err:
            raise OSError(
                f'ResizeCache: cannot read "{source}" ({err}); '
                'restore the file from the original archive.') from err
        tmp = f'{target}.tmp.{self.format}'
        if self.format == 'png':
            img.save(tmp, format='PNG')
        else:
            img.save(tmp, format='JPEG', quality=95, subsampling=0)
        os.replace(tmp, target)

    def build(self, data_root: str,
              rel_paths: Sequence[str]) -> Tuple[int, int]:
        """Bring the cached copies of ``rel_paths`` up to date.

        Returns:
            tuple: ``(rebuilt, reused)`` image counts.
        """
        os.makedirs(self.cache_dir, exist_ok=True)
        entries = self._read_manifest()
        todo = []
        for rel in dict.fromkeys(rel_paths):
            key = _source_key(osp.join(data_root, rel))
            if entries.get(rel) != key or not osp.isfile(
                    self.cached_path(rel)):
                todo.append((rel, key))
        if todo:
            with ThreadPoolExecutor(self.workers) as pool:
                list(
                    pool.map(
                        lambda item: self._resize(
                            osp.join(data_root, item[0]),
                            self.cached_path(item[0])), todo))
            entries.update(todo)
            self._write_manifest(entries)
        return len(todo), len(dict.fromkeys(rel_paths)) - len(todo)


def build_resize_cache(cfg: Optional[dict], data_root: str,
                       owner: str) -> Optional[ResizeCache]:
    """A :class:`ResizeCache` from a loader's ``resize_cache`` argument.

    ``cfg``: ``dict(size=(H, W), cache_dir=None, interpolation='lanczos',
    format='png', workers=4)``; ``cache_dir`` defaults to
    ``<data_root>/resized_<H>x<W>``. None: no cache.
    """
    if cfg is None:
        return None
    if not isinstance(cfg, dict) or 'size' not in cfg:
        raise ValueError(f'{owner}: resize_cache must be a dict with at least '
                         f'size=(H, W), e.g. dict(size=(288, 144)); got '
                         f'{cfg!r}.')
    unknown = sorted(set(cfg) - set(CACHE_KEYS))
    if unknown:
        raise ValueError(f'{owner}: unknown resize_cache keys {unknown}; use '
                         f'{CACHE_KEYS}.')
    cfg = dict(cfg)
    size = cfg.pop('size')
    cache_dir = cfg.pop('cache_dir', None)
    if cache_dir is None:
        try:
            cache_dir = osp.join(data_root,
                                 'resized_{}x{}'.format(*map(int, size)))
        except (TypeError, ValueError, IndexError):
            cache_dir = osp.join(data_root, 'resized')
    return ResizeCache(cache_dir, size, **cfg)


def apply_resize_cache(cache: ResizeCache, data_list: List[dict],
                       data_root: str, owner: str) -> None:
    """Build ``cache`` for every image of ``data_list`` (rank 0; the other
    ranks wait) and point each ``img_path`` at the cached file, in place.
    """
    rel_paths = [
        rel for info in data_list for rel in info['rel_img_path'].values()
    ]
    rank, _ = get_dist_info()
    if rank == 0:
        rebuilt, reused = cache.build(data_root, rel_paths)
        print_log(
            f'{owner}: resize cache "{cache.cache_dir}" '
            f'({cache.size[0]}x{cache.size[1]}, {cache.format}): rebuilt '
            f'{rebuilt}, up to date {reused}.',
            logger='current')
    barrier()
    for info in data_list:
        info['img_path'] = {
            mod: cache.cached_path(rel)
            for mod, rel in info['rel_img_path'].items()
        }
