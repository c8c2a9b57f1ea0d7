"""An exact fit's work space beside the table: a few columns of the row count, never
whole-column temporaries of every figure (issue 16: peak at most the input plus 0.6 GB on
2,000,000 x 100)."""

import tracemalloc

import numpy as np
import pandas as pd

import degenet
from degenet.model.families import get_family


def _logistic_frame(n_rows):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n_rows, 4)).astype(np.float32)
    y = (rng.random(n_rows) < 1.0 / (1.0 + np.exp(-X.sum(axis=1)))).astype(np.float64)
    return pd.DataFrame(X, columns=list("abcd")).assign(y=y)


def test_an_exact_fit_holds_a_few_columns_of_rows_at_most():
    n_rows = 400_000
    frame = _logistic_frame(n_rows)
    degenet.fit(frame.head(1000), "y", model="logistic", solver="exact")  # imports first
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        degenet.fit(frame, "y", model="logistic", solver="exact")
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    # Measured 7.5 float64 columns; 10.3 while the solver held its (n, 2) first-pass
    # targets through Newton and the figures evaluated the loss on every row at once.
    assert peak / (8 * n_rows) < 9.0


def test_the_loss_summed_by_blocks_is_the_whole_sum():
    rng = np.random.default_rng(1)
    n_rows = 150_001  # blocks of 65,536 and a ragged last one
    y, eta, weight = rng.integers(0, 2, n_rows) * 1.0, rng.normal(size=n_rows), rng.random(n_rows)
    family = get_family("bernoulli")
    whole = float(weight @ family.loss_np(y, eta))
    assert np.isclose(family.loss_total(y, eta, weight), whole, rtol=1e-13)
    assert family.fit_figures(y, eta, weight)[1] == -family.loss_total(y, eta, weight)
