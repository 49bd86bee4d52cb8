# Copyright (c) mmreid_text contributors. All rights reserved.
"""The caption pipeline: attributes -> merge -> complement -> caption.

``CaptionPipeline.run(items)`` takes the images of a dataset split
(``ImageItem``: relative path = caption-file key, modality, file, the sample
it belongs to) and returns the caption map of a v1 caption file plus a
report.

Mode ``'captions'`` (NEXT Sec. IV):

1. every image is sent to every attribute backend with the attribute
   instruction; replies are validated (malformed JSON is re-asked up to
   ``max_reply_attempts`` times, then recorded as a failure);
2. per image, the attributes of the models are merged (most confident
   model wins), then per sample the modalities complement each other
   (``ComplementRules``);
3. a caption is composed per image, by the deterministic template composer
   or by a compose backend (LLM) with the composition instruction.

Mode ``'descriptions'`` (EEES ESE): one free-text description per image from
the describe backend.

Every request result is appended to the ``ResultCache`` as soon as it
arrives; a rerun re-uses every cached success.  After a clean stop (Ctrl-C,
SIGTERM, a backend that stopped answering) no successful request is sent
again, except those abandoned after the stop grace period (reported).  A
hard kill (``kill -9``) loses the requests in flight at that moment: the
rerun sends those again, so up to ``concurrency`` requests per kill can be
repeated (the jobs merely queued were never sent).  A power loss can lose
more (records not yet on disk) unless the cache uses ``fsync``.
Requests run in a thread pool of ``concurrency`` workers with at most
``2 * concurrency`` submitted at once (``job_runner.JobRunner``).  Every
image is verified locally before it is sent (see ``JobRunner``).
"""
import time
from dataclasses import dataclass, field
from typing import (Any, Callable, Dict, List, Mapping, Optional, Sequence,
                    Tuple)

from mmreid_text.captions.stats import caption_statistics
from .cache import ResultCache, cache_key
from .chat_backend import ChatBackend
from .compose import TemplateComposer
from .items import ImageItem
from .job_runner import Job, JobRunner
from .merge import ComplementRules, complement_modalities, merge_models
from .parsing import clean_text_reply, parse_attribute_reply
from .prompts import (ATTRIBUTE_TEMPLATE, COMPOSE_TEMPLATE, DESCRIBE_TEMPLATE,
                      attribute_prompt, compose_prompt, describe_prompt,
                      prompt_hash)
from .schemas import PERSON_SCHEMA, AttributeSchema

MODES = ('captions', 'descriptions')


@dataclass
class PipelineResult:
    """Output of a run: the caption map and the report."""
    captions: Dict[str, Dict[str, Dict[str, Any]]]
    report: Dict[str, Any] = field(default_factory=dict)


