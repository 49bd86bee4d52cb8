# Copyright (c) mmreid_text contributors. All rights reserved.
import pytest
import torch

from mmreid_text.models.necks import TemporalConv1D
from mmreid_text.models.utils.feature_contract import (FeatureAccessRecorder,
                                                       written_keys)


def test_conv1d_hand_set_kernel():
    """y_t = x_t + sum_j w[c, j] x_{t+j-1} (zero padded), out = mean_t y."""
    neck = TemporalConv1D(embed_dims=2, num_frames=3, init='zeros')
    with torch.no_grad():
        neck.conv.weight.copy_(torch.tensor([[[1., 2., 3.]], [[0., 0., -1.]]]))
    frames = torch.tensor([[1., 10.], [2., 20.], [3., 30.]]).view(1, 1, 3, 2)
    out = neck(dict(proj_cls=frames))['seq_proj_cls']
    # channel 0: conv (8, 14, 8) + x (1, 2, 3) -> mean 12
    # channel 1: conv (-20, -30, 0) + x (10, 20, 30) -> mean 10 / 3
    torch.testing.assert_close(out, torch.tensor([[[12., 10. / 3]]]))
    neck.residual = False
    out = neck(dict(proj_cls=frames))['seq_proj_cls']
    torch.testing.assert_close(out, torch.tensor([[[10., -50. / 3]]]))


def test_conv1d_shift_init():
    """First C/4 channels take the previous frame, last C/4 the next."""
    neck = TemporalConv1D(embed_dims=8, num_frames=3)
    weight = neck.conv.weight[:, 0]
    expected = torch.zeros(8, 3)
    expected[:2, 0] = expected[2:6, 1] = expected[6:, 2] = 1.
    torch.testing.assert_close(weight, expected)
    frames = torch.tensor([1., 2., 3.]).view(1, 1, 3, 1).expand(2, 1, 3, 8)
    out = neck(dict(proj_cls=frames))['seq_proj_cls']
    # previous: (0, 1, 2) + (1, 2, 3) -> 3; self: 2 x mean -> 4;
    # next: (2, 3, 0) + (1, 2, 3) -> 11 / 3
    row = torch.tensor([3., 3., 4., 4., 4., 4., 11. / 3, 11. / 3])
    torch.testing.assert_close(out, row.expand(2, 1, 8))


def test_conv1d_zeros_init_is_temporal_average():
    neck = TemporalConv1D(embed_dims=4, num_frames=5, init='zeros')
    frames = torch.randn(3, 2, 5, 4)
    feats = FeatureAccessRecorder(cls=frames, other=torch.zeros(1))
    neck.in_key, neck.out_key = 'cls', 'seq_cls'
    out = neck(feats)
    torch.testing.assert_close(out['seq_cls'], frames.mean(2))
    assert out['cls'] is frames and 'seq_cls' not in feats
    assert neck.reads == ('cls', ) and neck.writes == ('seq_cls', )
    assert feats.accessed == {'cls'}
    assert written_keys(feats, out) == ('seq_cls', )


def test_conv1d_parameters_at_clip_width():
    """Table IV Conv1D: 512 x 3 depthwise taps = 1,536 parameters. The
    paper's +0.04 M is 1,536 + the 77 x 512 = 39,424 frame-position table
    that TF-CLIP's module builds and Conv_1D never uses (40,960)."""
    neck = TemporalConv1D(embed_dims=512, num_frames=6)
    count = sum(p.numel() for p in neck.parameters() if p.requires_grad)
    assert count == 512 * 3 == 1536
    assert round((count + 77 * 512) / 1e6, 2) == 0.04


def test_conv1d_errors():
    neck = TemporalConv1D(embed_dims=4, num_frames=6)
    with pytest.raises(ValueError, match=r'proj_cls.*\[B, M, 6, 4\]'):
        neck(dict(proj_cls=torch.zeros(2, 1, 3, 4)))
    with pytest.raises(ValueError, match='odd'):
        TemporalConv1D(kernel_size=2)
    with pytest.raises(ValueError, match='init must be'):
        TemporalConv1D(init='normal')
    with pytest.raises(ValueError, match='kernel_size >= 3'):
        TemporalConv1D(kernel_size=1)
