# Copyright (c) mmreid_text contributors. All rights reserved.
"""tools/analysis_tools/chance_level.py against hand-computed chance."""
import math

import pytest


class FakeDataset:
    """Info dicts only: ``infos`` as a dataset would return them."""

    def __init__(self, infos):
        self.infos = infos

    def __len__(self):
        return len(self.infos)

    def get_data_info(self, index):
        return dict(self.infos[index], sample_idx=index)


def one_positive_among(n_gallery, n_queries=6):
    """Each query has exactly one true match among ``n_gallery`` gallery
    entries from another camera: a random ranking puts it at rank r with
    probability 1/n, so R1 = 1/n and mAP = mean(1/r) = H_n / n."""
    infos = []
    for q in range(n_queries):
        infos.append(
            dict(pid=q, camid=0, is_query=True, is_gallery=False, scene_id=-1))
    for g in range(n_gallery):
        infos.append(
            dict(pid=g, camid=1, is_query=False, is_gallery=True, scene_id=-1))
    return FakeDataset(infos)


def test_random_ranking_matches_the_expectation(load_tool):
    tool = load_tool('tools/analysis_tools/chance_level.py')
    n = 4
    stats = tool.chance_level(
        one_positive_among(n),
        dict(type='ReIDMetric', protocol='market', max_rank=4, ranks=(1, 4)),
        trials=300)
    harmonic = sum(1 / r for r in range(1, n + 1))
    # 300 trials x 6 queries: standard error ~1.2 points for R1
    assert stats['R1'][0] == pytest.approx(100 / n, abs=4)
    assert stats['mAP'][0] == pytest.approx(100 * harmonic / n, abs=3)
    assert stats['R4'][0] == pytest.approx(100.0)
    assert math.isfinite(stats['mINP'][0])


def test_every_setting_of_a_multi_setting_protocol(load_tool):
    """vcm: both directions evaluated, each with its own keys."""
    tool = load_tool('tools/analysis_tools/chance_level.py')
    infos = []
    for pid in range(4):
        infos.append(
            dict(
                pid=pid,
                camid=0,
                modality='ir',
                is_query=True,
                is_gallery=False,
                scene_id=-1))
        for camid in (1, 2):
            infos.append(
                dict(
                    pid=pid,
                    camid=camid,
                    modality='vis',
                    is_query=False,
                    is_gallery=True,
                    scene_id=-1))
    stats = tool.chance_level(
        FakeDataset(infos),
        dict(type='ReIDMetric', protocol='vcm', max_rank=8, ranks=(1, )),
        trials=50)
    assert {'ir2vis/mAP', 'vis2ir/mAP', 'ir2vis/R1', 'vis2ir/R1'} <= set(stats)
    # ir2vis: 4 IR queries, 8 visible gallery entries, 2 positives each
    assert stats['ir2vis/num_queries'][0] == 4
    assert stats['vis2ir/num_queries'][0] == 8
