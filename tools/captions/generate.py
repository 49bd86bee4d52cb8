# Copyright (c) mmreid_text contributors. All rights reserved.
"""Generate a caption file for one dataset split with model backends.

Examples::

    # NEXT-style captions: two attribute models, template composer
    python tools/captions/generate.py \\
        --dataset-config configs/_base_/datasets/rgbnt201.py --split train \\
        --backend name=gpt4o,base_url=https://api.openai.com/v1,\\
model=gpt-4o,api_key_env=OPENAI_API_KEY \\
        --backend name=qwen,base_url=http://127.0.0.1:8000/v1,\\
model=Qwen/Qwen2.5-VL-7B-Instruct

    # EEES ESE descriptions from a local LLaVA server
    python tools/captions/generate.py --mode descriptions \\
        --images 'train_171/*/*.jpg' --root data/RGBNT201 \\
        --backend name=llava,base_url=http://127.0.0.1:11434/v1,\\
model=llava,role=describe --out data/RGBNT201/captions/train_ese.json

Exit status (see docs/captions.md): 0 every image got a caption; 2 usage
error or a backend that fails its probe (one line on stderr, nothing
requested); 3 some images failed (captions written; rerun to retry them);
4 nothing written (no caption at all, or fewer captions than the existing
``--out`` without ``--overwrite``); 5 a backend stopped answering mid-run;
130 Ctrl-C; 143 SIGTERM.  After 5, 130 and 143 the finished requests are in
the cache and the printed command resumes the run.
"""
import argparse
import json
import os
import os.path as osp
import shlex
import signal
import sys
import tempfile
import threading
from typing import Any, Dict, List, Optional

from mmreid_text.captioning import (BackendConfigurationError, CaptionPipeline,
                                    ChatBackend, ComplementRules, ResultCache,
                                    RetryPolicy, backend_from_dict)
from mmreid_text.captioning.backend_config import parse_backend_spec
from mmreid_text.captioning.errors import BackendUnavailableError
from mmreid_text.captioning.prompts import (ATTRIBUTE_TEMPLATE,
                                            COMPOSE_TEMPLATE,
                                            DESCRIBE_TEMPLATE)
from mmreid_text.captioning.schemas import (AttributeSchema, get_schema,
                                            object_type_for_dataset)
from mmreid_text.captioning.sources import (items_from_data_infos,
                                            items_from_paths,
                                            split_name_from_items)
from mmreid_text.captions.dataset_infos import dataset_from_config
from mmreid_text.captions.format import (CaptionFileError, build_caption_data,
                                         count_captions, load_caption_file,
                                         save_caption_file, write_text_atomic)
from mmreid_text.captions.stats import format_statistics_table
from mmreid_text.captions.text import clip_token_counter
from mmreid_text.utils.cli import (OneLineParser, UsageError, one_line,
                                   parse_cfg_options)

EXIT_OK, EXIT_USAGE, EXIT_FAILURES, EXIT_NOT_WRITTEN = 0, 2, 3, 4
EXIT_BACKEND_DOWN, EXIT_INTERRUPTED, EXIT_TERMINATED = 5, 130, 143


class Terminated(KeyboardInterrupt):
    """SIGTERM, handled like Ctrl-C (exit 143)."""


def _positive(kind):

    what = 'an integer' if kind is int else 'a number'

    def convert(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f'{text!r} is not {what}') from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f'must be > 0, got {text!r}')
        return value

    return convert


