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

Exit status: 0 when every image got a caption, 3 when some failed (rerun
to retry them; finished ones come from the cache), 2 on usage errors.
See docs/captions.md.
"""
import argparse
import json
import os.path as osp
import sys
from typing import List, Optional

from mmreid_text.captioning import (BackendConfigurationError, CaptionPipeline,
                                    ChatBackend, ComplementRules, ResultCache,
                                    RetryPolicy, backend_from_dict)
from mmreid_text.captioning.backend_config import parse_backend_spec
from mmreid_text.captioning.prompts import (ATTRIBUTE_TEMPLATE,
                                            COMPOSE_TEMPLATE,
                                            DESCRIBE_TEMPLATE)
from mmreid_text.captioning.schemas import (AttributeSchema, get_schema,
                                            object_type_for_dataset)
from mmreid_text.captioning.sources import (items_from_data_infos,
                                            items_from_paths,
                                            split_name_from_items)
from mmreid_text.captions.dataset_infos import dataset_from_config
from mmreid_text.captions.format import build_caption_data, save_caption_file
from mmreid_text.captions.stats import format_statistics_table
from mmreid_text.captions.text import clip_token_counter


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
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
    src.add_argument('--limit', type=int, help='only the first N samples')
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
    ops.add_argument('--concurrency', type=int, default=8)
    ops.add_argument(
        '--max-attempts',
        type=int,
        default=6,
        help='HTTP attempts per request (timeouts, 429, 5xx)')
    ops.add_argument('--initial-delay', type=float, default=1.0)
    ops.add_argument('--max-delay', type=float, default=60.0)
    ops.add_argument(
        '--reply-attempts',
        type=int,
        default=3,
        help='requests per job while replies are malformed')
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
        if spec.endswith('.json') and osp.isfile(spec):
            with open(spec) as f:
                data = json.load(f)
            entries = data['backends'] if isinstance(data, dict) else data
            configs += [backend_from_dict(e) for e in entries]
        elif spec.endswith('.py') and osp.isfile(spec):
            from mmengine.config import Config
            entries = Config.fromfile(spec).to_dict()['backends']
            configs += [backend_from_dict(dict(e)) for e in entries]
        else:
            configs.append(parse_backend_spec(spec))
    names = [c.name for c in configs]
    if len(set(names)) != len(names):
        raise ValueError(f'backend names must be unique: {names}')
    return configs


def _cfg_options(pairs: List[str]) -> dict:
    options = {}
    for pair in pairs:
        key, _, value = pair.partition('=')
        try:
            options[key] = json.loads(value)
        except json.JSONDecodeError:
            options[key] = value
    return options


def collect_items(args):
    """Image items, dataset name, split name and default output path."""
    if args.dataset_config:
        dataset, infos = dataset_from_config(args.dataset_config, args.split,
                                             _cfg_options(args.cfg_options))
        if args.limit:
            infos = infos[:args.limit]
        items = items_from_data_infos(infos, source=args.dataset_config)
        name = getattr(dataset, 'dataset_name', None) or \
            type(dataset).__name__
        root = getattr(dataset, 'data_root', None) or ''
    else:
        dirs = None
        if args.modality_dirs:
            dirs = dict(p.split('=', 1) for p in args.modality_dirs.split(','))
        items = items_from_paths(args.images, args.root, dirs)
        if args.limit:
            groups = []
            for item in items:
                if item.group_key not in groups:
                    groups.append(item.group_key)
            keep = set(groups[:args.limit])
            items = [i for i in items if i.group_key in keep]
        name = osp.basename(osp.normpath(args.root))
        root = args.root
    split = args.split_name or split_name_from_items(items, args.split)
    default_out = osp.join(root, 'captions', f'{split}.json')
    return items, args.dataset_name or name, split, default_out


def _read(path: Optional[str], default: str) -> str:
    if not path:
        return default
    with open(path, encoding='utf-8') as f:
        return f.read()


def build_pipeline(args, configs, object_type: str, cache: ResultCache):
    retry = RetryPolicy(
        max_attempts=args.max_attempts,
        initial_delay=args.initial_delay,
        max_delay=args.max_delay)
    backends = {c.name: ChatBackend(c, retry) for c in configs}
    by_role = {}
    for config in configs:
        by_role.setdefault(config.role, []).append(backends[config.name])
    for role in ('compose', 'describe'):
        if len(by_role.get(role, [])) > 1:
            raise ValueError(f'only one backend may have role={role}')
    if args.schema:
        with open(args.schema) as f:
            schema = AttributeSchema.from_dict(json.load(f))
    else:
        schema = get_schema(object_type)
    rules = None
    if args.rules:
        with open(args.rules) as f:
            rules = ComplementRules.from_dict(json.load(f))
    return CaptionPipeline(
        cache=cache,
        mode=args.mode,
        attribute_backends=by_role.get('attributes', []),
        compose_backend=(by_role.get('compose') or [None])[0],
        describe_backend=(by_role.get('describe') or [None])[0],
        schema=schema,
        rules=rules,
        concurrency=args.concurrency,
        max_reply_attempts=args.reply_attempts,
        retry_failed=not args.no_retry_failed,
        attribute_template=_read(args.attribute_template, ATTRIBUTE_TEMPLATE),
        compose_template=_read(args.compose_template, COMPOSE_TEMPLATE),
        describe_template=args.describe_prompt or DESCRIBE_TEMPLATE,
        progress=not args.no_progress,
        count_tokens=clip_token_counter())


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
        print(f'... {len(report["failures"]) - 10} more failures in '
              f'{report_path}')
    print(f'captions: {out_path}\nreport: {report_path}')


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    try:
        configs = load_backends(args.backend)
    except (ValueError, KeyError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 2
    items, dataset_name, split, default_out = collect_items(args)
    if not items:
        print('error: no images found', file=sys.stderr)
        return 2
    out_path = args.out or default_out
    stem = out_path[:-5] if out_path.endswith('.json') else out_path
    cache_path = args.cache or f'{stem}.cache.jsonl'
    report_path = args.report or f'{stem}.report.json'
    object_type = args.object or object_type_for_dataset(dataset_name)
    with ResultCache(cache_path, fsync=args.fsync) as cache:
        try:
            pipeline = build_pipeline(args, configs, object_type, cache)
        except (ValueError, KeyError, BackendConfigurationError) as err:
            print(f'error: {err}', file=sys.stderr)
            return 2
        try:
            result = pipeline.run(items)
        except BackendConfigurationError as err:
            print(f'error: {err}', file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            print(
                f'\ninterrupted: finished requests are cached in '
                f'{cache_path}; rerun the same command to resume.',
                file=sys.stderr)
            return 130
    report = dict(result.report, cache=cache_path, output=out_path)
    document = build_caption_data(
        dataset_name,
        split,
        describe_source(pipeline),
        result.captions,
        extra={
            'generator': {
                'tool': 'tools/captions/generate.py',
                'mode': args.mode,
                'object_type': object_type,
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
    with open(report_path, 'w', encoding='utf-8') as f:
        json.dump(report, f, indent=1, ensure_ascii=False)
    print_report(report, out_path, report_path)
    if report['failed'] and not args.allow_failures:
        return 3
    return 0


if __name__ == '__main__':
    sys.exit(main())
