# Copyright (c) mmreid_text contributors. All rights reserved.
"""tools/analysis_tools/twin_separation.py on hand-made distances."""
import json
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.join(REPO, 'tools', 'analysis_tools'))
from twin_separation import twin_accuracy, twin_of  # noqa: E402


def test_twin_of_pairs_from_the_first_pid():
    assert twin_of(np.array([17, 18, 19, 20]), 17).tolist() == [18, 17, 20, 19]


def test_hand_computed_accuracy_and_camera_rule():
    # gallery: pid 5 cam 1, pid 5 cam 2, pid 6 cam 2, pid 6 cam 1
    g_pids, g_cams = np.array([5, 5, 6, 6]), np.array([1, 2, 2, 1])
    q_pids, q_cams = np.array([5, 6, 5]), np.array([1, 1, 2])
    dist = np.array([
        [0.0, 0.3, 0.4, 0.1],  # own cam 2: 0.3 < twin cam 2: 0.4 -> 1
        [0.9, 0.2, 0.5, 0.0],  # pid 6 cam 1: own 0.5 > twin 0.2 -> 0
        [0.7, 0.0, 0.0, 0.7],  # pid 5 cam 2: own 0.7 = twin 0.7 -> 1/2
    ])
    res = twin_accuracy(dist, q_pids, g_pids, q_cams, g_cams)
    assert res == dict(twin_acc=pytest.approx(50.0), num_queries=3)
    with pytest.raises(ValueError, match='temporal_twins'):
        twin_accuracy(dist, q_pids, g_pids + 10, q_cams, g_cams, first_pid=5)


def test_command_line_reads_a_dump(tmp_path):
    out = tmp_path / 'feats.npz'
    arrays = dict(
        ir2vis_distmat=np.array([[0.1, 0.5]]),
        ir2vis_query_pids=np.array([1]),
        ir2vis_gallery_pids=np.array([1, 2]),
        ir2vis_query_camids=np.array([1]),
        ir2vis_gallery_camids=np.array([2, 2]),
        info=np.asarray(json.dumps(dict(settings=['ir2vis']))))
    np.savez(out, **arrays)
    proc = subprocess.run([
        sys.executable,
        osp.join(REPO, 'tools', 'analysis_tools', 'twin_separation.py'),
        str(out)
    ],
                          capture_output=True,
                          text=True,
                          check=True)
    assert 'ir2vis: twin accuracy 100.0% over 1 queries' in proc.stdout


def test_slice_distances_normalise_the_part():
    from twin_separation import slice_distances
    q = np.array([[9.0, 3.0, 0.0]])
    g = np.array([[1.0, 2.0, 0.0], [5.0, 0.0, 4.0]])
    # features 1:3 -> q (3, 0) ~ (1, 0); g (2, 0) ~ (1, 0) and (0, 4) ~ (0, 1)
    np.testing.assert_allclose(
        slice_distances(q, g, 1, 3), [[0.0, np.sqrt(2)]], atol=1e-5)