def _non_negative(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f'{text!r} is not a number') from None
    if not value >= 0:
        raise argparse.ArgumentTypeError(f'must be >= 0, got {text!r}')
    return value


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = OneLineParser(
        description='Generate captions (NEXT Sec. IV) or descriptions '
        '(EEES ESE) for a dataset split with OpenAI-compatible backends.',
        formatter_class=argparse.RawDescriptionHelpFormatter)
    src = parser.add_argument_group('images')
    src.add_argument(
        '--dataset-config',
        help='mmengine config whose '
        '<split>_dataloader.dataset lists the images')
    src.add_argument(
        '--split',
        default='train',
        help='dataloader of --dataset-config: train, val or '
        'test (default train)')
    src.add_argument(
        '--cfg-options',
        nargs='+',
        default=[],
        help='key=value overrides of the dataset config')
    src.add_argument(
        '--images',
        help='list file ("rel_path [modality]" '
        'lines) or glob relative to --root')
    src.add_argument('--root', help='dataset root for --images')
    src.add_argument(
        '--modality-dirs',
        help='folder=modality pairs, e.g. '
        'RGB=rgb,NI=nir,TI=tir (default covers RGBNT201 and '
        'MSVR310 layouts)')
    src.add_argument(
        '--limit', type=_positive(int), help='only the first N samples')
    gen = parser.add_argument_group('generation')
    gen.add_argument(
        '--backend',
        action='append',
        default=[],
        help='name=..,base_url=..,model=..[,api_key_env=..]'
        '[,role=attributes|compose|describe][,timeout=..]'
        '[,json_mode=true] or a .json / .py file with a list '
        '"backends"; repeat for several backends')
    gen.add_argument(
        '--mode', choices=('captions', 'descriptions'), default='captions')
    gen.add_argument(
        '--object',
        choices=('person', 'vehicle'),
        help='object type (default from the dataset name)')
    gen.add_argument('--schema', help='JSON attribute schema file')
    gen.add_argument('--rules', help='JSON complement rule table')
    gen.add_argument(
        '--attribute-template',
        help='file with the '
        'attribute instruction template')
    gen.add_argument(
        '--compose-template',
        help='file with the caption '
        'composition template')
    gen.add_argument(
        '--describe-prompt',
        help='description instruction '
        f'(default: {DESCRIBE_TEMPLATE!r})')
    ops = parser.add_argument_group('operations')
    ops.add_argument('--concurrency', type=_positive(int), default=8)
    ops.add_argument(
        '--max-attempts',
        type=_positive(int),
        default=6,
        help='HTTP attempts per request (timeouts, 429, 5xx, unreadable '
        'replies)')
    ops.add_argument('--initial-delay', type=_non_negative, default=1.0)
    ops.add_argument('--max-delay', type=_non_negative, default=60.0)
    ops.add_argument(
        '--max-retry-after',
        type=_non_negative,
        default=600.0,
        help='longest Retry-After wait honoured (seconds, default 600); '
        'a server asking for more fails that request (rerun later)')
    ops.add_argument(
        '--reply-attempts',
        type=_positive(int),
        default=3,
        help='requests per job while replies are malformed')
    ops.add_argument(
        '--max-connection-errors',
        type=_positive(int),
        default=24,
        help='connection errors / timeouts in a row after which a backend '
        'is taken as down and the run stops (default 24)')
    ops.add_argument(
        '--max-failed-requests',
        type=_positive(int),
        default=16,
        help='requests in a row that failed after all attempts, after '
        'which a backend is taken as down and the run stops (default 16)')
    ops.add_argument(
        '--no-probe',
        action='store_true',
        help='skip the check of every backend before the run')
    ops.add_argument(
        '--probe-timeout',
        type=_positive(float),
        default=10.0,
        help='seconds for the probe of a backend (default 10)')
    ops.add_argument(
        '--min-image-side',
        type=_positive(int),
        default=8,
        help='images with a smaller side (pixels) are failures, not sent')
    ops.add_argument(
        '--stop-grace',
        type=_non_negative,
        default=10.0,
        help='on Ctrl-C / SIGTERM, seconds requests in flight get to '
        'finish (default 10)')
    ops.add_argument(
        '--cache',
        help='cache file (default '
        '<out without .json>.cache.jsonl)')
    ops.add_argument(
        '--no-retry-failed',
        action='store_true',
        help='keep failures recorded in the cache')
    ops.add_argument(
        '--fsync',
        action='store_true',
        help='fsync the cache after every result')
    ops.add_argument('--no-progress', action='store_true')
    out = parser.add_argument_group('output')
    out.add_argument(
        '--out',
        help='caption file (default '
        '<data_root>/captions/<split>.json)')
    out.add_argument(
        '--overwrite',
        action='store_true',
        help='replace --out even when the new file has fewer captions')
    out.add_argument('--dataset-name', help='"dataset" field')
    out.add_argument('--split-name', help='"split" field')
    out.add_argument(
        '--report',
        help='report JSON (default <out without '
        '.json>.report.json)')
    out.add_argument(
        '--allow-failures',
        action='store_true',
        help='exit 0 even when some images failed')
    args = parser.parse_args(argv)
    if bool(args.dataset_config) == bool(args.images):
        parser.error('give exactly one of --dataset-config and --images')
    if args.images and not args.root:
        parser.error('--images needs --root')
    if not args.backend:
        parser.error('give at least one --backend')
    return args


