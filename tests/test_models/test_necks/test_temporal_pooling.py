# Copyright (c) mmreid_text contributors. All rights reserved.
import pytest
import torch

from mmreid_text.models.necks import TemporalPooling


def test_temporal_pooling_averages_frames():
    pool = TemporalPooling(
        in_keys=('cls', 'sta'), out_keys=('seq_cls', 'seq_sta'), num_frames=3)
    feats = dict(
        cls=torch.arange(2 * 1 * 3 * 2.).view(2, 1, 3, 2),
        sta=torch.ones(2, 1, 3, 4))
    out = pool(feats)
    # tracklet 0: frames (0, 1), (2, 3), (4, 5) -> (2, 3)
    torch.testing.assert_close(out['seq_cls'][0, 0], torch.tensor([2., 3.]))
    torch.testing.assert_close(out['seq_cls'][1, 0], torch.tensor([8., 9.]))
    assert out['seq_sta'].shape == (2, 1, 4)
    assert out['cls'] is feats['cls']
    assert pool.reads == ('cls', 'sta')
    assert pool.writes == ('seq_cls', 'seq_sta')


def test_temporal_pooling_errors():
    pool = TemporalPooling(in_keys=('cls', ), out_keys=('seq', ), num_frames=6)
    with pytest.raises(ValueError, match=r'\[B, M, 6, \.\.\.\]'):
        pool(dict(cls=torch.zeros(2, 1, 3, 8)))
    with pytest.raises(ValueError, match='per-frame'):
        TemporalPooling(
            in_keys=('cls', ), out_keys=('seq', ))(
                dict(cls=torch.zeros(2, 8)))
    with pytest.raises(ValueError, match='same length'):
        TemporalPooling(in_keys=('a', 'b'), out_keys=('c', ))
