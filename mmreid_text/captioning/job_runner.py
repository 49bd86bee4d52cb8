# Copyright (c) mmreid_text contributors. All rights reserved.
"""Running the requests of a caption run: cache, threads, re-asks.

A ``Job`` is one request: a kind (``attributes``, ``compose``,
``describe``), a backend, an image, the instruction and its cache key.
``JobRunner.run(jobs)`` returns the cache record of every job: a cached
success (or, without ``retry_failed``, a cached failure) is re-used, every
other job is sent by a pool of ``concurrency`` worker threads with at most
``2 * concurrency`` submitted at once.  A reply the parser rejects
(``MalformedReplyError``) is re-asked up to ``max_reply_attempts`` times,
then recorded as a failure.  Every image is decoded and size-checked
locally before its first request; an image that fails is recorded as a
failure naming the file and never sent.  Every record is appended to the
cache as soon as it exists.  A ``BackendConfigurationError`` or
``BackendUnavailableError`` (or an interrupt, a signal) stops the run:
queued jobs are dropped, retries stop, requests in flight get
``stop_grace_s`` seconds to finish (their results are cached), the rest
are abandoned (``abandoned`` counts them; a rerun sends them again), then
the error is re-raised.
"""
import threading
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Sequence

from tqdm import tqdm

from .cache import ResultCache
from .chat_backend import ChatBackend
from .errors import (BackendConfigurationError, BackendError,
                     BackendUnavailableError, RequestCancelled)
from .items import ImageItem
from .messages import ImageCheckError, build_messages, encode_image
from .parsing import MalformedReplyError


@dataclass
class Job:
    """One request and its cache key."""
    kind: str
    backend: ChatBackend
    item: ImageItem
    prompt: str
    key: str
    with_image: bool = True