def load_backends(specs: List[str]):
    configs = []
    for spec in specs:
        try:
            if spec.endswith('.json') and osp.isfile(spec):
                with open(spec, encoding='utf-8') as f:
                    data = json.load(f)
                entries = data['backends'] if isinstance(data, dict) else data
                configs += [backend_from_dict(e) for e in entries]
            elif spec.endswith('.py') and osp.isfile(spec):
                from mmengine.config import Config
                entries = Config.fromfile(spec).to_dict()['backends']
                configs += [backend_from_dict(dict(e)) for e in entries]
            elif spec.endswith(('.json', '.py')) and '=' not in spec:
                raise UsageError(f'backend file {spec!r} does not exist')
            else:
                configs.append(parse_backend_spec(spec))
        except UsageError:
            raise
        except KeyError as err:
            raise UsageError(f'backend file {spec!r} has no key '
                             f'{one_line(err)!r} (expected a list '
                             '"backends")') from err
        except (ValueError, TypeError, OSError, SyntaxError,
                BackendConfigurationError) as err:
            message = one_line(err)
            if spec not in message:
                message = f'--backend {spec!r}: {message}'
            raise UsageError(message) from err
    names = [c.name for c in configs]
    if len(set(names)) != len(names):
        raise UsageError(f'backend names must be unique: {names}')
    return configs


def collect_items(args):
    """Image items, dataset name, split name and default output path.

    Raises:
        UsageError: the images cannot be listed (bad config, split, root,
            glob, list file), a listed image does not exist, or a sample
            has two images of one modality.
    """
    if args.dataset_config:
        if not osp.isfile(args.dataset_config):
            raise UsageError(
                f'--dataset-config {args.dataset_config!r} does not exist')
        options = parse_cfg_options(args.cfg_options)
        try:
            dataset, infos = dataset_from_config(args.dataset_config,
                                                 args.split, options)
        except Exception as err:  # a config or data mistake, named below
            raise UsageError(
                f'cannot list the images of --dataset-config '
                f'{args.dataset_config!r} --split {args.split!r}: '
                f'{type(err).__name__}: {one_line(err)}') from err
        if args.limit:
            infos = infos[:args.limit]
        try:
            items = items_from_data_infos(infos, source=args.dataset_config)
        except (KeyError, TypeError, AttributeError) as err:
            raise UsageError(one_line(err)) from err
        name = getattr(dataset, 'dataset_name', None) or \
            type(dataset).__name__
        root = getattr(dataset, 'data_root', None) or ''
    else:
        if args.cfg_options:
            raise UsageError('--cfg-options needs --dataset-config')
        if not osp.isdir(args.root):
            raise UsageError(f'--root {args.root!r} is not a folder')
        dirs = None
        if args.modality_dirs:
            pairs = [p for p in args.modality_dirs.split(',') if p]
            if not all('=' in p for p in pairs):
                raise UsageError(f'--modality-dirs {args.modality_dirs!r}: '
                                 'expected folder=modality pairs')
            dirs = dict(p.split('=', 1) for p in pairs)
        try:
            items = items_from_paths(args.images, args.root, dirs)
        except (OSError, ValueError) as err:
            raise UsageError(one_line(err)) from err
        if args.limit:
            groups = []
            for item in items:
                if item.group_key not in groups:
                    groups.append(item.group_key)
            keep = set(groups[:args.limit])
            items = [i for i in items if i.group_key in keep]
        name = osp.basename(osp.normpath(args.root))
        root = args.root
    missing = [i.abs_path for i in items if not osp.isfile(i.abs_path)]
    if missing:
        raise UsageError(
            f'{len(missing)} of {len(items)} images do not exist, e.g. '
            f'{missing[:3]}; check the data root and the image list')
    try:
        CaptionPipeline.group_items(items)
    except ValueError as err:
        raise UsageError(one_line(err)) from err
    split = args.split_name or split_name_from_items(items, args.split)
    default_out = osp.join(root, 'captions', f'{split}.json')
    return items, args.dataset_name or name, split, default_out


