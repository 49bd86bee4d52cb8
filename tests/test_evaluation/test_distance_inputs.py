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


def test_dot_is_the_negative_raw_inner_product_in_chunks():
    """'dot' ranks unnormalised features by q.g (the public VLD code's
    -(q @ g.T)); the norms matter, unlike 'cosine'."""
    query = torch.tensor([[1., 0.], [0., 2.], [3., 1.]])
    gallery = torch.tensor([[2., 0.], [0., 1.], [10., 10.]])
    dist = compute_distance_matrix(query, gallery, metric='dot', chunk_size=2)
    expected = torch.tensor([[-2., 0., -10.], [0., -2., -20.],
                             [-6., -1., -40.]])
    torch.testing.assert_close(dist, expected)
    cosine = compute_distance_matrix(query, gallery, metric='cosine')
    # query 0: by dot the long gallery vector wins, by cosine the aligned
    assert dist[0].argmin() == 2 and cosine[0].argmin() == 0


def test_metric_with_dot_and_no_normalisation():
    from mmreid_text.evaluation import ReIDMetric
    metric = ReIDMetric(metric='dot', feat_norm=False, max_rank=2, ranks=(1, ))
    # the query's true match is short but aligned, a long distractor wins
    samples = [
        dict(
            pred_feature=torch.tensor([1., 0.]),
            pid=0,
            camid=0,
            is_query=True,
            is_gallery=False,
            sample_idx=0),
        dict(
            pred_feature=torch.tensor([0.5, 0.]),
            pid=0,
            camid=1,
            is_query=False,
            is_gallery=True,
            sample_idx=1),
        dict(
            pred_feature=torch.tensor([5., 5.]),
            pid=1,
            camid=1,
            is_query=False,
            is_gallery=True,
            sample_idx=2),
    ]
    metric.process({}, samples)
    assert metric.compute_metrics(metric.results)['R1'] == 0.0
    cosine = ReIDMetric(metric='cosine', max_rank=2, ranks=(1, ))
    cosine.process({}, samples)
    assert cosine.compute_metrics(cosine.results)['R1'] == 100.0
