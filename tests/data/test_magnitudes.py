"""Scaling across magnitudes (issue 12): a column scaled by 1e-15 was left unscaled, so a
network could not use it; a target scaled by 1e300 predicted NaN and by 1e-300 predicted 0
with a validation loss of 0; a finite column of 1e200 was blamed as 'column 2 of X holds
infinite or missing values'."""

import warnings

import numpy as np
import pandas as pd
import pytest

import degenet
from degenet import DegenetError
from degenet.data.scaling import fit_scaling


@pytest.fixture
def table():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x1": rng.normal(size=200), "x2": rng.normal(size=200)})
    frame["y"] = 1 + 2 * frame.x1 - frame.x2 + 0.1 * rng.normal(size=200)
    return frame


def test_every_varying_column_is_standardized_whatever_its_scale():
    rng = np.random.default_rng(3)
    X = np.column_stack([rng.normal(size=100) * 1e-15, rng.normal(size=100) * 1e12,
                         np.full(100, 7.0), np.full(100, 1e-20)])
    scaling = fit_scaling(X)
    np.testing.assert_allclose(scaling.scale[:2], X[:, :2].std(axis=0), rtol=1e-12)
    assert list(scaling.scale[2:]) == [1.0, 1.0]  # constant columns: nothing to standardize
    assert np.abs(scaling.apply(X)[:, :2]).max() < 5


def test_a_network_uses_a_column_of_1e_15(table):
    x3 = np.random.default_rng(3).normal(size=len(table)) * 1e-15
    frame = table.assign(x3=x3, y=table.y + 3e15 * x3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted = degenet.fit(frame, "y", model="mlp:8", seed=0)
    assert fitted.val_loss < 0.2 * frame.y.var()  # 0.06 against 12: x3 explains most of y


@pytest.mark.parametrize("factor, message", [(1e300, "holds values up to 5.89e\\+300"),
                                             (1e-300, "varies by only 1.09e-299")])
@pytest.mark.parametrize("solver", ["exact", "gd"])
def test_a_target_out_of_reach_is_refused_by_name(table, factor, message, solver):
    with pytest.raises(DegenetError, match=f"target column 'y' {message}.*rescale it"):
        degenet.fit(table.assign(y=table.y * factor), "y", solver=solver)


def test_a_finite_column_of_1e200_is_named(table):
    frame = table.assign(x3=np.random.default_rng(3).normal(size=len(table)) * 1e200)
    with pytest.raises(DegenetError, match="column 'x3' holds values up to .*e\\+200"):
        degenet.fit(frame, "y", solver="exact")


@pytest.mark.parametrize("factor", [1e20, 1e-20])
def test_targets_within_reach_keep_float64_precision(table, factor):
    frame = table.assign(y=table.y * factor)
    fitted = degenet.fit(frame, "y", solver="exact")
    A = np.column_stack([frame[["x1", "x2"]].to_numpy(), np.ones(len(frame))])
    rows = fitted.train_rows
    beta = np.linalg.lstsq(A[rows] / 1.0, frame.y.to_numpy()[rows] / factor, rcond=None)[0]
    np.testing.assert_allclose(fitted.predict(frame), A @ beta * factor, rtol=1e-9)


def test_an_offset_column_predicts_in_float64(table):
    """float32 holds 1e12 + i only to multiples of 65536: the exact fit's predictions are
    computed in float64 from its float64 weights, in memory and from its model file."""
    frame = table.assign(k=(np.arange(len(table)) + 10**12).astype("int64"))
    fitted = degenet.fit(frame, "y", solver="exact")
    A = np.column_stack([frame[["x1", "x2"]], frame.k - 10**12, np.ones(len(frame))])
    rows = fitted.train_rows
    beta = np.linalg.lstsq(A[rows], frame.y.to_numpy()[rows], rcond=None)[0]
    np.testing.assert_allclose(fitted.predict(frame), A @ beta, rtol=1e-6, atol=1e-6)


def test_a_saved_regression_predicts_in_float64(tmp_path, table):
    frame = table.assign(k=(np.arange(len(table)) + 10**12).astype("int64"))
    fitted = degenet.fit(frame, "y", solver="exact")
    fitted.save(tmp_path / "model")
    np.testing.assert_allclose(degenet.load(tmp_path / "model").predict(frame),
                               fitted.predict(frame), rtol=1e-12)
