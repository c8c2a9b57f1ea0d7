"""Standardization statistics in one blocked pass: numpy's float64 answer, no float64 copy."""

import numpy as np
import pytest

from degenet.data import scaling
from degenet.data.scaling import fit_scaling


@pytest.mark.parametrize("center", [True, False])
def test_blocked_statistics_equal_numpys_on_the_chosen_rows(monkeypatch, center):
    monkeypatch.setattr(scaling, "BLOCK_ROWS", 777)  # many uneven blocks
    rng = np.random.default_rng(0)
    X = (rng.normal(size=(10_000, 3)) * [1e-3, 1.0, 1e4] + [5e3, -2.0, 1e6]).astype(np.float32)
    X[:, 1] = 7.0  # constant: scale 1
    rows = np.sort(rng.choice(10_000, 8_000, replace=False))
    expected = X[rows].astype(np.float64)
    fitted = fit_scaling(X, rows=rows, center=center)
    mean = expected.mean(axis=0) if center else np.zeros(3)
    np.testing.assert_allclose(fitted.mean, mean, rtol=1e-13)
    np.testing.assert_allclose(fitted.scale[[0, 2]], expected.std(axis=0)[[0, 2]], rtol=1e-10)
    assert fitted.scale[1] == 1.0
