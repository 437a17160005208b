"""The engine's window geometry: one reading of `strides`, `kernel_size`, `pool_size` and `padding`."""

from __future__ import annotations

import numpy as np
import pytest

from autograder.geometry import pads, pair, same_padding, triple, windows


@pytest.mark.parametrize("value, expected", [(3, (3, 3)), (np.int64(2), (2, 2)), ((2, 5), (2, 5)),
                                             ([np.int32(1), 4], (1, 4))])
def test_pair_reads_an_int_or_a_pair_of_python_or_numpy_ints(value, expected):
    got = pair(value)
    assert got == expected and all(type(v) is int for v in got)


@pytest.mark.parametrize("value", [True, np.bool_(False), (True, 2), 2.0, (1, 2, 3), "same", None])
def test_pair_refuses_bools_floats_and_other_lengths(value):
    with pytest.raises(ValueError, match="an int or a pair of ints"):
        pair(value)


def test_same_padding_puts_the_odd_extra_zero_after_as_keras():
    assert same_padding(7, 4, 1) == (1, 2)  # total 3
    assert same_padding(7, 3, 2) == (1, 1)  # ceil(7 / 2) = 4 outputs need 9 cells
    assert same_padding(6, 1, 2) == (0, 0)


def test_pads_reads_valid_same_an_int_and_a_pair_per_axis():
    assert pads(7, 3, 1, "valid", 0) == (0, 0)
    assert pads(6, 4, 1, "same", 1) == (1, 2)
    assert pads(7, 3, 1, 2, 1) == (2, 2)
    assert pads(7, 3, 1, (2, 1), 0) == (2, 2) and pads(7, 3, 1, (2, 1), 1) == (1, 1)


def test_windows_count_and_first_start_for_valid_and_same():
    assert windows(7, 3, 2, "valid") == (3, 0)
    assert windows(7, 2, 2, "same") == (4, 0)  # total 1: the extra cell goes after
    assert windows(7, 3, 1, "same") == (7, -1)


def test_triple_reads_an_int_or_three_ints_as_conv3d_and_refuses_the_rest():
    assert triple(3) == (3, 3, 3) and triple((np.int64(2), 3, 5)) == (2, 3, 5)
    for value in (True, (2, 3), (2, 3, 4.0), "3"):
        with pytest.raises(ValueError, match="an int or a triple of ints"):
            triple(value)
