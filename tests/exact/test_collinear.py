"""No quadratic work on wide categoricals (issue 12: an ID-like column of 1,000 levels spent
104 s of 109 s in find_collinear, one QR per column)."""

import signal
from contextlib import contextmanager

import numpy as np
import pandas as pd
import pytest
from scipy import linalg

import degenet
from degenet import DegenetError
from degenet.exact import solution
from degenet.exact.solution import find_collinear


def _one_by_one(R, n_samples, keep_last):
    """The former search: one QR per column against the columns kept before it."""
    q = R.shape[1]
    tolerance = max(n_samples, q) * np.finfo(float).eps
    norms = np.linalg.norm(R, axis=0)
    kept, dropped = [], []
    for j in ([q - 1] + list(range(q - 1)) if keep_last else range(q)):
        if norms[j] > 0:
            r = linalg.qr(R[:, kept + [j]], mode="r")[0]
            if abs(r[len(kept), len(kept)]) > tolerance * norms[j]:
                kept.append(j)
                continue
        dropped.append(j)
    return sorted(kept), sorted(dropped)


@pytest.mark.parametrize("keep_last", [False, True])
@pytest.mark.parametrize("seed", range(4))
def test_one_factorization_finds_the_same_columns(seed, keep_last):
    rng = np.random.default_rng(seed)
    n = 300
    base = rng.normal(size=(n, 6))
    columns = [base[:, 0], np.zeros(n), base[:, 1], base[:, 0] * 3, base[:, 2],
               base[:, 1] - 2 * base[:, 2], np.zeros(n), base[:, 3], base[:, 4], base[:, 5],
               base[:, 3] + base[:, 4], np.ones(n)]
    A = np.column_stack(columns)
    R = linalg.qr(A, mode="r")[0][:A.shape[1]]
    kept, dropped, _ = find_collinear(R, n, keep_last=keep_last)
    assert (list(kept), list(dropped)) == _one_by_one(R, n, keep_last)


def test_hundreds_of_empty_columns_take_one_qr(monkeypatch):
    rng = np.random.default_rng(1)
    n, q = 400, 300
    A = np.zeros((n, q))
    A[:, :20] = rng.normal(size=(n, 20))
    A[:, 20:40] = A[:, :20]  # duplicates; the rest stay all zero (absent levels)
    R = linalg.qr(A, mode="r")[0][:q]
    calls = []
    real = linalg.qr
    monkeypatch.setattr(solution.linalg, "qr", lambda *a, **k: calls.append(1) or real(*a, **k))
    kept, dropped, _ = find_collinear(R, n)
    assert list(kept) == list(range(20)) and len(dropped) == q - 20
    assert len(calls) == 1


def _with_id_column(levels: int, rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x1": rng.normal(size=rows), "x2": rng.normal(size=rows)})
    frame["y"] = 1 + 2 * frame.x1 - frame.x2 + 0.1 * rng.normal(size=rows)
    frame["id"] = [f"user{i:05d}" for i in rng.permutation(rows) % levels]
    return frame


@contextmanager
def _at_most(seconds: int):
    """Fail a call still running after ``seconds`` (degenet 0.1 ran for minutes here)."""
    def late(signum, frame):
        raise TimeoutError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, late)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def test_an_id_column_is_refused_up_front():
    with _at_most(30), pytest.raises(DegenetError, match="column 'id' has 1000 distinct text "
                                                         "values in 1200 rows: it looks like "
                                                         "an identifier"):
        degenet.fit(_with_id_column(1000, 1200), "y", solver="exact")


def test_a_wide_categorical_fits_when_allowed():
    frame = _with_id_column(150, 200)
    with _at_most(60), pytest.warns(degenet.DataWarning, match="more columns are exactly collinear"):
        # Held-out rows leave levels unseen in training: all-zero columns (issue 11: the exact
        # solver holds nothing out unless asked).
        fitted = degenet.fit(frame, "y", solver="exact", validation=0.2,
                             allow_high_cardinality=True)
    assert len(fitted.exact.solution.dropped) > 10
