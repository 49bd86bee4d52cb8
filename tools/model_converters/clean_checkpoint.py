# Copyright (c) mmreid_text contributors. All rights reserved.
"""Rewrite a TRUSTED checkpoint so that it loads with weights_only=True.

mmreid_text refuses checkpoints that pickle objects outside the allow-list
of mmengine's own types. If you made such a file yourself (or otherwise
trust where it came from), this tool loads it once with full unpickling and
writes a copy with only the model ``state_dict`` (and, with ``--keep-meta``,
the plain-data part of ``meta``). Never run it on a file you do not trust:
loading it can execute code.
"""
import argparse

import torch


def plain(obj):
    """Keep only plain data (numbers, strings, containers of them)."""
    if isinstance(obj, (int, float, str, bool, type(None))):
        return obj
    if isinstance(obj, (list, tuple)):
        return type(obj)(plain(x) for x in obj)
    if isinstance(obj, dict):
        return {k: plain(v) for k, v in obj.items() if isinstance(k, str)}
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('src', help='checkpoint to clean')
    parser.add_argument('dst', help='where to write the clean copy')
    parser.add_argument(
        '--trust-source',
        action='store_true',
        help='confirm that you trust SRC (it is fully unpickled)')
    parser.add_argument(
        '--keep-meta', action='store_true', help='keep plain-data meta')
    args = parser.parse_args()
    if not args.trust_source:
        parser.error('loading SRC can execute code: pass --trust-source '
                     'only if you trust where the file came from.')
    ckpt = torch.load(args.src, map_location='cpu', weights_only=False)
    state = ckpt.get('state_dict', ckpt) if isinstance(ckpt, dict) else None
    if not isinstance(state, dict) or not all(
            isinstance(v, torch.Tensor) for v in state.values()):
        raise SystemExit(f'{args.src}: no tensor state_dict found.')
    out = dict(state_dict=state)
    if args.keep_meta and isinstance(ckpt.get('meta'), dict):
        out['meta'] = plain(ckpt['meta'])
    torch.save(out, args.dst)
    print(f'wrote {args.dst} ({len(state)} tensors)')


if __name__ == '__main__':
    main()
