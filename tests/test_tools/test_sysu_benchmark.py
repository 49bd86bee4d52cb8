# Copyright (c) mmreid_text contributors. All rights reserved.
"""benchmarks/benchmark_sysu_protocol.py on a tiny problem (seconds)."""
import json
import os.path as osp
import sys

import numpy as np

from .conftest import REPO

sys.path.insert(0, osp.join(REPO, 'benchmarks'))
import benchmark_sysu_protocol  # noqa: E402


def test_synthetic_split_has_the_sysu_shape():
    data = benchmark_sysu_protocol.synthetic_sysu(96, 3803, 301, 6.0, 4, 0)
    query = data['is_query']
    assert query.sum() == 3803
    assert set(data['camid'][query]) == {3, 6}
    assert set(data['camid'][~query]) == {1, 2, 4, 5}
    folders = {(p, c)
               for p, c in zip(data['pid'][~query], data['camid'][~query])}
    assert len(folders) == 301  # = the single-shot all-search gallery
    assert len({p for p, _ in folders}) == 96
    sizes = np.unique(
        np.stack([data['pid'][~query], data['camid'][~query]], 1),
        axis=0,
        return_counts=True)[1]
    assert sizes.min() < 10 <= sizes.max()  # short multi-shot folders too


def test_runs_and_reports(tmp_path, capsys):
    out = tmp_path / 'sysu.json'
    benchmark_sysu_protocol.main([
        '--num-ids', '8', '--num-query', '40', '--num-folders', '20',
        '--feat-dim', '8', '--num-trials', '2', '--warmup', '0', '--iters',
        '1', '--json',
        str(out)
    ])
    printed = capsys.readouterr().out
    assert 'rank all_single' in printed and 'ReIDMetric, 4 settings' in printed
    result = json.loads(out.read_text())
    assert result['num_gallery']['all_single'] == 20
    assert set(result['wall_seconds']) == {
        'rank all_single', 'rank all_multi', 'rank indoor_single',
        'rank indoor_multi', 'ReIDMetric, 4 settings'
    }
