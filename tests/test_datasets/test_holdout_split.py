# Copyright (c) mmreid_text contributors. All rights reserved.
"""Held-out validation identities of a training split (BaseReIDDataset)."""
import pytest

from mmreid_text.datasets.base_reid_dataset import BaseReIDDataset, ReIDSample

#: raw id -> cameras it is seen by (two images per camera). Id 40 has one
#: camera only: no cross-camera query, never held out.
CAMERAS = {
    10: (0, 1),
    11: (0, 2, 3),
    20: (1, 2),
    25: (0, 3),
    31: (2, 3),
    40: (1, ),
    52: (0, 1, 2, 3),
    60: (1, 3),
}
#: held out by num_ids=3, seed=0: numpy.random.default_rng(0).permutation(7)
#: starts with 2, 4, 3 -> eligible ids [10, 11, 20, 25, 31, 52, 60][2, 4, 3]
HELD_OUT = (20, 25, 31)


class ToyDataset(BaseReIDDataset):
    """Samples from :data:`CAMERAS`; no files are read."""
    METAINFO = dict(modalities=('rgb', ), classes=('person', ))

    def parse_split(self, split):
        samples = []
        # listed in reverse so that nothing relies on the parser's order
        for pid in sorted(CAMERAS, reverse=True):
            for cam in CAMERAS[pid]:
                for k in (1, 0):
                    name = f'{pid:04d}_c{cam}_{k}.jpg'
                    samples.append(
                        ReIDSample({'rgb': f'{self.data_root}/{name}'}, pid,
                                   cam))
        return samples


def build(tmp_path, split='train', **holdout):
    return ToyDataset(
        data_root=str(tmp_path),
        split=split,
        check_files=False,
        holdout=dict(holdout) if holdout else None)


def pids(dataset):
    return [dataset.get_data_info(i)['pid'] for i in range(len(dataset))]


def test_parts_are_disjoint_and_cover_the_training_ids(tmp_path):
    train = build(tmp_path, num_ids=3, seed=0, part='train')
    val = build(tmp_path, num_ids=3, seed=0, part='val')
    held_out = sorted(set(pids(val)))  # val keeps raw ids
    assert held_out == list(HELD_OUT)
    assert held_out == train.held_out_ids(train.parse_split('train'))
    kept = sorted(set(CAMERAS) - set(held_out))
    assert kept == [10, 11, 40, 52, 60]
    # train part: relabelled 0..N-K-1 in sorted raw-id order
    assert sorted(set(pids(train))) == list(range(len(kept)))
    raw_of_label = {
        train.get_data_info(i)['pid']:
        int(train.get_data_info(i)['rel_img_path']['rgb'][:4])
        for i in range(len(train))
    }
    assert raw_of_label == dict(enumerate(kept))
    assert len(train) + len(val) == 2 * sum(map(len, CAMERAS.values()))
    assert not train.test_mode and val.test_mode
    assert not train.is_test_split and not val.is_test_split


def test_val_queries_one_per_identity_and_camera(tmp_path):
    val = build(tmp_path, num_ids=3, seed=0, part='val')
    infos = [val.get_data_info(i) for i in range(len(val))]
    assert all(info['is_gallery'] for info in infos)
    queries = sorted((info['pid'], info['camid'], info['rel_img_path']['rgb'])
                     for info in infos if info['is_query'])
    expected = sorted((pid, cam, f'{pid:04d}_c{cam}_0.jpg') for pid in HELD_OUT
                      for cam in CAMERAS[pid])
    assert queries == expected  # the first file of each (id, camera)


def test_same_seed_same_split_other_seed_other_split(tmp_path):
    first = build(tmp_path, num_ids=3, seed=0, part='val')
    again = build(tmp_path, num_ids=3, seed=0, part='val')
    assert pids(first) == pids(again)
    seeds = {
        tuple(
            sorted(set(pids(build(tmp_path, num_ids=3, seed=s, part='val')))))
        for s in range(6)
    }
    assert len(seeds) > 1
    assert all(40 not in ids for ids in seeds)


def test_fraction_of_all_training_ids(tmp_path):
    val = build(tmp_path, fraction=0.25, seed=1, part='val')
    assert len(set(pids(val))) == 2  # round(0.25 * 8)


def test_no_holdout_keeps_the_whole_split(tmp_path):
    train = build(tmp_path)
    assert sorted(set(pids(train))) == list(range(len(CAMERAS)))
    test = build(tmp_path, split='test')
    assert test.is_test_split and test.holdout is None


@pytest.mark.parametrize(
    'kwargs, message',
    [(dict(num_ids=2, fraction=0.5), 'exactly one of num_ids and fraction'),
     (dict(seed=0), 'exactly one of num_ids and fraction'),
     (dict(num_ids=0), 'num_ids must be an int >= 1'),
     (dict(fraction=1.0), 'fraction must be in (0, 1)'),
     (dict(num_ids=2, part='test'), "part must be one of ('train', 'val')"),
     (dict(num_ids=2, ids=3), "unknown holdout keys ['ids']"),
     (dict(num_ids=8), 'cannot hold out 8 identities: the training split '
      'has 8, of which 7 are seen by two or more cameras')])
def test_bad_holdout(tmp_path, kwargs, message):
    with pytest.raises((ValueError, KeyError)) as err:
        build(tmp_path, **kwargs)
    assert message in str(err.value)


def test_holdout_only_on_the_training_split(tmp_path):
    with pytest.raises(ValueError, match="use split='train', not 'test'"):
        build(tmp_path, split='test', num_ids=2)
