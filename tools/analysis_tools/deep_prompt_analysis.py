# Copyright (c) mmreid_text contributors. All rights reserved.
"""DEEP's learned spectral prompts: similarity matrix and nearest words.

    python tools/analysis_tools/deep_prompt_analysis.py CONFIG CKPT \\
        --out-dir work_dirs/deep_prompts --topk 5 [--vocab words.txt]

For the ``SpectralInversionPrompt`` neck (``spectral_prompt='learnable'``)
of the model, with ``S_m`` its ``K`` learned tokens of spectrum ``m``:

- ``similarity.png``: cosine similarity of all ``M x K`` learned tokens
  (labels ``rgb[0]`` ..., spectra separated by white lines), the view of
  DEEP Fig. 7 (low similarity across spectra = decoupled style tokens);
  also ``similarity.csv``;
- ``nearest_words.md`` / ``.csv`` (and printed): the ``topk`` nearest
  vocabulary entries of each learned token by cosine to the text encoder's
  token-embedding table (all BPE tokens, start/end of text excluded), or,
  with ``--vocab`` (one word per line, as DEEP Fig. 12's curated attribute
  list), the nearest of those words (a word embedded as the mean of its
  BPE tokens).
"""
import argparse
import os
import os.path as osp
import sys

sys.path.insert(0,
                osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

import numpy as np  # noqa: E402

from mmreid_text import visualization as vis  # noqa: E402
from mmreid_text.utils.cli import parse_cfg_options  # noqa: E402
from mmreid_text.visualization.model_io import load_model  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='config file')
    parser.add_argument(
        'checkpoint', help='checkpoint file ("none": random init)')
    parser.add_argument('--out-dir', default='work_dirs/deep_prompts')
    parser.add_argument('--topk', type=int, default=5)
    parser.add_argument('--vocab', help='word list file, one word a line')
    parser.add_argument(
        '--cfg-options', nargs='+', default=[], help='key=value overrides')
    return parser.parse_args(argv)


def find_prompt_learner(model):
    """The model's neck with learnable ``spectral_tokens``."""
    for module in model.modules():
        if hasattr(module, 'spectral_tokens') and hasattr(
                module, 'modalities'):
            return module
    raise SystemExit('The model has no SpectralInversionPrompt neck (DEEP '
                     "DSP); use a configs/deep/ config.")


def analyse(model, topk=5, vocabulary=None) -> dict:
    """``{'labels', 'matrix' [N, N], 'neighbours', 'modalities', 'K'}``."""
    learner = find_prompt_learner(model)
    tokens, labels = vis.learned_spectral_tokens(learner)
    encoder = learner.text_encoder
    neighbours = vis.nearest_words(
        tokens,
        encoder.encoder.token_embedding.weight,
        encoder.tokenizer,
        topk=topk,
        vocabulary=vocabulary,
        exclude_ids=(encoder.sot_token_id, encoder.eot_token_id))
    return dict(
        labels=labels,
        matrix=vis.cosine_similarity_matrix(tokens).cpu().numpy(),
        neighbours=neighbours,
        modalities=list(learner.modalities),
        num_tokens=learner.num_spectral_tokens)


def main(argv=None):
    args = parse_args(argv)
    checkpoint = None if args.checkpoint == 'none' else args.checkpoint
    model = load_model(args.config, checkpoint,
                       parse_cfg_options(args.cfg_options))
    vocabulary = None
    if args.vocab is not None:
        with open(args.vocab, encoding='utf-8') as f:
            vocabulary = [w.strip() for w in f if w.strip()]
    result = analyse(model, args.topk, vocabulary)
    os.makedirs(args.out_dir, exist_ok=True)
    labels, matrix = result['labels'], result['matrix']
    groups = {m: result['num_tokens'] for m in result['modalities']}
    vis.plot_similarity_matrix(
        matrix,
        labels,
        osp.join(args.out_dir, 'similarity.png'),
        title='Cosine similarity of the learned spectral tokens',
        groups=groups)
    with open(osp.join(args.out_dir, 'similarity.csv'), 'w') as f:
        f.write(','.join(['token'] + labels) + '\n')
        for label, row in zip(labels, matrix):
            f.write(','.join([label] + [f'{v:.6f}' for v in row]) + '\n')
    table = vis.nearest_words_table(labels, result['neighbours'], 'md')
    with open(osp.join(args.out_dir, 'nearest_words.md'), 'w') as f:
        f.write(table)
    with open(osp.join(args.out_dir, 'nearest_words.csv'), 'w') as f:
        f.write(vis.nearest_words_table(labels, result['neighbours'], 'csv'))
    print(table)
    off = matrix[~np.eye(len(matrix), dtype=bool)]
    print(f'mean off-diagonal cosine {off.mean():.3f}; files in '
          f'{args.out_dir}')
    return result


if __name__ == '__main__':
    main()