def check_writable(path: str, option: str) -> None:
    """Raise ``UsageError`` unless ``path`` can be written.

    Checks that it is not a folder, that the nearest existing folder above
    it is a folder (not a file) in which a file can be created (tried with
    a temporary file, so it also holds for root and read-only file
    systems), and that an existing file is writable.
    """
    if osp.isdir(path):
        raise UsageError(f'{option} {path!r} is a folder, not a file')
    parent = osp.dirname(osp.abspath(path))
    while not osp.exists(parent):
        parent = osp.dirname(parent)
    if not osp.isdir(parent):
        raise UsageError(f'{option} {path!r}: {parent!r} is a file, not a '
                         'folder')
    try:
        with tempfile.TemporaryFile(dir=parent):
            pass
    except OSError as err:
        raise UsageError(f'{option} {path!r}: cannot write in {parent!r} '
                         f'({err.strerror or err})') from err
    if osp.exists(path) and not os.access(path, os.W_OK):
        raise UsageError(f'{option} {path!r} is not writable')


def existing_caption_count(path: str, overwrite: bool) -> int:
    """Captions in an existing ``--out`` (0 when there is none)."""
    if not osp.exists(path):
        return 0
    try:
        return count_captions(load_caption_file(path))
    except CaptionFileError as err:
        if overwrite:
            return 0
        raise UsageError(f'--out {path!r} exists and is not a caption file '
                         f'({one_line(err)[:200]}); pass --overwrite to '
                         'replace it') from err


def _read(path: Optional[str], default: str, option: str) -> str:
    if not path:
        return default
    try:
        with open(path, encoding='utf-8') as f:
            return f.read()
    except OSError as err:
        raise UsageError(f'{option} {path!r}: {one_line(err)}') from err


def _read_json(path: str, option: str) -> Any:
    try:
        with open(path, encoding='utf-8') as f:
            return json.load(f)
    except (OSError, ValueError) as err:
        raise UsageError(f'{option} {path!r}: {one_line(err)}') from err


def load_settings(args, object_type: str) -> Dict[str, Any]:
    """Schema, rules and templates, checked before any request."""
    try:
        if args.schema:
            schema = AttributeSchema.from_dict(
                _read_json(args.schema, '--schema'))
        else:
            schema = get_schema(object_type)
    except (ValueError, KeyError, TypeError) as err:
        raise UsageError(f'--schema: {one_line(err)}') from err
    rules = None
    if args.rules:
        try:
            rules = ComplementRules.from_dict(
                _read_json(args.rules, '--rules'))
        except (ValueError, TypeError) as err:
            raise UsageError(f'--rules {args.rules!r}: {one_line(err)}')
    return dict(
        schema=schema,
        rules=rules,
        attribute_template=_read(args.attribute_template, ATTRIBUTE_TEMPLATE,
                                 '--attribute-template'),
        compose_template=_read(args.compose_template, COMPOSE_TEMPLATE,
                               '--compose-template'),
        describe_template=args.describe_prompt or DESCRIBE_TEMPLATE)


def build_backends(args, configs) -> Dict[str, List[ChatBackend]]:
    retry = RetryPolicy(
        max_attempts=args.max_attempts,
        initial_delay=args.initial_delay,
        max_delay=args.max_delay,
        max_retry_after=args.max_retry_after)
    by_role: Dict[str, List[ChatBackend]] = {}
    for config in configs:
        try:
            backend = ChatBackend(
                config,
                retry,
                max_connection_errors=args.max_connection_errors,
                max_failed_requests=args.max_failed_requests)
        except BackendConfigurationError as err:
            raise UsageError(one_line(err)) from err
        by_role.setdefault(config.role, []).append(backend)
    for role in ('compose', 'describe'):
        if len(by_role.get(role, [])) > 1:
            raise UsageError(f'only one backend may have role={role}')
    if args.mode == 'captions' and not by_role.get('attributes'):
        raise UsageError('--mode captions needs a backend with '
                         'role=attributes (the default role)')
    if args.mode == 'descriptions' and not by_role.get('describe'):
        raise UsageError('--mode descriptions needs a backend with '
                         'role=describe')
    return by_role


