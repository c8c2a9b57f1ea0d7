"""Honest warnings: separation (bernoulli, categorical), collinearity (every family), and
a large condition number; p-values withheld where they cannot be trusted."""

import re
import warnings

import numpy as np
import pandas as pd
import pytest

import degenet
from degenet.exact import separation
from degenet.exact.separation import find_separation
from degenet.errors import DataWarning
from degenet.model.families import get_family
from degenet.exact.solve import solve

RNG = np.random.default_rng(11)


def _separated_frame(n=120):
    x1 = np.linspace(-3, 3, n)
    x2 = RNG.normal(size=n)
    return pd.DataFrame({"x1": x1, "x2": x2, "y": (x1 > 0).astype(int)})


def _quasi_frame():
    x1 = np.r_[np.linspace(-3, -0.5, 40), np.zeros(10), np.linspace(0.5, 3, 40)]
    x2 = np.r_[RNG.normal(size=40), np.arange(10.0), RNG.normal(size=40)]
    y = np.r_[np.zeros(40), np.arange(10) % 2, np.ones(40)]  # ties at x1 = 0: both classes
    return pd.DataFrame({"x1": x1, "x2": x2, "y": y.astype(int)})


def test_complete_separation_is_named_and_p_values_withheld():
    with pytest.warns(DataWarning, match=r"complete separation: .* perfectly by 'x1'; .* "
                                         r"p-values and intervals are withheld"):
        fitted = degenet.fit(_separated_frame(), "y", model="logistic", solver="exact")
    table = fitted.coefficients
    assert table["p_value"].isna().all() and table["ci_low"].isna().all()
    assert "separation" in table.attrs["withheld"]
    assert fitted.exact.diagnostics.separation.terms == ("x1",)
    assert "p-values and intervals are withheld" in fitted.summary()
    assert re.search(r"Converged:\s+no \(separation\)", fitted.summary())
    assert fitted.exact.diagnostics.separation.n_separated == len(fitted.train_rows)


def test_quasi_complete_separation_is_told_apart():
    frame = _quasi_frame()
    separation = find_separation(get_family("bernoulli"), frame[["x1", "x2"]].to_numpy(),
                                 frame["y"].to_numpy(float), ["x1", "x2"])
    assert separation.kind == "quasi-complete"
    assert separation.terms == ("x1",)
    assert separation.n_separated == 80  # every row but the ten ties


def test_categorical_separation_names_the_variable():
    n = 150
    x1 = np.linspace(-3, 3, n)
    x2 = RNG.normal(size=n)
    y = np.where(x1 > 1.5, "c", np.where(RNG.random(n) < 0.5, "a", "b"))
    frame = pd.DataFrame({"x1": x1, "x2": x2, "y": y})
    with pytest.warns(DataWarning, match=r"separation: .* by 'x1'"):
        fitted = degenet.fit(frame, "y", model="softmax", solver="exact")
    assert fitted.coefficients["p_value"].isna().all()
    assert "c" in fitted.exact.diagnostics.separation.classes


def test_overlapping_classes_raise_no_separation_warning():
    frame = _separated_frame()
    frame["y"] = (frame["x1"] + RNG.normal(size=len(frame)) > 0).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataWarning)
        fitted = degenet.fit(frame, "y", model="logistic", solver="exact")
    assert fitted.exact.diagnostics.separation is None
    assert fitted.coefficients["p_value"].notna().all()


def test_large_data_fall_back_to_extreme_probabilities(monkeypatch):
    monkeypatch.setattr(separation, "MAX_LP_CELLS", 10)
    frame = _quasi_frame()  # no iterate separates every row: the ties stay at margin 0
    X, y = frame[["x1", "x2"]].to_numpy(), frame["y"].to_numpy(float)
    solution = solve("bernoulli", X, y)  # "converges" with the ties' logits beyond 40
    found = find_separation(get_family("bernoulli"), X, y, ["x1", "x2"], solution=solution)
    assert found.kind == "possible"
    frame = _separated_frame()  # an iterate separating every row proves it, without an LP
    X, y = frame[["x1", "x2"]].to_numpy(), frame["y"].to_numpy(float)
    solution = solve("bernoulli", X, y)
    assert solution.stopped == "separation" and not solution.converged
    found = find_separation(get_family("bernoulli"), X, y, ["x1", "x2"], solution=solution)
    assert found.kind == "complete" and found.n_separated == len(y)
    y = (frame["x1"] + RNG.normal(size=len(frame)) > 0).to_numpy(float)
    assert find_separation(get_family("bernoulli"), X, y, ["x1", "x2"],
                           solution=solve("bernoulli", X, y)) is None


def _collinear_frame(family):
    n = 200
    a, b = RNG.normal(size=n), RNG.normal(size=n)
    eta = 0.5 * a - 0.4 * b
    y = {"gaussian": eta + RNG.normal(size=n),
         "bernoulli": (RNG.random(n) < 1 / (1 + np.exp(-eta))).astype(int),
         "poisson": RNG.poisson(np.exp(eta)),
         "categorical": np.array(["p", "q", "r"])[RNG.integers(0, 3, n)]}[family]
    return pd.DataFrame({"a": a, "b": b, "c": a + 2 * b - 1, "y": y})


@pytest.mark.parametrize("family, model", [("gaussian", "linear"), ("bernoulli", "logistic"),
                                           ("poisson", "poisson"), ("categorical", "softmax")])
def test_collinear_column_is_dropped_and_named_for_every_family(family, model):
    with pytest.warns(DataWarning, match=r"Column 'c' is exactly collinear with the others "
                                         r"\('c' = 1 \* 'a' \+2 \* 'b' -1 on the training rows\)"
                                         r": it was dropped"):
        fitted = degenet.fit(_collinear_frame(family), "y", model=model, family=family,
                             solver="exact")
    table = fitted.coefficients
    rows = table.xs("c", level="term") if family == "categorical" else table.loc[["c"]]
    assert (rows["estimate"] == 0).all() and rows["std_error"].isna().all()
    others = table.drop(index="c", level="term") if family == "categorical" else table.drop("c")
    assert others["std_error"].notna().all()
    assert fitted.exact.diagnostics.dropped_terms == ("c",)


def test_gradient_descent_weights_of_a_dropped_column_are_folded_in():
    frame = _collinear_frame("gaussian")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted = degenet.fit(frame, "y", model="linear", seed=2)
    kernel = fitted.model.get_layer("eta").kernel.numpy()[:, 0]
    assert kernel[2] == 0.0  # the model holds the same parametrization as the table
    X = frame[["a", "b", "c"]].to_numpy("float32")
    solution = fitted.exact.solution
    exact_prediction = X @ solution.beta[:, 0] + solution.alpha[0]
    assert np.abs(fitted.predict(frame) - exact_prediction).max() < 0.5
    assert fitted.exact.max_std_diff < 5  # compared in one parametrization, not blown up


def test_large_condition_number_is_reported():
    x = np.linspace(0, 1, 60)
    frame = pd.DataFrame({f"x{k}": x**k for k in range(1, 8)}).assign(
        y=np.sin(3 * x) + 0.01 * RNG.normal(size=60))
    with pytest.warns(DataWarning, match=r"condition number of the standardized design is "
                                         r"[\d.e+]+ \(> 1000\)"):
        fitted = degenet.fit(frame, "y", model="linear", solver="exact")
    assert fitted.exact.solution.condition_number > 1e3
    assert "condition number" in fitted.summary()
