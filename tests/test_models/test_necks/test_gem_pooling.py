# Copyright (c) mmreid_text contributors. All rights reserved.
"""GeMPooling against hand-computed values."""
import math

import pytest
import torch

from mmreid_text.models.necks import GeMPooling
from mmreid_text.models.utils.feature_contract import (FeatureAccessRecorder,
                                                       get_feature_keys,
                                                       written_keys)
from mmreid_text.registry import MODELS

#: one channel, a 2x2 map [[1, 2], [3, 4]] as [B=1, M=1, C=1, 2, 2]
MAP = torch.tensor([[1., 2.], [3., 4.]]).view(1, 1, 1, 2, 2)


def _gem(p, **kwargs):
    return GeMPooling(p=p, **kwargs)


def test_two_by_two_by_hand():
    # p = 3: ((1 + 8 + 27 + 64) / 4) ** (1 / 3) = 25 ** (1 / 3)
    out = _gem(3.0)(dict(feature_map=MAP))['gem']
    assert out.shape == (1, 1, 1)
    torch.testing.assert_close(out, torch.full((1, 1, 1), 25**(1 / 3)))
    assert abs(out.item() - 2.9240177) < 1e-5
    # p = 1 is the average
    torch.testing.assert_close(
        _gem(1.0)(dict(feature_map=MAP))['gem'], torch.full((1, 1, 1), 2.5))
    # p = 2: sqrt((1 + 4 + 9 + 16) / 4) = sqrt(7.5)
    torch.testing.assert_close(
        _gem(2.0)(dict(feature_map=MAP))['gem'],
        torch.full((1, 1, 1), math.sqrt(7.5)))


def test_large_p_tends_to_max_pooling():
    values = [
        _gem(p)(dict(feature_map=MAP))['gem'].item() for p in (1, 3, 10, 40)
    ]
    assert values == sorted(values) and values[-1] < 4.0
    # p = 40: 4 * ((1 + (3/4)^40 + (2/4)^40 + (1/4)^40) / 4) ** (1 / 40)
    tail = 1 + 0.75**40 + 0.5**40 + 0.25**40
    assert abs(values[-1] - 4 * (tail / 4)**(1 / 40)) < 1e-4
    assert values[-1] > 3.86


def test_clamps_non_positive_values_at_eps():
    # [[-1, 0], [8, 8]] -> (eps^3 + eps^3 + 512 + 512) / 4 = 256
    x = torch.tensor([[-1., 0.], [8., 8.]]).view(1, 1, 1, 2, 2)
    out = _gem(3.0)(dict(feature_map=x))['gem']
    torch.testing.assert_close(out, torch.full((1, 1, 1), 256**(1 / 3)))
    tiny = _gem(3.0)(dict(feature_map=-torch.ones(1, 1, 1, 2, 2)))['gem']
    torch.testing.assert_close(tiny, torch.full((1, 1, 1), 1e-6))


def test_gradient_to_p_matches_the_derivative():
    neck = _gem(3.0)
    assert isinstance(neck.p, torch.nn.Parameter) and neck.p.item() == 3.0
    neck(dict(feature_map=MAP))['gem'].sum().backward()
    # y = m^(1/p), m = mean x^p: dy/dp = y (mean(x^p ln x) / (p m)
    #                                        - ln m / p^2)
    xs, p = [1., 2., 3., 4.], 3.0
    m = sum(x**p for x in xs) / 4
    y = m**(1 / p)
    dmean = sum(x**p * math.log(x) for x in xs) / 4
    expected = y * (dmean / (p * m) - math.log(m) / p**2)
    assert abs(neck.p.grad.item() - expected) < 1e-5
    assert abs(expected - 0.16214) < 1e-4
    fixed = _gem(3.0, learnable_p=False)
    assert not any(True for _ in fixed.parameters())
    assert 'p' in dict(fixed.named_buffers())


def test_shapes_keys_and_contract():
    neck = MODELS.build(dict(type='GeMPooling'))
    assert (neck.in_key, neck.out_key, neck.eps) == ('feature_map', 'gem',
                                                     1e-6)
    keys = get_feature_keys(neck)
    assert keys.reads == ('feature_map', ) and keys.writes == ('gem', )
    x = torch.rand(2, 1, 8, 3, 2)
    feats = FeatureAccessRecorder(feature_map=x, cls=torch.zeros(2, 1, 8))
    out = neck(feats)
    assert feats.accessed == {'feature_map'}
    assert written_keys(feats, out) == ('gem', )
    assert out['gem'].shape == (2, 1, 8)
    # every channel pooled on its own
    by_hand = x.clamp(min=1e-6).pow(3).mean(dim=(-2, -1)).pow(1 / 3)
    torch.testing.assert_close(out['gem'], by_hand)
    video = torch.rand(2, 1, 4, 8, 3, 2)
    pooled = neck(dict(feature_map=video))['gem']
    assert pooled.shape == (2, 1, 4, 8)
    torch.testing.assert_close(pooled[:, :, 1],
                               neck(dict(feature_map=video[:, :, 1]))['gem'])
    custom = GeMPooling(in_key='map', out_key='pooled')
    assert get_feature_keys(custom).writes == ('pooled', )
    half = neck(dict(feature_map=x.half()))['gem']
    assert half.dtype == torch.float16
    torch.testing.assert_close(half.float(), by_hand, rtol=1e-3, atol=1e-3)


def test_errors():
    with pytest.raises(ValueError, match='p must be > 0'):
        GeMPooling(p=0)
    with pytest.raises(ValueError, match='eps must be > 0'):
        GeMPooling(eps=0)
    with pytest.raises(ValueError, match=r'\[B, M, C, h, w\]'):
        GeMPooling()(dict(feature_map=torch.rand(2, 1, 8)))