class CaptionPipeline:
    """Reliable multi-model caption generation.

    Args:
        cache: Result cache (resume / no duplicate requests).
        mode: ``'captions'`` or ``'descriptions'``.
        attribute_backends: Vision backends asked for attributes (mode
            ``'captions'``); their order breaks confidence ties.
        compose_backend: Language backend composing captions; ``None`` uses
            the deterministic template composer.
        describe_backend: Vision backend for mode ``'descriptions'``.
        schema: Attribute schema (person or vehicle).
        rules: Complement rule table.
        concurrency: Worker threads (requests in flight).
        max_reply_attempts: Requests per job while replies are malformed.
        retry_failed: Re-run jobs whose cached result is a failure.
        attribute_template / compose_template / describe_template:
            Instruction templates (see ``prompts``).
        min_present_fraction: See ``parse_attribute_reply``.
        progress: Show tqdm progress bars.
        on_result: Called in the main thread with every new cache record.
        count_tokens: Token counter for the report (``None``: no token
            statistics).
        min_image_side: Images (tiles) with a smaller side in pixels are
            recorded as failures, not sent.
        stop_grace_s: Seconds requests in flight get to finish when the
            run stops.
    """

    def __init__(self,
                 cache: ResultCache,
                 mode: str = 'captions',
                 attribute_backends: Sequence[ChatBackend] = (),
                 compose_backend: Optional[ChatBackend] = None,
                 describe_backend: Optional[ChatBackend] = None,
                 schema: AttributeSchema = PERSON_SCHEMA,
                 rules: Optional[ComplementRules] = None,
                 concurrency: int = 8,
                 max_reply_attempts: int = 3,
                 retry_failed: bool = True,
                 attribute_template: str = ATTRIBUTE_TEMPLATE,
                 compose_template: str = COMPOSE_TEMPLATE,
                 describe_template: str = DESCRIBE_TEMPLATE,
                 min_present_fraction: float = 0.5,
                 progress: bool = True,
                 on_result: Optional[Callable[[Dict[str, Any]], None]] = None,
                 count_tokens: Optional[Callable[[str], int]] = None,
                 min_image_side: int = 8,
                 stop_grace_s: float = 10.0):
        if mode not in MODES:
            raise ValueError(f'mode must be one of {MODES}, got {mode!r}')
        if mode == 'captions' and not attribute_backends:
            raise ValueError('Mode "captions" needs at least one attribute '
                             'backend (role=attributes).')
        if mode == 'descriptions' and describe_backend is None:
            raise ValueError('Mode "descriptions" needs a describe backend '
                             '(role=describe).')
        names = [b.name for b in attribute_backends]
        if len(set(names)) != len(names):
            raise ValueError(f'Attribute backend names must be unique: '
                             f'{names}')
        if concurrency < 1 or max_reply_attempts < 1:
            raise ValueError('concurrency and max_reply_attempts must be '
                             '>= 1')
        self.cache = cache
        self.mode = mode
        self.attribute_backends = list(attribute_backends)
        self.compose_backend = compose_backend
        self.describe_backend = describe_backend
        self.schema = schema
        self.rules = rules or ComplementRules()
        self.concurrency = concurrency
        self.max_reply_attempts = max_reply_attempts
        self.retry_failed = retry_failed
        self.attribute_template = attribute_template
        self.compose_template = compose_template
        self.describe_template = describe_template
        self.min_present_fraction = min_present_fraction
        self.progress = progress
        self.on_result = on_result
        self.count_tokens = count_tokens
        self.min_image_side = min_image_side
        self.stop_grace_s = stop_grace_s
        self.composer = TemplateComposer(schema.object_type)
        self._runner = self._new_runner()

    def _new_runner(self) -> JobRunner:
        return JobRunner(
            self.cache,
            self._parse,
            concurrency=self.concurrency,
            max_reply_attempts=self.max_reply_attempts,
            retry_failed=self.retry_failed,
            progress=self.progress,
            on_result=self.on_result,
            min_image_side=self.min_image_side,
            stop_grace_s=self.stop_grace_s)

    @property
    def abandoned(self) -> int:
        """Requests abandoned in flight when the last run stopped."""
        return self._runner.abandoned

    # ------------------------------------------------------------ jobs
    def _job(self,
             kind: str,
             backend: ChatBackend,
             item: ImageItem,
             prompt: str,
             with_image: bool = True) -> Job:
        key = cache_key(
            kind=kind,
            backend=backend.config.identity(),
            prompt=prompt_hash(prompt),
            rel_path=item.rel_path,
            modality=item.modality,
            tile=item.tile,
            min_present_fraction=(self.min_present_fraction
                                  if kind == 'attributes' else None))
        return Job(kind, backend, item, prompt, key, with_image)

    def _parse(self, job: Job, raw: str) -> Any:
        if job.kind == 'attributes':
            return parse_attribute_reply(raw, self.schema,
                                         self.min_present_fraction)
        return clean_text_reply(raw)

    # ------------------------------------------------------------- run
    def run(self, items: Sequence[ImageItem]) -> PipelineResult:
        """Caption every image; see the module doc."""
        start = time.time()
        self._runner = self._new_runner()
        items, groups = self.group_items(items)
        if self.mode == 'descriptions':
            captions, failures, image_jobs, details = self._describe(items)
        else:
            captions, failures, image_jobs, details = self._captions(groups)
        report = self._report(items, captions, failures, image_jobs,
                              time.time() - start)
        report.update(details)
        return PipelineResult(captions=captions, report=report)

    @staticmethod
    def group_items(
        items: Sequence[ImageItem]
    ) -> Tuple[List[ImageItem], Dict[str, Dict[str, ImageItem]]]:
        """Unique items and their samples ``{group: {modality: item}}``.

        Raises:
            ValueError: a sample has two images of one modality.
        """
        unique: Dict[Tuple[str, str], ImageItem] = {}
        for item in items:
            unique.setdefault((item.rel_path, item.modality), item)
        groups: Dict[str, Dict[str, ImageItem]] = {}
        for item in unique.values():
            members = groups.setdefault(item.group_key, {})
            if item.modality in members:
                raise ValueError(
                    f'Sample {item.group_key!r} has two {item.modality!r} '
                    f'images: {members[item.modality].rel_path!r} and '
                    f'{item.rel_path!r}')
            members[item.modality] = item
        return list(unique.values()), groups

    def _describe(self, items: Sequence[ImageItem]):
        backend = self.describe_backend
        jobs = [
            self._job(
                'describe', backend, item,
                describe_prompt(self.schema.object_type, item.modality,
                                self.describe_template)) for item in items
        ]
        results = self._runner.run(jobs, 'descriptions')
        captions: Dict[str, Dict[str, Dict[str, Any]]] = {}
        failures = []
        image_jobs = {}
        for item, job in zip(items, jobs):
            record = results[job.key]
            image_jobs[(item.rel_path, item.modality)] = [job.key]
            if record['status'] == 'ok':
                captions.setdefault(item.rel_path, {})[item.modality] = {
                    'text': record['result']
                }
            else:
                failures.append(self._failure(item, [record]))
        return captions, failures, image_jobs, {}

    def _captions(self, groups: Mapping[str, Mapping[str, ImageItem]]):
        names = [b.name for b in self.attribute_backends]
        jobs: Dict[Tuple[str, str, str], Job] = {}
        prompts = {}
        for members in groups.values():
            for modality, item in members.items():
                if modality not in prompts:
                    prompts[modality] = attribute_prompt(
                        self.schema, modality, self.attribute_template)
                for backend in self.attribute_backends:
                    jobs[(item.rel_path, modality, backend.name)] = \
                        self._job('attributes', backend, item,
                                  prompts[modality])
        results = self._runner.run(list(jobs.values()), 'attributes')

        failures = []
        image_jobs: Dict[Tuple[str, str], List[str]] = {}
        final: Dict[Tuple[str, str], Dict[str, Any]] = {}
        partial = 0
        complemented: Dict[str, int] = {}
        for members in groups.values():
            merged = {}
            for modality, item in members.items():
                per_model, failed = {}, []
                keys = []
                for name in names:
                    job = jobs[(item.rel_path, modality, name)]
                    keys.append(job.key)
                    record = results[job.key]
                    if record['status'] == 'ok':
                        per_model[name] = record['result']
                    else:
                        failed.append(record)
                image_jobs[(item.rel_path, modality)] = keys
                if not per_model:
                    failures.append(self._failure(item, failed))
                    continue
                partial += bool(failed)
                merged[modality] = merge_models(
                    per_model, names, prefer_known=self.rules.prefer_known)
            completed = complement_modalities(merged, self.rules)
            for modality, attrs in completed.items():
                item = members[modality]
                final[(item.rel_path, modality)] = attrs
                complemented[modality] = complemented.get(modality, 0) + sum(
                    'from_modality' in a for a in attrs.values())

        captions: Dict[str, Dict[str, Dict[str, Any]]] = {}
        lookup = {
            (i.rel_path, m): i
            for members in groups.values()
            for m, i in members.items()
        }
        if self.compose_backend is None:
            for (rel_path, modality), attrs in final.items():
                captions.setdefault(rel_path, {})[modality] = {
                    'text': self.composer(attrs, modality),
                    'attributes': attrs
                }
        else:
            compose_jobs = {}
            for (rel_path, modality), attrs in final.items():
                prompt = compose_prompt(self.schema.object_type, modality,
                                        attrs, self.compose_template)
                compose_jobs[(rel_path, modality)] = self._job(
                    'compose',
                    self.compose_backend,
                    lookup[(rel_path, modality)],
                    prompt,
                    with_image=False)
            composed = self._runner.run(list(compose_jobs.values()), 'compose')
            for (rel_path, modality), job in compose_jobs.items():
                image_jobs[(rel_path, modality)].append(job.key)
                record = composed[job.key]
                if record['status'] != 'ok':
                    failures.append(
                        self._failure(lookup[(rel_path, modality)], [record]))
                    continue
                captions.setdefault(rel_path, {})[modality] = {
                    'text': record['result'],
                    'attributes': final[(rel_path, modality)]
                }
        details = {
            'partial_images': partial,
            'complemented_attributes': complemented,
        }
        return captions, failures, image_jobs, details

    @staticmethod
    def _failure(item: ImageItem,
                 records: Sequence[Mapping[str, Any]]) -> Dict[str, Any]:
        return {
            'rel_path':
            item.rel_path,
            'modality':
            item.modality,
            'errors': [
                f'{r.get("kind")}/{r.get("backend")}: {r.get("error")}'
                for r in records
            ]
        }

    def _report(self, items, captions, failures, image_jobs,
                elapsed: float) -> Dict[str, Any]:
        done = sum(len(entry) for entry in captions.values())
        cached = 0
        for (rel_path, modality), keys in image_jobs.items():
            if modality in captions.get(rel_path, {}) and all(
                    k in self._runner.cache_hits for k in keys):
                cached += 1
        backends = {}
        for backend in (self.attribute_backends +
                        [self.compose_backend, self.describe_backend]):
            if backend is not None:
                backends[backend.name] = dict(
                    backend.stats.as_dict(),
                    model=backend.config.model,
                    role=backend.config.role)
        triples = [(k, m, e['text']) for k, entry in captions.items()
                   for m, e in entry.items()]
        return {
            'mode': self.mode,
            'object_type': self.schema.object_type,
            'images': len(items),
            'done': done,
            'failed': len(failures),
            'cached': cached,
            'jobs_run': len(self._runner.executed),
            'elapsed_s': round(elapsed, 2),
            'backends': backends,
            'rules': self.rules.to_dict() if self.mode == 'captions' else None,
            'caption_stats': caption_statistics(triples, self.count_tokens),
            'failures': failures,
        }
