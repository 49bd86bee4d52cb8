# Copyright (c) mmreid_text contributors. All rights reserved.
"""The random streams: independent per layout, stream and keys."""
import numpy as np
import pytest

from mmreid_text.synthetic import SYNTHETIC_LAYOUTS, Stream, stream_rng


def draws(*args):
    return stream_rng(*args).random(4)


def test_same_arguments_same_draws():
    np.testing.assert_array_equal(
        draws(7, 1, Stream.FRAME, 3, 2, 1), draws(7, 1, Stream.FRAME, 3, 2, 1))


@pytest.mark.parametrize(
    'other',
    [
        (8, 1, Stream.FRAME, 3, 2),  # seed
        (7, 2, Stream.FRAME, 3, 2),  # layout
        (7, 1, Stream.TRACK, 3, 2),  # stream
        (7, 1, Stream.FRAME, 2, 3),  # key order
        (7, 1, Stream.FRAME, 3, 2, -1),  # an extra "none" key
        (7, 1, Stream.FRAME, 3),  # fewer keys
    ])
def test_every_argument_changes_the_stream(other):
    assert not np.array_equal(draws(7, 1, Stream.FRAME, 3, 2), draws(*other))


def test_trailing_zero_keys_are_not_ignored():
    # numpy's SeedSequence gives [0] and [0, 0] the same state; the key count
    # in the seed must keep (pid=0) and (pid=0, cam=-1) apart
    assert np.random.default_rng([0]).random() == np.random.default_rng(
        [0, 0]).random()
    assert draws(0, 0, Stream.PLAN, -1)[0] != draws(0, 0, Stream.PLAN, -1,
                                                    -1)[0]


def test_bad_keys_raise():
    with pytest.raises(ValueError, match='keys'):
        stream_rng(0, 1, Stream.PLAN, -2)
    with pytest.raises(ValueError, match='seed'):
        stream_rng(-1, 1, Stream.PLAN)


def test_layouts_have_distinct_stream_ids_and_streams_distinct_values():
    ids = [cls.stream_id for cls in SYNTHETIC_LAYOUTS.values()]
    assert len(set(ids)) == len(ids) == 9
    assert len({int(s) for s in Stream}) == len(Stream)