def build_pipeline(args, by_role, settings, cache: ResultCache):
    return CaptionPipeline(
        cache=cache,
        mode=args.mode,
        attribute_backends=by_role.get('attributes', []),
        compose_backend=(by_role.get('compose') or [None])[0],
        describe_backend=(by_role.get('describe') or [None])[0],
        concurrency=args.concurrency,
        max_reply_attempts=args.reply_attempts,
        retry_failed=not args.no_retry_failed,
        progress=not args.no_progress,
        count_tokens=clip_token_counter(),
        min_image_side=args.min_image_side,
        stop_grace_s=args.stop_grace,
        **settings)


def used_backends(args, by_role) -> List[ChatBackend]:
    if args.mode == 'descriptions':
        return by_role['describe']
    return by_role['attributes'] + by_role.get('compose', [])


def describe_source(pipeline: CaptionPipeline) -> str:
    if pipeline.mode == 'descriptions':
        b = pipeline.describe_backend
        return f'pipeline descriptions: {b.name} ({b.config.model})'
    models = ', '.join(f'{b.name} ({b.config.model})'
                       for b in pipeline.attribute_backends)
    composer = 'template composer' if pipeline.compose_backend is None else \
        (f'{pipeline.compose_backend.name} '
         f'({pipeline.compose_backend.config.model})')
    return (f'pipeline captions: attributes by {models}; merged and '
            f'complemented across modalities; composed by {composer}')


def print_report(report: dict, out_path: str, report_path: str) -> None:
    print(f'\nimages: {report["images"]}  done: {report["done"]}  '
          f'failed: {report["failed"]}  from cache: {report["cached"]}  '
          f'jobs run: {report["jobs_run"]}  time: {report["elapsed_s"]} s')
    if report.get('partial_images'):
        print(f'images with a failed model (merged from the others): '
              f'{report["partial_images"]}')
    for name, stats in report['backends'].items():
        counts = ', '.join(f'{k} {v}' for k, v in stats.items()
                           if k not in ('model', 'role') and v)
        print(f'backend {name} [{stats["role"]}, {stats["model"]}]: '
              f'{counts or "no requests"}')
    if report['caption_stats']:
        print(format_statistics_table({'generated': report['caption_stats']}))
    for failure in report['failures'][:10]:
        print(f'FAILED {failure["rel_path"]} [{failure["modality"]}]: '
              f'{"; ".join(failure["errors"])[:300]}')
    if len(report['failures']) > 10:
        print(f'... {len(report["failures"]) - 10} more failures' +
              (f' in {report_path}' if report_path else ''))
    if out_path:
        print(f'captions: {out_path}\nreport: {report_path}')


def resume_command(argv: Optional[List[str]]) -> str:
    args = sys.argv[1:] if argv is None else list(argv)
    return shlex.join([sys.executable, osp.relpath(__file__)] + args)


class _SigtermAsInterrupt:
    """While active, SIGTERM raises ``Terminated`` in the main thread."""

    def __enter__(self):
        self.previous = None
        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGTERM, self._raise)
        return self

    @staticmethod
    def _raise(signum, frame):
        raise Terminated()

    def __exit__(self, *exc):
        if self.previous is not None:
            signal.signal(signal.SIGTERM, self.previous)


def _error(message: str) -> None:
    print(f'error: {message}', file=sys.stderr)


def main(argv: Optional[List[str]] = None) -> int:
    try:
        return _main(argv)
    except KeyboardInterrupt:  # before or after the run: nothing to save
        _error('interrupted')
        return EXIT_INTERRUPTED