class JobRunner:
    """Run jobs once each, re-using the cache; see the module doc.

    Args:
        cache: Result cache (resume / no duplicate requests).
        parse: ``parse(job, raw_reply) -> result``; raises
            ``MalformedReplyError`` for a reply to ask again.
        concurrency: Worker threads (requests in flight).
        max_reply_attempts: Requests per job while replies are malformed.
        retry_failed: Re-run jobs whose cached result is a failure.
        progress: Show tqdm progress bars.
        on_result: Called in the main thread with every new cache record.
        min_image_side: Smallest image side (pixels) that is sent.
        stop_grace_s: When the run stops, seconds the requests in flight
            get to finish before they are abandoned.
    """

    def __init__(self,
                 cache: ResultCache,
                 parse: Callable[[Job, str], Any],
                 concurrency: int = 8,
                 max_reply_attempts: int = 3,
                 retry_failed: bool = True,
                 progress: bool = True,
                 on_result: Optional[Callable[[Dict[str, Any]], None]] = None,
                 min_image_side: int = 8,
                 stop_grace_s: float = 10.0):
        self.cache = cache
        self.min_image_side = min_image_side
        self.stop_grace_s = stop_grace_s
        #: Requests still in flight when a stopped run gave up on them.
        self.abandoned = 0
        self.parse = parse
        self.concurrency = concurrency
        self.max_reply_attempts = max_reply_attempts
        self.retry_failed = retry_failed
        self.progress = progress
        self.on_result = on_result
        #: Set to stop: no new request, no further retry.
        self.stop = threading.Event()
        #: Keys whose record came from the cache / from a request now.
        self.cache_hits: set = set()
        self.executed: set = set()

    def record(self, job: Job, status: str, **fields) -> Dict[str, Any]:
        """Append the result of ``job`` to the cache; return the record."""
        record = dict(
            kind=job.kind,
            backend=job.backend.name,
            model=job.backend.config.model,
            rel_path=job.item.rel_path,
            modality=job.item.modality,
            status=status,
            **fields)
        return self.cache.put(job.key, record)

    def execute(self, job: Job) -> Dict[str, Any]:
        """Run one job in a worker thread; return its cache record."""
        if self.stop.is_set():
            raise RequestCancelled('stopped before start')
        image_url = None
        if job.with_image:
            try:
                image_url = encode_image(
                    job.item.abs_path,
                    tile=job.item.tile,
                    max_side=job.backend.config.max_image_side,
                    min_side=self.min_image_side)
            except (ImageCheckError, OSError) as err:
                return self.record(
                    job,
                    'failed',
                    attempts=0,
                    error=f'cannot read image {job.item.abs_path!r}, not '
                    f'sent: {err}')
        messages = build_messages(job.prompt, image_url,
                                  job.backend.config.image_detail)
        problems: List[str] = []
        raw = ''
        for attempt in range(1, self.max_reply_attempts + 1):
            try:
                raw = job.backend.complete(
                    messages,
                    json_reply=job.kind == 'attributes',
                    should_stop=self.stop.is_set)
            except (BackendConfigurationError, BackendUnavailableError):
                self.stop.set()  # every other request would fail too
                raise
            except BackendError as err:
                return self.record(
                    job, 'failed', attempts=attempt, error=str(err))
            except RequestCancelled:
                raise
            except Exception as err:  # never let one request end the run
                job.backend.stats.add('failed')
                return self.record(
                    job,
                    'failed',
                    attempts=attempt,
                    error=f'unexpected error of the request '
                    f'({type(err).__name__}: {err}); please report it')
            try:
                result = self.parse(job, raw)
            except MalformedReplyError as err:
                job.backend.stats.add('malformed')
                problems.append(str(err))
                continue
            except Exception as err:  # a reply the parser did not foresee
                job.backend.stats.add('malformed')
                problems.append(f'unreadable reply ({type(err).__name__}: '
                                f'{err}): {raw[:120]!r}')
                continue
            job.backend.stats.add('succeeded')
            return self.record(job, 'ok', attempts=attempt, result=result)
        return self.record(
            job,
            'failed',
            attempts=self.max_reply_attempts,
            error=f'malformed reply {self.max_reply_attempts} times; last: '
            f'{problems[-1]}',
            raw=raw[:2000])

    def run(self, jobs: Sequence[Job], desc: str) -> Dict[str, Dict[str, Any]]:
        results: Dict[str, Dict[str, Any]] = {}
        pending: List[Job] = []
        seen = set()
        for job in jobs:
            if job.key in seen:
                continue
            seen.add(job.key)
            record = self.cache.get(job.key)
            if record is not None and (record['status'] == 'ok'
                                       or not self.retry_failed):
                results[job.key] = record
                self.cache_hits.add(job.key)
            else:
                pending.append(job)
        if not pending:
            return results
        bar = tqdm(
            total=len(pending),
            desc=desc,
            unit='req',
            disable=not self.progress,
            dynamic_ncols=True)
        executor = ThreadPoolExecutor(
            max_workers=self.concurrency, thread_name_prefix='captions')
        in_flight: Dict[Any, Job] = {}
        queue = iter(pending)
        try:
            while True:
                while len(in_flight) < 2 * self.concurrency and \
                        not self.stop.is_set():
                    job = next(queue, None)
                    if job is None:
                        break
                    in_flight[executor.submit(self.execute, job)] = job
                if not in_flight:
                    break
                done, _ = wait(list(in_flight), return_when=FIRST_COMPLETED)
                for future in done:
                    job = in_flight.pop(future)
                    try:
                        record = future.result()
                    except RequestCancelled:
                        continue  # stopping: the error follows
                    self.executed.add(job.key)
                    results[job.key] = record
                    bar.update(1)
                    if self.on_result is not None:
                        self.on_result(record)
        except BaseException:
            # Stop retries, drop queued jobs, give requests in flight
            # stop_grace_s to finish (their results are cached), abandon
            # the rest, then re-raise.
            self.stop.set()
            for future in in_flight:
                future.cancel()
            running = [f for f in in_flight if not f.cancelled()]
            if running:
                _, not_done = wait(running, timeout=self.stop_grace_s)
                self.abandoned = len(not_done)
            executor.shutdown(wait=False, cancel_futures=True)
            raise
        finally:
            bar.close()
        executor.shutdown(wait=True)
        return results
