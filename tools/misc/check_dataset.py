# Copyright (c) mmreid_text contributors. All rights reserved.
"""Check that a dataset is where a config expects it, complete and readable.

    python tools/misc/check_dataset.py configs/baseline/clip_vitb16_rgbnt201.py

Builds the train and test datasets of the config (which already checks the
layout, the file names and that every modality file exists), prints a table
of split sizes, then decodes every image and lists every file that cannot be
read. Exits with status 1 when anything is wrong.
"""
import argparse
import os.path as osp
import sys
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0,
                osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from mmengine.config import DictAction  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402
from tqdm import tqdm  # noqa: E402

from mmreid_text.datasets.transforms import read_image  # noqa: E402
from mmreid_text.registry import DATASETS  # noqa: E402
from mmreid_text.utils import load_config  # noqa: E402
from mmreid_text.utils import register_all_modules  # noqa: E402


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument(
        '--splits',
        nargs='+',
        default=['train_dataloader', 'test_dataloader'],
        help='dataloaders of the config whose datasets are checked')
    parser.add_argument(
        '--skip-decode', action='store_true', help='do not decode images')
    parser.add_argument('--workers', type=int, default=4)
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args()


def image_files(dataset):
    files = set()
    for i in range(len(dataset)):
        for p in dataset.get_data_info(i)['img_path'].values():
            files.update(p if isinstance(p, (list, tuple)) else [p])
    return sorted(files)


def decode_all(files, workers):
    bad = []

    def check(path):
        try:
            read_image(path)
        except Exception as err:  # report every failure, keep going
            return f'{path}: {err}'
        return None

    with ThreadPoolExecutor(workers) as pool:
        for msg in tqdm(
                pool.map(check, files), total=len(files), desc='decoding'):
            if msg:
                bad.append(msg)
    return bad


def main():
    args = parse_args()
    register_all_modules()
    cfg = load_config(args.config, args.cfg_options)
    table = Table(title=f'datasets of {osp.basename(args.config)}')
    for col in ('loader', 'type', 'root', 'samples', 'ids', 'cameras', 'query',
                'gallery'):
        table.add_column(col)
    problems = []
    for key in args.splits:
        ds_cfg = cfg[key]['dataset']
        try:
            ds = DATASETS.build(ds_cfg)
        except Exception as err:
            problems.append(f'{key}: {err}')
            continue
        infos = [ds.get_data_info(i) for i in range(len(ds))]
        table.add_row(key, ds_cfg['type'], str(ds.data_root), str(len(ds)),
                      str(len({x['pid']
                               for x in infos})),
                      str(len({x['camid']
                               for x in infos})),
                      str(sum(x['is_query'] for x in infos)),
                      str(sum(x['is_gallery'] for x in infos)))
        if not args.skip_decode:
            problems.extend(decode_all(image_files(ds), args.workers))
    Console().print(table)
    if problems:
        print(f'{len(problems)} problem(s):')
        for p in problems:
            print(' -', p)
        sys.exit(1)
    print('OK: every sample is complete and every image decodes.')


if __name__ == '__main__':
    main()
