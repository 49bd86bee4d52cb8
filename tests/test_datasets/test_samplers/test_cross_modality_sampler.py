# Copyright (c) mmreid_text contributors. All rights reserved.
from collections import Counter
from unittest import mock

import pytest

from mmreid_text.datasets.samplers import CrossModalityIdentitySampler
from mmreid_text.utils import register_all_modules

register_all_modules()

SAMPLER = 'mmreid_text.datasets.samplers.cross_modality_sampler.'


class InfoDataset:
    """Info dicts of the VI video contract, built from plain dicts."""

    def __init__(self, counts):
        """``counts``: ``{pid: (num_vis, num_ir)}``."""
        self.infos = []
        for pid, (n_vis, n_ir) in counts.items():
            for mod, num in (('vis', n_vis), ('ir', n_ir)):
                for k in range(num):
                    frames = [
                        f'{pid:04d}/{mod}/D1/{k}_{f}.jpg' for f in range(3)
                    ]
                    self.infos.append(
                        dict(
                            img_path={mod: ['/data/' + f for f in frames]},
                            rel_img_path={mod: frames},
                            modalities=(mod, ),
                            modality=mod,
                            stored_modalities=('vis', 'ir'),
                            pid=pid,
                            camid=k % 3,
                            scene_id=-1,
                            is_query=False,
                            is_gallery=False,
                            num_frames_total=3))

    def __len__(self):
        return len(self.infos)

    def get_data_info(self, idx):
        return dict(self.infos[idx])


def _batches(sampler, ds):
    idxs = list(sampler)
    assert len(idxs) == len(sampler)
    bs = sampler.batch_size
    return [[ds.get_data_info(i) for i in idxs[b:b + bs]]
            for b in range(0, len(idxs), bs)]


def _check_batch(batch, p, k):
    """Exact layout: P identities, each K vis then K ir."""
    assert len(batch) == p * 2 * k
    pids = []
    for j in range(p):
        block = batch[j * 2 * k:(j + 1) * 2 * k]
        assert [b['modality'] for b in block] == ['vis'] * k + ['ir'] * k
        assert len({b['pid'] for b in block}) == 1
        pids.append(block[0]['pid'])
    assert len(set(pids)) == p  # distinct identities
    return pids


