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

Exit status 0, or 3 when ``--strict`` and some item was not resolved or
some dataset image has no caption.
"""
import argparse
import json
import sys
from typing import List, Optional

from mmreid_text.captions import (RELEASE_SOURCES, DatasetKeyResolver,
                                  TemplateKeyResolver, dataset_from_config,
                                  find_release_files, import_release,
                                  save_caption_file)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(
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
        help='fail when items are unresolved or images miss '
        'captions')
    args = parser.parse_args(argv)
    chosen = [
        bool(args.dataset_config),
        bool(args.preset),
        bool(args.template)
    ]
    if sum(chosen) != 1:
        parser.error('give exactly one of --dataset-config, --preset and '
                     '--template')
    expected = None
    if args.dataset_config:
        _, infos = dataset_from_config(args.dataset_config, args.config_split
                                       or args.release_split)
        resolver = DatasetKeyResolver(infos)
        expected = list(resolver.expected)
    elif args.preset:
        resolver = TemplateKeyResolver.from_preset(args.preset,
                                                   args.release_split,
                                                   args.root)
    else:
        if not args.split_dirs:
            parser.error('--template needs --split-dirs')
        mod_dirs = dict(p.split('=', 1) for p in args.mod_dirs.split(',') if p)
        resolver = TemplateKeyResolver(args.template,
                                       args.split_dirs.split(','), mod_dirs,
                                       args.root)
    files = find_release_files(args.files_dir, args.release_split)
    document, report = import_release(
        files,
        resolver,
        dataset=args.dataset,
        split=args.split_name or args.release_split,
        source=RELEASE_SOURCES[args.format],
        expected=expected)
    save_caption_file(args.out, document)
    for modality, counts in report['per_modality'].items():
        print(f'{modality}: {counts["items"]} items -> {counts["keys"]} '
              'caption keys')
    problems = report['unresolved'] + report.get('missing', [])
    if report['unresolved']:
        print(f'{len(report["unresolved"])} items matched no image, e.g. '
              f'{report["unresolved"][:5]}')
    if report.get('missing'):
        print(f'{len(report["missing"])} dataset images have no caption, '
              f'e.g. {report["missing"][:5]} (LoadCaptions needs '
              "on_missing='empty' or 'fallback_template' for them)")
    report_path = args.out[:-5] + '.import.json' if args.out.endswith(
        '.json') else args.out + '.import.json'
    with open(report_path, 'w') as f:
        json.dump(report, f, indent=1)
    print(f'wrote {args.out} ({len(document["captions"])} keys); report '
          f'{report_path}')
    return 3 if (args.strict and problems) else 0


if __name__ == '__main__':
    sys.exit(main())
