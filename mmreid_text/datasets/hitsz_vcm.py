# Copyright (c) mmreid_text contributors. All rights reserved.
import os.path as osp
from collections import Counter
from typing import Dict, List, Optional, Tuple

from mmengine.logging import print_log

from mmreid_text.registry import DATASETS
from .base_reid_dataset import DOCS_HINT, BaseReIDDataset, ReIDSample


class _Row:
    """One line of ``track_*_info.txt`` (1-based inclusive frame range)."""
    __slots__ = ('line', 'modality', 'start', 'end', 'pid', 'camid')

    def __init__(self, line: int, modality: str, start: int, end: int,
                 pid: int, camid: int) -> None:
        self.line, self.modality = line, modality
        self.start, self.end, self.pid, self.camid = start, end, pid, camid

    @property
    def length(self) -> int:
        return self.end - self.start + 1


@DATASETS.register_module()
class HITSZVCM(BaseReIDDataset):
    """HITSZ-VCM video visible-infrared person ReID (tracklets).

    Reads the released layout unchanged, in either folder variant::

        data_root/                          # e.g. data/HITSZ-VCM
          info/train_name.txt  info/track_train_info.txt
          info/test_name.txt   info/track_test_info.txt  info/query_IDX.txt
          <pid4>/{ir,rgb}/D<k>/<frame>.jpg             # flat (MITML, IBAN)
          Train|Test/<pid4>/{ir,rgb}/D<k>/<frame>.jpg  # split (VLD)

    ``*_name.txt`` list frame names; line ``i`` is frame ``i`` (1-based). A
    name decodes as: pid = characters 0-3, modality = character 5 (``'1'``
    -> IR, anything else -> visible), camera folder = from the first ``D``
    up to the first ``T``, file = everything after the first ``F``; e.g.
    ``0001M1D1T0001F0001.jpg`` -> ``0001/ir/D1/0001.jpg``.
    ``track_*_info.txt`` has one tracklet per line, ``modality start end
    pid camid`` (modality 1 = IR, else visible); ``start`` and ``end`` are
    1-based and inclusive (frames ``names[start - 1:end]``). The name of
    every frame must agree with its row on pid and modality.

    One sample per tracklet, one modality each (``'ir'`` or ``'vis'``),
    ``img_path = {modality: [frame paths in name-list order]}``; ``camid``
    is the row's value as written. Tracklets shorter than ``min_seq_len``
    frames are dropped (as public loaders do) and their number is logged.
    ``train`` (500 ids) is relabelled. ``test``: the rows listed in
    ``query_IDX.txt`` (1-based row numbers; the IR tracklets) are queries
    (``is_query``), every other row is a gallery entry (``is_gallery``).
    Evaluate with the ``'vcm'`` protocol (IR->visible with these roles,
    visible->IR with the roles swapped; same pid and camera ignored).

    Args:
        data_root (str): Folder holding ``info/``.
        split (str): ``'train'`` or ``'test'``.
        min_seq_len (int): Shortest tracklet kept. Defaults to 12.
        folder_layout (str): ``'auto'`` (find the first frame of the split
            under ``data_root`` or ``data_root/Train|Test``), ``'flat'`` or
            ``'split'``. Defaults to ``'auto'``.
        query_idx_line (str): ``query_IDX.txt`` with several different
            non-empty lines is an error (``'error'``, default); ``'last'``
            keeps the last one, as the public loaders do.
        **kwargs: See :class:`BaseReIDDataset`.
    """

    SPLITS = ('train', 'test')
    METAINFO = dict(modalities=('vis', 'ir'), classes=('person', ))
    SPLIT_FILES = dict(
        train=('train_name.txt', 'track_train_info.txt'),
        test=('test_name.txt', 'track_test_info.txt'))
    SPLIT_DIRS = dict(train='Train', test='Test')
    MODALITY_DIRS = dict(vis='rgb', ir='ir')
    QUERY_FILE = 'query_IDX.txt'

    def __init__(self,
                 data_root: str,
                 split: str = 'train',
                 min_seq_len: int = 12,
                 folder_layout: str = 'auto',
                 query_idx_line: str = 'error',
                 **kwargs) -> None:
        if isinstance(
                min_seq_len,
                bool) or not isinstance(min_seq_len, int) or min_seq_len < 1:
            raise ValueError('HITSZVCM: min_seq_len must be an int >= 1, got '
                             f'{min_seq_len!r}.')
        if folder_layout not in ('auto', 'flat', 'split'):
            raise ValueError("HITSZVCM: folder_layout must be 'auto', 'flat' "
                             f"or 'split', got {folder_layout!r}.")
        if query_idx_line not in ('error', 'last'):
            raise ValueError("HITSZVCM: query_idx_line must be 'error' or "
                             f"'last', got {query_idx_line!r}.")
        self.min_seq_len = min_seq_len
        self.folder_layout = folder_layout
        self.query_idx_line = query_idx_line
        #: Tracklets dropped by ``min_seq_len`` (set when the data is read).
        self.num_dropped_tracklets: Optional[int] = None
        super().__init__(data_root=data_root, split=split, **kwargs)

    # ------------------------------------------------------------------
    def _info(self, name: str) -> str:
        path = osp.join(self.data_root, 'info', name)
        if not osp.isfile(path):
            raise FileNotFoundError(
                f'HITSZVCM: "{path}" does not exist; data_root must hold '
                'info/ with train_name.txt, track_train_info.txt, '
                'test_name.txt, track_test_info.txt and query_IDX.txt. '
                f'{DOCS_HINT}')
        return path

    @staticmethod
    def _lines(path: str) -> List[Tuple[int, str]]:
        """``(1-based line number, stripped text)`` of non-empty lines."""
        with open(path, encoding='utf-8') as f:
            return [(i, t.strip()) for i, t in enumerate(f, 1) if t.strip()]

    @staticmethod
    def decode_name(name: str, where: str) -> Tuple[int, str, str]:
        """``(pid, modality, path relative to the folder of the pids)`` of
        a frame name; ``where`` (file:line) goes into the error."""
        d, t, f = name.find('D'), name.find('T'), name.find('F')
        if (len(name) < 6 or not name[:4].isdigit() or not 5 < d < t < f
                or f == len(name) - 1):
            raise ValueError(
                f'HITSZVCM: cannot decode the frame name "{name}" ({where}); '
                'names look like 0001M1D1T0001F0001.jpg (pid, M<modality>, '
                'D<camera>, T<tracklet>, F<file>). Restore the original '
                f'name list. {DOCS_HINT}')
        modality = 'ir' if name[5] == '1' else 'vis'
        rel = osp.join(name[:4], HITSZVCM.MODALITY_DIRS[modality], name[d:t],
                       name[f + 1:])
        return int(name[:4]), modality, rel

    def _read_rows(self, path: str, num_names: int) -> List[_Row]:
        rows = []
        for line, text in self._lines(path):
            where = f'{path}, line {line}'
            try:
                values = [float(v) for v in text.split()]
            except ValueError:
                values = []
            if len(values) != 5 or any(v != int(v) for v in values):
                raise ValueError(
                    f'HITSZVCM: {where}: expected 5 integers "modality start '
                    f'end pid camid", got "{text}". {DOCS_HINT}')
            mod, start, end, pid, camid = (int(v) for v in values)
            if not 1 <= start <= end <= num_names:
                raise ValueError(
                    f'HITSZVCM: {where}: frames {start}..{end} are not a '
                    f'1-based inclusive range within the {num_names} names '
                    f'of the name list. {DOCS_HINT}')
            rows.append(
                _Row(line, 'ir' if mod == 1 else 'vis', start, end, pid,
                     camid))
        return rows

    def _query_rows(self, num_rows: int) -> List[int]:
        """0-based row indices listed in ``query_IDX.txt``."""
        path = self._info(self.QUERY_FILE)
        lines = self._lines(path)
        if not lines:
            raise ValueError(f'HITSZVCM: "{path}" lists no query. {DOCS_HINT}')
        if (len({tuple(t.split())
                 for _, t in lines}) > 1 and self.query_idx_line == 'error'):
            raise ValueError(
                f'HITSZVCM: "{path}" has {len(lines)} different non-empty '
                'lines; the public loaders keep only the last one. Pass '
                "query_idx_line='last' to do the same, or keep one line.")
        line, text = lines[-1]
        try:
            rows = [int(v) for v in text.split()]
        except ValueError:
            raise ValueError(f'HITSZVCM: {path}, line {line}: expected '
                             '1-based row numbers of track_test_info.txt '
                             'separated by spaces.') from None
        bad = [r for r in rows if not 1 <= r <= num_rows]
        repeated = sorted(r for r, n in Counter(rows).items() if n > 1)
        if bad or repeated:
            raise ValueError(
                f'HITSZVCM: {path}, line {line}: row numbers must be unique '
                f'and within 1..{num_rows} (1-based rows of '
                'track_test_info.txt); ' +
                (f'out of range: {bad[:5]} ' if bad else '') +
                (f'repeated: {repeated[:5]}' if repeated else '') +
                f'. {DOCS_HINT}')
        return [r - 1 for r in rows]

    def _frame_root(self, split: str, first_rel: str, where: str) -> str:
        """The folder that holds ``<pid4>/`` for ``split``."""
        candidates = dict(
            flat=self.data_root,
            split=osp.join(self.data_root, self.SPLIT_DIRS[split]))
        if self.folder_layout != 'auto':
            return candidates[self.folder_layout]
        found = [
            k for k, root in candidates.items()
            if osp.isfile(osp.join(root, first_rel))
        ]
        if len(found) != 1:
            shown = ' and '.join(f'"{osp.join(r, first_rel)}"'
                                 for r in candidates.values())
            state = 'both exist' if found else 'neither exists'
            raise FileNotFoundError(
                f'HITSZVCM: cannot tell the folder layout of split "{split}"'
                f' from its first frame ({where}): of {shown}, {state}. '
                'Frames go to <root>/<pid4>/{ir,rgb}/D<k>/ or to '
                f'<root>/{self.SPLIT_DIRS[split]}/<pid4>/...; set '
                "folder_layout='flat' or 'split' if the first frame is "
                f'missing on purpose. {DOCS_HINT}')
        return candidates[found[0]]

    def parse_split(self, split: str) -> List[ReIDSample]:
        name_file, track_file = (
            self._info(n) for n in self.SPLIT_FILES[split])
        # line i is frame i (1-based), blank lines included, as the public
        # loaders count them; only trailing blank lines are cut
        with open(name_file, encoding='utf-8') as f:
            names = [t.strip() for t in f]
        while names and not names[-1]:
            names.pop()
        if not names:
            raise ValueError(f'HITSZVCM: "{name_file}" is empty. {DOCS_HINT}')
        rows = self._read_rows(track_file, len(names))
        queries = set(self._query_rows(len(rows))) if split == 'test' else ()
        root = self._frame_root(split,
                                self.decode_name(names[0], name_file)[2],
                                f'{name_file}, line 1')
        samples, dropped = [], Counter()
        for index, row in enumerate(rows):
            if row.length < self.min_seq_len:
                dropped[row.modality] += 1
                continue
            paths = []
            for i in range(row.start - 1, row.end):
                where = f'{name_file}, line {i + 1}'
                pid, modality, rel = self.decode_name(names[i], where)
                if (pid, modality) != (row.pid, row.modality):
                    raise ValueError(
                        f'HITSZVCM: {where}: frame "{names[i]}" is pid {pid}'
                        f' {modality}, but the tracklet of {track_file}, '
                        f'line {row.line} that lists it is pid {row.pid} '
                        f'{row.modality}. {DOCS_HINT}')
                paths.append(osp.join(root, rel))
            query = index in queries
            samples.append(
                ReIDSample(
                    img_path={row.modality: paths},
                    pid=row.pid,
                    camid=row.camid,
                    is_query=query,
                    is_gallery=split == 'test' and not query))
        self._log_dropped(split, dropped, len(rows))
        return samples

    def _log_dropped(self, split: str, dropped: Dict[str, int],
                     total: int) -> None:
        count = sum(dropped.values())
        detail = ', '.join(f'{m}: {n}' for m, n in sorted(dropped.items()))
        print_log(
            f'HITSZVCM: split "{split}": dropped {count} of {total} '
            f'tracklets shorter than min_seq_len={self.min_seq_len} frames' +
            (f' ({detail})' if count else '') + '.',
            logger='current')
        self.num_dropped_tracklets = count
