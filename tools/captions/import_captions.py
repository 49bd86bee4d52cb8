# Copyright (c) mmreid_text contributors. All rights reserved.
"""Convert released caption files (NEXT, IDEA) into v1 caption files.

The releases key captions by bare file name; choose how names become
caption-file keys (paths relative to the dataset root):

* ``--dataset-config CFG --config-split test``: from the dataset the
  captions are for (exact, recommended);
* ``--preset RGBNT201|MSVR310|RGBNT100 [--root DATA_ROOT]``: the public
  folder layout (with ``--root`` only existing files are kept);
* ``--template '{split_dir}/{mod_dir}/{item}' --split-dirs a,b
  --mod-dirs rgb=RGB,nir=NI,tir=TI``: any other layout.

Example::

    python tools/captions/import_captions.py --format next \\
        --files-dir NEXT-ReID/Annotation_Text/NEXT/201 --release-split train \\
        --preset RGBNT201 --root data/RGBNT201 \\
        --out data/RGBNT201/captions/train_171.json

Exit status: 0 imported; 2 usage error (one line on stderr: a missing
folder or file, an unknown preset or split, a dataset config or
``--cfg-options`` mistake, or no item resolved to a key at all, e.g. a
wrong ``--root``); 3 with ``--strict`` when some entry is bad, some
description is empty, some item was not resolved or some dataset image has
no caption (then no caption file is written).  Without ``--strict`` bad
entries (reported with their index) and empty descriptions (reported with
their items, left to ``LoadCaptions``' ``on_missing`` policy) are skipped
and the rest is imported.
"""
import argparse
import json
import os.path as osp
import sys
from typing import List, Optional

from mmreid_text.captions import (RELEASE_SOURCES, DatasetKeyResolver,
                                  TemplateKeyResolver, dataset_from_config,
                                  find_release_files, import_release,
                                  save_caption_file, write_text_atomic)
from mmreid_text.captions.importers import ReleaseFormatError
from mmreid_text.utils.cli import (OneLineParser, UsageError, one_line,
                                   parse_cfg_options)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = OneLineParser(
        description='Import NEXT / IDEA caption releases as v1 files.')
    parser.add_argument(
        '--format', choices=sorted(RELEASE_SOURCES), required=True)
    parser.add_argument(
        '--files-dir',
        required=True,
        help='folder with <split>_{RGB,NI,TI}.json')
    parser.add_argument(
        '--release-split',
        default='train',
        help='file prefix in --files-dir (train / test)')
    parser.add_argument('--dataset-config')
    parser.add_argument(
        '--config-split',
        default=None,
        help='dataloader of --dataset-config (default: '
        '--release-split)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        default=[],
        help='key=value overrides of the dataset config')
    parser.add_argument('--preset')
    parser.add_argument('--template')
    parser.add_argument(
        '--split-dirs', help='comma-separated split folders '
        'for --template')
    parser.add_argument(
        '--mod-dirs',
        default='rgb=RGB,nir=NI,tir=TI',
        help='modality=folder pairs for --template')
    parser.add_argument('--root', help='dataset root (keep existing files)')
    parser.add_argument(
        '--dataset', required=True, help='"dataset" field, e.g. RGBNT201')
    parser.add_argument(
        '--split-name', help='"split" field (default: '
        '--release-split)')
    parser.add_argument('--out', required=True)
    parser.add_argument(
        '--strict',
        action='store_true',
        help='fail (exit 3, no caption file) when entries are bad, '
        'descriptions empty, items unresolved or images miss captions')
    args = parser.parse_args(argv)
    chosen = [
        bool(args.dataset_config),
        bool(args.preset),
        bool(args.template)
    ]
    if sum(chosen) != 1:
        parser.error('give exactly one of --dataset-config, --preset and '
                     '--template')
    if args.template and not args.split_dirs:
        parser.error('--template needs --split-dirs')
    if args.cfg_options and not args.dataset_config:
        parser.error('--cfg-options needs --dataset-config')
    return args


