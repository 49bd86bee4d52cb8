# Copyright (c) mmreid_text contributors. All rights reserved.
"""Norms of the visual and the text block of DEEP's retrieval feature.

    python tools/analysis_tools/retrieval_block_norms.py CONFIG CHECKPOINT

``DEEPHead`` ranks with ``retrieval = cat(F, P)``, ``F = cat_m f_m`` (the
visual features, ``[M*C]``) and ``P = cat_m p_m`` (the text prompts,
``[M*E]``). With ``retrieval_norm='global'`` ``ReIDMetric`` L2-normalises
the whole vector, so the block with the larger norm dominates the
distance. This tool runs the model over the test split of CONFIG (every
sample once, no missing modality) and prints mean +- std of ``||F||``,
``||P||``, of every ``||f_m||`` / ``||p_m||`` and of ``||F||^2 / (||F||^2 +
||P||^2)``, the visual block's share of the globally normalised vector.
``--json`` adds a last line with the same numbers.
"""
import argparse
import json
import os.path as osp
import sys
from typing import Dict, Tuple

sys.path.insert(0,
                osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

import torch  # noqa: E402
from mmengine.config import DictAction  # noqa: E402
from mmengine.runner import load_checkpoint  # noqa: E402

from mmreid_text.engine.runner import ReIDRunner  # noqa: E402
from mmreid_text.models.heads import DEEPHead  # noqa: E402
from mmreid_text.registry import MODELS  # noqa: E402
from mmreid_text.utils import load_config  # noqa: E402
from mmreid_text.utils import register_all_modules  # noqa: E402


def check_head(model) -> DEEPHead:
    """``model.head`` if it is a DEEPHead with a text block, else raise."""
    head = model.head
    if not isinstance(head, DEEPHead) or head.text_key is None:
        what = (' with text_key=None' if isinstance(head, DEEPHead) else '')
        raise ValueError(
            'retrieval_block_norms needs a DEEPHead with text_key set (a '
            'retrieval feature made of a visual and a text block); the '
            f'model has {type(head).__name__}{what}.')
    return head


def retrieval_blocks(model, data: dict) -> Tuple[torch.Tensor, torch.Tensor]:
    """The visual ``[B, M, C]`` and text ``[B, M, E]`` blocks of one batch
    as ``DEEPHead`` concatenates them before any block normalisation."""
    head = check_head(model)
    data = model.data_preprocessor(data, training=False)
    norm = head.retrieval_norm
    head.retrieval_norm = 'global'  # the raw blocks
    try:
        with torch.no_grad():
            retrieval = model(
                data['inputs'], data['data_samples'],
                mode='tensor')['retrieval']
    finally:
        head.retrieval_norm = norm
    num_modalities = head.num_modalities
    width = num_modalities * head.text_channels
    visual, text = retrieval[:, :-width], retrieval[:, -width:]
    return (visual.reshape(len(visual), num_modalities,
                           -1), text.reshape(len(text), num_modalities, -1))


def block_norms(model, dataloader) -> Dict[str, torch.Tensor]:
    """Per-sample norms ``[num_samples]`` over ``dataloader``: ``'F'``,
    ``'P'``, ``'f_<m>'``, ``'p_<m>'`` and ``'share_F'``."""
    norms = {}
    modalities = check_head(model).modalities
    for data in dataloader:
        visual, text = retrieval_blocks(model, data)
        batch = dict(
            F=visual.flatten(1).norm(dim=1), P=text.flatten(1).norm(dim=1))
        for index, name in enumerate(modalities):
            batch[f'f_{name}'] = visual[:, index].norm(dim=1)
            batch[f'p_{name}'] = text[:, index].norm(dim=1)
        batch['share_F'] = batch['F']**2 / (batch['F']**2 + batch['P']**2)
        for key, value in batch.items():
            norms.setdefault(key, []).append(value.float().cpu())
    if not norms:
        raise ValueError('The test dataloader is empty.')
    return {key: torch.cat(values) for key, values in norms.items()}


def summarise(
        norms: Dict[str, torch.Tensor]) -> Dict[str, Tuple[float, float]]:
    """``{name: (mean, std)}``; std is the population std (``N``)."""
    return {
        key: (float(v.mean()), float(v.std(unbiased=False)))
        for key, v in norms.items()
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--json', action='store_true', help='print a JSON last line')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings; unknown keys are an error')
    args = parser.parse_args(argv)
    register_all_modules()
    cfg = load_config(args.config, args.cfg_options)
    model = MODELS.build(cfg.model)
    load_checkpoint(model, args.checkpoint, map_location='cpu', strict=True)
    if torch.cuda.is_available():
        model = model.cuda()
    model.eval()
    dataloader = ReIDRunner.build_dataloader(cfg.test_dataloader)
    stats = summarise(block_norms(model, dataloader))
    count = len(dataloader.dataset)
    print(f'retrieval blocks of {osp.basename(args.config)} on '
          f'{count} test samples (mean +- std):')
    labels = dict(F='||F|| = ||cat f||', P='||P|| = ||cat p||')
    for name in model.head.modalities:
        labels[f'f_{name}'] = f'||f_{name}||'
        labels[f'p_{name}'] = f'||p_{name}||'
    labels['share_F'] = '||F||^2 / ||retrieval||^2'
    for key, label in labels.items():
        mean, std = stats[key]
        print(f'  {label:<28}{mean:10.3f} +- {std:.3f}')
    if args.json:
        print(json.dumps({k: list(v) for k, v in stats.items()}))
    return stats


if __name__ == '__main__':
    main()
