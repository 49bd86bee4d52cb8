# Copyright (c) mmreid_text contributors. All rights reserved.
"""Append-only JSON-lines cache of model results.

One line per finished request (success or failure), written and flushed as
soon as the result exists, so an interrupted run loses at most the requests
in flight.  The key hashes everything that determines a reply: the job kind,
the backend identity (name, model, sampling settings; not the URL, so a
moved server keeps its cache), the prompt and the image (relative path,
modality, tile).  On load, later lines win, so a
success recorded after an earlier failure replaces it; a torn last line
(the process was killed mid-write) is ignored.
"""
import hashlib
import json
import os
import os.path as osp
import threading
import time
from typing import Any, Dict, Iterator, Optional


def cache_key(**parts: Any) -> str:
    """Stable hash of the JSON-serialisable ``parts``."""
    blob = json.dumps(parts, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode('utf-8')).hexdigest()


class ResultCache:
    """Thread-safe append-only cache file.

    Args:
        path: The ``.jsonl`` file (created with its folder when missing).
        fsync: Also ``os.fsync`` after each record (survives power loss,
            slower); a flush already survives a killed process.
    """

    def __init__(self, path: str, fsync: bool = False):
        self.path = path
        self.fsync = fsync
        self._lock = threading.Lock()
        self._records: Dict[str, Dict[str, Any]] = {}
        self.torn_lines = 0
        self.late_records = 0
        directory = osp.dirname(osp.abspath(path))
        os.makedirs(directory, exist_ok=True)
        if osp.exists(path):
            self._load()
        self._file = open(path, 'a', encoding='utf-8')
        # A torn last line has no newline: start a fresh line after it.
        if osp.getsize(path) > 0 and not self._ends_with_newline():
            self._file.write('\n')
            self._file.flush()

    def _ends_with_newline(self) -> bool:
        with open(self.path, 'rb') as f:
            f.seek(-1, os.SEEK_END)
            return f.read(1) == b'\n'

    def _load(self) -> None:
        with open(self.path, encoding='utf-8', errors='replace') as f:
            for line in f:
                line = line.strip()
                if not line:
                    continue
                try:
                    record = json.loads(line)
                    key = record['key']
                except (json.JSONDecodeError, KeyError, TypeError):
                    self.torn_lines += 1
                    continue
                self._records[key] = record

    def get(self, key: str) -> Optional[Dict[str, Any]]:
        with self._lock:
            return self._records.get(key)

    def put(self, key: str, record: Dict[str, Any]) -> Dict[str, Any]:
        """Append ``record`` (``key`` and ``time`` are added) and flush.

        After ``close()`` (a request abandoned by a stopped run answered
        late) nothing is written: ``late_records`` counts it and a rerun
        sends that request again.
        """
        record = dict(record, key=key, time=round(time.time(), 3))
        line = json.dumps(record, ensure_ascii=False)
        with self._lock:
            if self._file.closed:
                self.late_records += 1
                return record
            self._file.write(line + '\n')
            self._file.flush()
            if self.fsync:
                os.fsync(self._file.fileno())
            self._records[key] = record
        return record

    def __len__(self) -> int:
        return len(self._records)

    def __iter__(self) -> Iterator[Dict[str, Any]]:
        with self._lock:
            return iter(list(self._records.values()))

    def close(self) -> None:
        with self._lock:
            if not self._file.closed:
                self._file.close()

    def __enter__(self) -> 'ResultCache':
        return self

    def __exit__(self, *exc) -> None:
        self.close()
