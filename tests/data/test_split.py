"""The validation split: the fast stratified draw gives scikit-learn's rows."""

import numpy as np
from sklearn.model_selection import train_test_split

from degenet.data.split import stratified_split


def test_the_fast_stratified_split_draws_scikit_learns_rows():
    rng = np.random.default_rng(2)
    for n_classes, seed in [(2, 0), (3, 7), (5, 123)]:
        y = rng.integers(0, n_classes, 30_011).astype(float)
        y[:3] = n_classes  # a small class
        train, val = train_test_split(np.arange(len(y)), test_size=0.2, random_state=seed,
                                      stratify=y)
        fast_train, fast_val = stratified_split(y, validation=0.2, seed=seed)
        np.testing.assert_array_equal(fast_train, np.sort(train))
        np.testing.assert_array_equal(fast_val, np.sort(val))
