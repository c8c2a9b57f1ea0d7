"""The held-out design: one split on large tables, repeated folds below, said in the notes."""

import numpy as np
import pytest

from degenet.comparison.design import SMALL, SMALL_FOLDS, SMALL_REPEATS, choose_design, plan


def test_a_small_table_gets_repeated_folds_and_a_note():
    design = choose_design(None, 1, 150)
    assert (design.cv, design.repeats) == (SMALL_FOLDS, SMALL_REPEATS)
    assert "150 rows" in design.note and "cv=1" in design.note


def test_a_large_table_or_cv_1_gets_one_split():
    assert choose_design(None, 1, SMALL) == choose_design(1, 1, 150)
    assert choose_design(1, 1, 150).cv is None and choose_design(1, 1, 150).note is None
    assert choose_design(3, 2, 150).cv == 3 and choose_design(3, 2, 150).note is None


def test_folds_give_every_model_the_whole_training_share():
    y = np.repeat([0.0, 1.0], 50)
    for part in plan(y, True, 0.2, seed=0, design=choose_design(5, 1, 100)):
        np.testing.assert_array_equal(part.whole, np.union1d(part.train, part.val))
        assert not np.intersect1d(part.whole, part.test).size
        assert len(part.whole) + len(part.test) == 100
    (single,) = plan(y, True, 0.2, seed=0, design=choose_design(1, 1, 100))
    np.testing.assert_array_equal(single.whole, single.train)  # its val rows are the test rows
    np.testing.assert_array_equal(single.val, single.test)


@pytest.mark.parametrize("cv", [0, 2.5, "5"])
def test_bad_folds_are_refused(cv):
    with pytest.raises(ValueError, match="cv must be a whole number"):
        choose_design(cv, 1, 100)
