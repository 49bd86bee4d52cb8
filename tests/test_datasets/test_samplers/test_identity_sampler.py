# Copyright (c) mmreid_text contributors. All rights reserved.
from collections import Counter
from unittest import mock

import pytest

from mmreid_text.datasets.samplers import IdentityBalancedSampler


class FakeDataset:
    """Only the two methods a sampler may use."""

    def __init__(self, counts):
        self.pids = [p for p, n in enumerate(counts) for _ in range(n)]

    def __len__(self):
        return len(self.pids)

    def get_data_info(self, idx):
        return dict(pid=self.pids[idx])


def _batches(sampler, ds):
    idxs = list(sampler)
    assert len(idxs) == len(sampler)
    bs = sampler.batch_size
    return [[ds.pids[i] for i in idxs[b:b + bs]]
            for b in range(0, len(idxs), bs)]


def test_every_batch_is_p_by_k():
    ds = FakeDataset([3, 9, 4, 13, 6, 8, 2, 5])
    s = IdentityBalancedSampler(ds, batch_size=12, num_instances=4, seed=1)
    batches = _batches(s, ds)
    assert len(batches) == (0 + 2 + 1 + 3 + 1 + 2 + 0 + 1 + 2) // 3
    for b in batches:
        assert len(b) == 12
        assert sorted(Counter(b).values()) == [4, 4, 4]


def test_epochs_reseed_and_are_reproducible():
    ds = FakeDataset([8] * 10)
    s = IdentityBalancedSampler(ds, batch_size=8, num_instances=4, seed=3)
    first = list(s)
    assert list(s) == first
    s.set_epoch(1)
    second = list(s)
    assert second != first
    s2 = IdentityBalancedSampler(ds, batch_size=8, num_instances=4, seed=3)
    s2.set_epoch(1)
    assert list(s2) == second
    # without replacement inside an epoch when every id has 2 groups
    assert sorted(first) == list(range(80))


def test_ddp_ranks_get_whole_identities_and_cover_the_global_batches():
    ds = FakeDataset([4] * 12 + [8] * 4)
    single = IdentityBalancedSampler(ds, batch_size=8, num_instances=4, seed=5)
    per_rank = []
    for rank in range(2):
        with mock.patch(
                'mmreid_text.datasets.samplers.identity_sampler.'
                'get_dist_info',
                return_value=(rank, 2)):
            s = IdentityBalancedSampler(
                ds, batch_size=8, num_instances=4, seed=5)
        per_rank.append(list(s))
        assert len(per_rank[-1]) == len(s)
        for b in _batches(s, ds):
            assert sorted(Counter(b).values()) == [4, 4]
    assert len(per_rank[0]) == len(per_rank[1])
    # the union of both ranks is exactly what one process would see
    glob = single._global_batches()
    n = len(per_rank[0]) // 8
    expected = sorted(int(i) for b in glob[:2 * n] for i in b)
    assert sorted(per_rank[0] + per_rank[1]) == expected


def test_bad_arguments_are_explained():
    ds = FakeDataset([4, 4])
    with pytest.raises(ValueError, match='batch_size'):
        IdentityBalancedSampler(ds, num_instances=4)
    with pytest.raises(ValueError, match='multiple of num_instances'):
        IdentityBalancedSampler(ds, batch_size=10, num_instances=4)
    with pytest.raises(ValueError, match='only 2'):
        IdentityBalancedSampler(ds, batch_size=12, num_instances=4)
