"""The validation split: a share from 0 (every row trains) to below 1, on tables of any size."""

import numpy as np
import pytest

from degenet.data.split import validation_split
from degenet.errors import DegenetError
from degenet.spelling import spelled_as_flags


def test_a_share_of_zero_holds_nothing_out():
    train, val = validation_split(np.arange(7.0), validation=0, stratify=False, seed=0)
    np.testing.assert_array_equal(train, np.arange(7))
    assert val.size == 0


def test_tables_under_ten_rows_can_be_split():
    train, val = validation_split(np.arange(4.0), validation=0.25, stratify=False, seed=0)
    assert (len(train), len(val)) == (3, 1) and not np.intersect1d(train, val).size


@pytest.mark.parametrize("share", [1.0, -0.1, 1.5])
def test_a_share_outside_0_1_is_refused_with_its_option(share):
    with pytest.raises(DegenetError, match=rf"from 0 .*received validation={share}"):
        validation_split(np.arange(5.0), validation=share, stratify=False, seed=0)
    with spelled_as_flags(), pytest.raises(DegenetError, match=rf"received --validation {share}"):
        validation_split(np.arange(5.0), validation=share, stratify=False, seed=0)


def test_one_row_cannot_be_split_and_says_what_to_do():
    with pytest.raises(DegenetError, match="1 usable row.*use validation=0"):
        validation_split(np.arange(1.0), validation=0.2, stratify=False, seed=0)