def _main(argv: Optional[List[str]]) -> int:
    args = parse_args(argv)
    try:
        configs = load_backends(args.backend)
        items, dataset_name, split, default_out = collect_items(args)
        if not items:
            raise UsageError('no images found')
        out_path = args.out or default_out
        stem = out_path[:-5] if out_path.endswith('.json') else out_path
        cache_path = args.cache or f'{stem}.cache.jsonl'
        report_path = args.report or f'{stem}.report.json'
        check_writable(out_path, '--out')
        check_writable(cache_path, '--cache')
        check_writable(report_path, '--report')
        if len({osp.abspath(p)
                for p in (out_path, cache_path, report_path)}) < 3:
            raise UsageError('--out, --cache and --report must be three '
                             'different files')
        existing = existing_caption_count(out_path, args.overwrite)
        object_type = args.object or object_type_for_dataset(dataset_name)
        settings = load_settings(args, object_type)
        by_role = build_backends(args, configs)
    except UsageError as err:
        _error(one_line(err))
        return EXIT_USAGE
    if not args.no_probe:
        for backend in used_backends(args, by_role):
            try:
                found = backend.probe(args.probe_timeout)
            except (BackendConfigurationError, BackendUnavailableError) as e:
                _error(f'{one_line(e)} Nothing was requested; fix the '
                       'backend or pass --no-probe.')
                return EXIT_USAGE
            print(f'backend {backend.name}: {found}')
    with ResultCache(cache_path, fsync=args.fsync) as cache:
        try:
            pipeline = build_pipeline(args, by_role, settings, cache)
        except ValueError as err:
            _error(one_line(err))
            return EXIT_USAGE
        stop_code, stop_reason = None, ''
        with _SigtermAsInterrupt():
            try:
                result = pipeline.run(items)
            except BackendConfigurationError as err:
                stop_code, stop_reason = EXIT_USAGE, one_line(err)
            except BackendUnavailableError as err:
                stop_code, stop_reason = EXIT_BACKEND_DOWN, one_line(err)
            except Terminated:
                stop_code, stop_reason = EXIT_TERMINATED, 'terminated ' \
                    '(SIGTERM)'
            except KeyboardInterrupt:
                stop_code, stop_reason = EXIT_INTERRUPTED, 'interrupted'
        if stop_code is not None:
            abandoned = pipeline.abandoned
            lost = (f'; {abandoned} requests still in flight were abandoned '
                    'and will be sent again' if abandoned else '')
            _error(f'{stop_reason}. Nothing was written to {out_path!r}; '
                   f'finished requests are cached in {cache_path!r}{lost}. '
                   f'Resume with: {resume_command(argv)}')
            return stop_code
    report = dict(result.report, cache=cache_path, output=out_path)
    if report['done'] == 0:
        print_report(report, '', '')
        _error(f'no image got a caption; nothing was written (--out '
               f'{out_path!r} is unchanged). Fix the failures above and '
               'rerun; finished requests come from the cache.')
        return EXIT_NOT_WRITTEN
    if report['done'] < existing and not args.overwrite:
        print_report(report, '', '')
        _error(f'--out {out_path!r} has {existing} captions, this run '
               f'produced {report["done"]}; it was not replaced. Pass '
               '--overwrite to replace it, or --out to write elsewhere '
               '(the rerun takes every reply from the cache).')
        return EXIT_NOT_WRITTEN
    document = build_caption_data(
        dataset_name,
        split,
        describe_source(pipeline),
        result.captions,
        extra={
            'generator': {
                'tool': 'tools/captions/generate.py',
                'mode': args.mode,
                'object_type': settings['schema'].object_type,
                'backends': {
                    n: {
                        'model': b['model'],
                        'role': b['role']
                    }
                    for n, b in report['backends'].items()
                },
                'rules': report.get('rules'),
            }
        })
    save_caption_file(out_path, document)
    write_text_atomic(report_path,
                      json.dumps(report, indent=1, ensure_ascii=False))
    print_report(report, out_path, report_path)
    if report['failed'] and not args.allow_failures:
        return EXIT_FAILURES
    return EXIT_OK


if __name__ == '__main__':
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    if threading.active_count() > 1:
        # requests abandoned after a stop: do not wait for their timeouts
        os._exit(code)
    sys.exit(code)