def build_resolver(args):
    """The key resolver and the expected (rel_path, modality) pairs."""
    if args.root and not osp.isdir(args.root):
        raise UsageError(f'--root {args.root!r} is not a folder')
    if args.dataset_config:
        if not osp.isfile(args.dataset_config):
            raise UsageError(
                f'--dataset-config {args.dataset_config!r} does not exist')
        split = args.config_split or args.release_split
        options = parse_cfg_options(args.cfg_options)
        try:
            _, infos = dataset_from_config(args.dataset_config, split, options)
            resolver = DatasetKeyResolver(infos)
        except Exception as err:  # a config or data mistake, named below
            raise UsageError(f'cannot list the images of --dataset-config '
                             f'{args.dataset_config!r} (split {split!r}): '
                             f'{type(err).__name__}: {one_line(err)}') from err
        return resolver, list(resolver.expected)
    if args.preset:
        try:
            return TemplateKeyResolver.from_preset(args.preset,
                                                   args.release_split,
                                                   args.root), None
        except KeyError as err:
            raise UsageError(one_line(err)) from err
    pairs = [p for p in args.mod_dirs.split(',') if p]
    if not all('=' in p for p in pairs):
        raise UsageError(f'--mod-dirs {args.mod_dirs!r}: expected '
                         'modality=folder pairs')
    resolver = TemplateKeyResolver(args.template, args.split_dirs.split(','),
                                   dict(p.split('=', 1) for p in pairs),
                                   args.root)
    try:
        resolver('x.jpg', 'rgb')
    except (KeyError, IndexError, ValueError) as err:
        raise UsageError(f'--template {args.template!r}: unknown field '
                         f'{one_line(err)} (fields: split_dir, mod_dir, '
                         'item, id4)') from err
    return resolver, None


def _examples(names: List[str], count: int = 5) -> str:
    return f'{names[:count]}' + (' ...' if len(names) > count else '')


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    try:
        resolver, expected = build_resolver(args)
        try:
            files = find_release_files(args.files_dir, args.release_split)
            document, report = import_release(
                files,
                resolver,
                dataset=args.dataset,
                split=args.split_name or args.release_split,
                source=RELEASE_SOURCES[args.format],
                expected=expected)
        except (OSError, ReleaseFormatError) as err:
            raise UsageError(one_line(err)) from err
        if not document['captions']:
            where = f' under --root {args.root!r}' if args.root else ''
            example = ''
            if report['unresolved']:
                modality, item = report['unresolved'][0].split(':', 1)
                if isinstance(resolver, TemplateKeyResolver):
                    saved, resolver.root = resolver.root, None
                    example = (f'; e.g. {item!r} ({modality}) was looked '
                               f'for as {resolver(item, modality)}')
                    resolver.root = saved
            raise UsageError(
                f'no caption of {args.files_dir!r} ({args.release_split}) '
                f'resolved to an image{where}{example}; check --root, '
                '--release-split and the resolver; nothing was written')
    except UsageError as err:
        print(f'error: {one_line(err)}', file=sys.stderr)
        return 2
    for modality, counts in report['per_modality'].items():
        print(f'{modality}: {counts["items"]} items -> {counts["keys"]} '
              'caption keys')
    if report['bad_entries']:
        print(f'{len(report["bad_entries"])} bad entries skipped: '
              f'{_examples(report["bad_entries"], 3)}')
    if report['empty']:
        print(f'{len(report["empty"])} items with an empty description not '
              f'imported (LoadCaptions on_missing decides): '
              f'{_examples(report["empty"])}')
    if report['unresolved']:
        print(f'{len(report["unresolved"])} items matched no image, e.g. '
              f'{_examples(report["unresolved"])}')
    if report.get('missing'):
        print(f'{len(report["missing"])} dataset images have no caption, '
              f'e.g. {_examples(report["missing"])} (LoadCaptions needs '
              "on_missing='empty' or 'fallback_template' for them)")
    problems = (
        report['unresolved'] + report.get('missing', []) +
        report['bad_entries'] + report['empty'])
    report_path = args.out[:-5] + '.import.json' if args.out.endswith(
        '.json') else args.out + '.import.json'
    write_text_atomic(report_path, json.dumps(report, indent=1))
    if args.strict and problems:
        print(f'--strict: {len(problems)} problems; {args.out} was not '
              f'written; report {report_path}')
        return 3
    save_caption_file(args.out, document)
    print(f'wrote {args.out} ({len(document["captions"])} keys); report '
          f'{report_path}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
