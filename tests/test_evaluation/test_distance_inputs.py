# Copyright (c) mmreid_text contributors. All rights reserved.
"""``compute_distance_matrix`` input checks and output dtype.

Added after mutation testing (docs/benchmarks.md): a 1-D query with a 2-D
gallery was accepted by an ``and`` in place of the ``or`` of the shape
check, and the float32 output was not checked for float64 inputs.
"""
import pytest
import torch

from mmreid_text.evaluation.functional.distance import compute_distance_matrix


@pytest.mark.parametrize('query, gallery', [((4, ), (3, 4)), ((2, 4), (4, )),
                                            ((1, 2, 4), (3, 4))])
def test_features_must_be_2d(query, gallery):
    with pytest.raises(ValueError, match='features must be 2-D'):
        compute_distance_matrix(torch.randn(*query), torch.randn(*gallery))


@pytest.mark.parametrize('metric', ['euclidean', 'cosine'])
def test_float64_inputs_give_float32_distances(metric):
    query = torch.tensor([[3., 4.], [0., 1.]], dtype=torch.float64)
    gallery = torch.tensor([[0., 0.], [3., 4.], [1., 0.]], dtype=torch.float64)
    dist = compute_distance_matrix(query, gallery, metric=metric)
    assert dist.dtype == torch.float32 and dist.shape == (2, 3)
    if metric == 'euclidean':
        expected = torch.cdist(query, gallery).float()
        torch.testing.assert_close(dist, expected)
    with pytest.raises(ValueError, match="Unknown distance metric 'l1'"):
        compute_distance_matrix(query, gallery, metric='l1')