def test_batch_composition_is_exact():
    counts = {p: (4 + p % 3, 2 + p % 4) for p in range(10)}
    ds = InfoDataset(counts)
    s = CrossModalityIdentitySampler(
        ds, batch_size=16, num_instances=2, seed=1)
    # P = 16 / (2 x 2) = 4; units per id = max(n_vis, n_ir) // 2
    units = sum(max(v, i) // 2 for v, i in counts.values())
    assert len(s) == units // 4 * 16
    for b in _batches(s, ds):
        _check_batch(b, p=4, k=2)


def test_each_epoch_sees_every_sample_of_the_larger_modality():
    # P = all 3 identities, 2 units each -> 2 batches, no choice to make
    ds = InfoDataset({0: (4, 2), 1: (4, 3), 2: (3, 4)})
    s = CrossModalityIdentitySampler(
        ds, batch_size=12, num_instances=2, seed=2)
    batches = _batches(s, ds)
    assert len(batches) == 2
    seen = Counter(i for i in list(s))
    by_pid_mod = {}
    for idx, info in enumerate(ds.infos):
        by_pid_mod.setdefault((info['pid'], info['modality']), []).append(idx)
    assert all(seen[i] == 1 for i in by_pid_mod[(0, 'vis')])
    assert all(seen[i] == 1 for i in by_pid_mod[(1, 'vis')])
    assert all(seen[i] == 1 for i in by_pid_mod[(2, 'ir')])
    # pid 0 has 2 ir tracklets for 2 units: each one used twice
    assert all(seen[i] == 2 for i in by_pid_mod[(0, 'ir')])


def test_fewer_than_k_samples_are_drawn_with_replacement():
    ds = InfoDataset({0: (1, 5), 1: (4, 4), 2: (4, 4)})
    s = CrossModalityIdentitySampler(
        ds, batch_size=12, num_instances=2, seed=0)
    only_vis_of_0 = next(i for i, f in enumerate(ds.infos)
                         if f['pid'] == 0 and f['modality'] == 'vis')
    for b in _batches(s, ds):
        _check_batch(b, p=3, k=2)
    idxs = list(s)
    block = [i for i in idxs if ds.infos[i]['pid'] == 0][:4]
    assert block[:2] == [only_vis_of_0, only_vis_of_0]
    # 2 visible samples for K = 4: each unit draws 4 with replacement, so
    # some units are not an even 2 + 2 (a cycled permutation always is)
    ds = InfoDataset({0: (2, 8), 1: (8, 8)})
    s = CrossModalityIdentitySampler(
        ds, batch_size=16, num_instances=4, seed=0)
    splits = set()
    for epoch in range(5):
        s.set_epoch(epoch)
        for b in _batches(s, ds):
            _check_batch(b, p=2, k=4)
            vis_of_0 = [
                f['rel_img_path']['vis'][0] for f in b
                if f['pid'] == 0 and f['modality'] == 'vis'
            ]
            splits.add(tuple(sorted(Counter(vis_of_0).values())))
    assert splits - {(2, 2)}, splits


def test_identities_lacking_a_modality_are_reported_and_skipped():
    ds = InfoDataset({0: (4, 4), 1: (4, 0), 2: (0, 3), 3: (4, 4), 4: (2, 2)})
    with pytest.warns(
            UserWarning,
            match=r"2 of 5 identities lack a modality \(identities without "
            r"it: {'vis': 1, 'ir': 1}\) and are skipped: pids \[1, 2\]"):
        s = CrossModalityIdentitySampler(
            ds, batch_size=8, num_instances=2, seed=0)
    assert s.skipped_pids == (1, 2)
    assert {i['pid'] for i in (ds.infos[j] for j in s)} == {0, 3, 4}
    # another modality in the dataset is reported too, and the samples
    # after it are still read
    ds = InfoDataset({0: (4, 4), 1: (2, 2)})
    ds.infos.insert(0, dict(ds.infos[0], modality='nir', modalities=('nir', )))
    with pytest.warns(UserWarning, match="1 samples of modalities {'nir': 1}"):
        s = CrossModalityIdentitySampler(ds, batch_size=8, num_instances=2)
    assert s.pids == [0, 1] and 0 not in set(s)
    assert {
        m: len(v)
        for m, v in s.index_by_pid[1].items()
    } == dict(
        vis=2, ir=2)


def test_deterministic_per_seed_and_epoch():
    ds = InfoDataset({p: (6, 4) for p in range(8)})
    s = CrossModalityIdentitySampler(ds, batch_size=8, num_instances=2, seed=3)
    first = list(s)
    assert list(s) == first
    s.set_epoch(1)
    second = list(s)
    assert second != first
    s2 = CrossModalityIdentitySampler(
        ds, batch_size=8, num_instances=2, seed=3)
    s2.set_epoch(1)
    assert list(s2) == second
    other = CrossModalityIdentitySampler(
        ds, batch_size=8, num_instances=2, seed=4)
    assert list(other) != first


def test_shuffle_false_draws_nothing_random():
    ds = InfoDataset({p: (4, 2) for p in range(4)})
    a = CrossModalityIdentitySampler(
        ds, batch_size=8, num_instances=2, shuffle=False, seed=1)
    b = CrossModalityIdentitySampler(
        ds, batch_size=8, num_instances=2, shuffle=False, seed=2)
    assert list(a) == list(b)
    first = _batches(a, ds)[0]
    assert _check_batch(first, p=2, k=2) == [0, 1]
    # dataset order inside a modality: vis samples 0, 1 of pid 0
    assert [f['rel_img_path']['vis'][0] for f in first[:2]
            ] == ['0000/vis/D1/0_0.jpg', '0000/vis/D1/1_0.jpg']


def _entries(batch):
    """``(pid, modality, sample k)`` of every batch entry."""
    return [(f['pid'], f['modality'],
             int(f['rel_img_path'][f['modality']][0].split('/')[-1][0]))
            for f in batch]


def test_shuffle_false_epoch_by_hand():
    # units: pid 0 -> 1, pid 1 -> 8 // 2 = 4 (one ir sample, resized to
    # K = 2), pid 2 -> 1; 6 units // P = 2 -> 3 batches. Without shuffle the
    # identities with most units left come first (ties: lower pid), and an
    # exhausted identity is refilled in pid order.
    ds = InfoDataset({0: (2, 2), 1: (8, 1), 2: (2, 2)})
    s = CrossModalityIdentitySampler(
        ds, batch_size=8, num_instances=2, shuffle=False)

    def unit(pid, vis, ir):
        return [(pid, 'vis', k) for k in vis] + [(pid, 'ir', k) for k in ir]

    expected = [
        unit(1, (0, 1), (0, 0)) + unit(0, (0, 1), (0, 1)),
        unit(1, (2, 3), (0, 0)) + unit(2, (0, 1), (0, 1)),
        # only pid 1 has units left: pid 0 is refilled (its unit again)
        unit(1, (4, 5), (0, 0)) + unit(0, (0, 1), (0, 1)),
    ]
    assert [_entries(b) for b in _batches(s, ds)] == expected


def test_exhausted_identities_are_refilled_when_shuffled():
    # pid 1 has 4 units, the others 1: some batches need a refilled
    # identity, which then appears more often than its units in the epoch
    ds = InfoDataset({0: (2, 2), 1: (8, 8), 2: (2, 2)})
    s = CrossModalityIdentitySampler(ds, batch_size=8, num_instances=2, seed=0)
    refilled = 0
    for epoch in range(6):
        s.set_epoch(epoch)
        batches = _batches(s, ds)
        assert len(batches) == 3
        pids = Counter(p for b in batches for p in _check_batch(b, p=2, k=2))
        refilled += pids[0] > 1 or pids[2] > 1
    assert refilled > 0


def test_groups_of_an_identity_are_reshuffled_every_epoch():
    # 6 visible samples, K = 2: the seeded sampler cuts a new permutation
    # each epoch, not the dataset order
    ds = InfoDataset({p: (6, 6) for p in range(2)})
    s = CrossModalityIdentitySampler(ds, batch_size=8, num_instances=2, seed=0)
    firsts = set()
    for epoch in range(4):
        s.set_epoch(epoch)
        first = _entries(_batches(s, ds)[0])
        firsts.add(tuple(k for _, mod, k in first[:2]))
    assert len(firsts) > 1 and firsts != {(0, 1)}


def test_modality_comes_from_modality_or_a_single_modalities_entry():
    from mmreid_text.datasets.samplers.cross_modality_sampler import \
        sample_modality
    assert sample_modality(dict(modality='ir', modalities=('ir', )), 0) == 'ir'
    assert sample_modality(dict(modality=None, modalities=('ir', )), 0) == 'ir'
    assert sample_modality(dict(modalities=['vis']), 0) == 'vis'
    for bad in (dict(modalities=('vis', 'ir')), dict()):
        with pytest.raises(ValueError, match='sample 7 has modalities'):
            sample_modality(bad, 7)


def test_ddp_ranks_get_whole_identities_and_equal_lengths():
    ds = InfoDataset({p: (4 + 2 * (p % 2), 2 + p % 3) for p in range(9)})
    single = CrossModalityIdentitySampler(
        ds, batch_size=8, num_instances=2, seed=5)
    per_rank = []
    for rank in range(2):
        with mock.patch(SAMPLER + 'get_dist_info', return_value=(rank, 2)):
            s = CrossModalityIdentitySampler(
                ds, batch_size=8, num_instances=2, seed=5)
        idxs = list(s)
        assert len(idxs) == len(s)
        for b in _batches(s, ds):
            _check_batch(b, p=2, k=2)
        per_rank.append(idxs)
    assert len(per_rank[0]) == len(per_rank[1]) > 0
    # the two ranks interleave the global batches of one process
    glob = single._global_batches()
    n = len(per_rank[0]) // 8
    assert [int(i) for b in glob[0:2 * n:2] for i in b] == per_rank[0]
    assert [int(i) for b in glob[1:2 * n:2] for i in b] == per_rank[1]


def test_runner_fills_batch_size_from_the_dataloader():
    from mmreid_text.engine.runner import ReIDRunner
    ds = InfoDataset({p: (4, 4) for p in range(4)})
    loader = ReIDRunner.build_dataloader(
        dict(
            dataset=ds,
            sampler=dict(type='CrossModalityIdentitySampler', num_instances=2),
            batch_size=8,
            num_workers=0,
            collate_fn=dict(type='pseudo_collate')),
        seed=0)
    assert isinstance(loader.sampler, CrossModalityIdentitySampler)
    assert loader.sampler.batch_size == 8
    assert loader.sampler.num_ids_per_batch == 2


def test_bad_arguments_are_explained():
    ds = InfoDataset({0: (4, 4), 1: (4, 4)})
    with pytest.raises(ValueError, match='batch_size'):
        CrossModalityIdentitySampler(ds, num_instances=2)
    with pytest.raises(ValueError, match='multiple of len'):
        CrossModalityIdentitySampler(ds, batch_size=10, num_instances=2)
    with pytest.raises(ValueError, match='only 2'):
        CrossModalityIdentitySampler(ds, batch_size=12, num_instances=2)
    ds.infos[0] = dict(ds.infos[0], modality=None, modalities=('vis', 'ir'))
    with pytest.raises(ValueError, match='exactly one modality'):
        CrossModalityIdentitySampler(ds, batch_size=8, num_instances=2)


def test_smallest_valid_arguments():
    ds = InfoDataset({0: (2, 2), 1: (2, 2)})
    one = CrossModalityIdentitySampler(ds, batch_size=4, num_instances=1)
    assert one.num_ids_per_batch == 2
    for b in _batches(one, ds):
        _check_batch(b, p=2, k=1)
    with pytest.warns(UserWarning, match=r"{'ir': 4} \(not in \('vis',\)\)"):
        visible = CrossModalityIdentitySampler(
            ds, batch_size=4, num_instances=2, modalities=('vis', ), seed=0)
    assert {ds.infos[i]['modality'] for i in visible} == {'vis'}
