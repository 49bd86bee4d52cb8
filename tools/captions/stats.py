# Copyright (c) mmreid_text contributors. All rights reserved.
"""Caption quality report (NEXT Fig. 2 statistics).

For every input - a v1 caption file, a released NEXT / IDEA file
(``<split>_{RGB,NI,TI}.json``) or a folder of either - prints per modality
the number of captions, the mean word count, the rate of captions that
contain 'none', 'unknown' or 'unclear', and (unless ``--no-tokens``) the
mean / max CLIP token count and the rate of captions over 77 tokens.

Exit status 0, or 2 (one line on stderr) when an input is missing or is
not a caption file.

Example::

    python tools/captions/stats.py data/RGBNT201/captions/train_171.json \\
        NEXT-ReID/Annotation_Text/NEXT/201 IDEA/QwenVL_Anno/RGBNT201/text
"""
import glob
import json
import os.path as osp
import sys
from typing import Dict, List, Optional, Tuple

from mmreid_text.captions import (caption_statistics, clip_token_counter,
                                  format_statistics_table, load_caption_file,
                                  read_item_description_list)
from mmreid_text.captions.format import iter_caption_texts
from mmreid_text.captions.importers import RELEASE_MODALITIES
from mmreid_text.utils.cli import OneLineParser


def _release_modality(path: str) -> Optional[str]:
    stem = osp.splitext(osp.basename(path))[0]
    suffix = stem.rsplit('_', 1)[-1]
    return RELEASE_MODALITIES.get(suffix)


def read_triples(path: str) -> List[Tuple[str, str, str]]:
    """``(key, modality, text)`` of a v1 file or a released list file."""
    with open(path, encoding='utf-8') as f:
        data = json.load(f)
    if isinstance(data, list):
        modality = _release_modality(path)
        if modality is None:
            raise ValueError(f'{path}: a released item/description list '
                             'must be named <split>_{RGB,NI,TI}.json')
        return [(item, modality, text)
                for item, text in read_item_description_list(path).items()]
    return list(iter_caption_texts(load_caption_file(path)))


def expand(inputs: List[str]) -> Dict[str, List[str]]:
    """Name -> files; a folder is one name covering its JSON files."""
    groups: Dict[str, List[str]] = {}
    for path in inputs:
        if osp.isdir(path):
            files = sorted(glob.glob(osp.join(path, '*.json')))
            files = [
                f for f in files
                if not f.endswith(('.report.json', '.import.json'))
            ]
            if not files:
                raise FileNotFoundError(f'no .json file in {path!r}')
            groups[osp.normpath(path)] = files
        else:
            groups[path] = [path]
    return groups


def main(argv: Optional[List[str]] = None) -> int:
    parser = OneLineParser(description=__doc__.split('\n')[0])
    parser.add_argument('inputs', nargs='+', help='caption files / folders')
    parser.add_argument(
        '--no-tokens', action='store_true', help='skip CLIP token statistics')
    parser.add_argument(
        '--tokenizer',
        default='ViT-B-16',
        help='open_clip model name of the tokenizer')
    parser.add_argument('--json', help='also write the numbers to this file')
    args = parser.parse_args(argv)
    results = {}
    try:
        for path in args.inputs:
            if not osp.exists(path):
                raise FileNotFoundError(f'{path!r} does not exist')
        counter = None if args.no_tokens else clip_token_counter(
            args.tokenizer)
        for name, files in expand(args.inputs).items():
            triples = []
            for path in files:
                triples += read_triples(path)
            results[name] = caption_statistics(triples, counter)
    except (OSError, ValueError) as err:  # CaptionFileError is a ValueError
        message = ' '.join(str(err).split())
        print(f'error: {message}', file=sys.stderr)
        return 2
    print(format_statistics_table(results))
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(results, f, indent=1)
    return 0


if __name__ == '__main__':
    sys.exit(main())
