"""The exact check: cheap separation tests first, the solve capped (a gradient-descent fit's
check, before its training), and what a capped check says."""

import warnings

import numpy as np
import pandas as pd
import pytest

import degenet
from degenet import fitting
from degenet.errors import DataWarning
from degenet.exact import check as check_module
from degenet.exact.check import check
from degenet.exact.separation import find_separation, one_column_separation
from degenet.model.families import get_family


def test_digits_softmax_check_stops_on_separation_without_linear_programs(monkeypatch):
    # The case: Newton ran 100 iterations of a 549 x 549 Hessian, then three LPs.
    digits = pytest.importorskip("sklearn.datasets").load_digits()
    X = digits.data[:, digits.data.std(axis=0) > 0]
    linear_programs = []
    monkeypatch.setattr("degenet.exact.separation._linprog",
                        lambda *a, **k: linear_programs.append(1))  # time out at once
    checked = check(get_family("categorical"), X, digits.target.astype(float),
                    [f"p{j}" for j in range(X.shape[1])], classes=tuple(range(10)))
    solution, separation = checked.solution, checked.diagnostics.separation
    assert solution.stopped == "separation" and solution.n_iter <= 10
    assert separation.kind == "complete" and separation.n_separated == len(X)
    assert len(linear_programs) <= 1  # at most the one naming the terms, and it may give up


def test_one_column_separation_agrees_with_the_linear_program():
    rng = np.random.default_rng(7)
    x1 = np.r_[np.linspace(-3, -0.5, 40), np.zeros(10), np.linspace(0.5, 3, 40)]
    x2 = rng.normal(size=90)
    y = np.r_[np.zeros(40), np.arange(10) % 2, np.ones(40)]
    X = np.column_stack([x2, x1])
    family = get_family("bernoulli")
    quick = one_column_separation(family, X, y, ["x2", "x1"])
    exact = find_separation(family, X, y, ["x2", "x1"])
    assert (quick.kind, quick.terms, quick.n_separated) == (
        exact.kind, exact.terms, exact.n_separated) == ("quasi-complete", ("x1",), 80)
    y_overlapping = (x1 + rng.normal(size=90) > 0).astype(float)
    assert one_column_separation(family, X, y_overlapping, ["x2", "x1"]) is None


def test_one_class_divided_from_the_others_by_one_column():
    rng = np.random.default_rng(8)
    x1 = rng.normal(size=150)
    y = np.where(x1 > 1.0, 2, rng.integers(0, 2, 150)).astype(float)
    found = one_column_separation(get_family("categorical"), np.column_stack([x1]), y, ["x1"],
                                  classes=("a", "b", "c"))
    assert found.kind == "quasi-complete" and found.terms == ("x1",) and found.classes == ("c",)


def test_a_check_past_its_time_cap_says_so_and_training_stops_on_validation(monkeypatch):
    rng = np.random.default_rng(9)
    frame = pd.DataFrame({"a": rng.normal(size=400), "b": rng.normal(size=400)})
    frame["y"] = (rng.random(400) < 1 / (1 + np.exp(-frame.a))).astype(int)
    monkeypatch.setattr(fitting, "CHECK_SECONDS", 0.0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fitted = degenet.fit(frame, "y", model="logistic", max_epochs=3)
    assert fitted.exact.solution.stopped == "time cap"
    assert fitted.training.watched != "optimum"  # no optimum to train towards
    table = fitted.coefficients
    assert table["p_value"].isna().all() and "time cap" in table.attrs["withheld"]
    assert "At exact optimum:" in str(fitted.summary())
    assert "not known (time cap)" in str(fitted.summary())
    messages = [str(w.message) for w in caught]
    assert any("time cap" in m and w.category is DataWarning for m, w in zip(messages, caught))
    assert not any("stopped short of the exact optimum" in m for m in messages)


def test_check_false_keeps_only_the_network():
    rng = np.random.default_rng(11)
    frame = pd.DataFrame({"a": rng.normal(size=300)})
    frame["y"] = 2 * frame.a + rng.normal(size=300)
    fitted = degenet.fit(frame, "y", model="linear", check=False, max_epochs=30)
    assert fitted.exact is None
    assert fitted.training.watched == "val_loss"  # no optimum to train towards
    table = fitted.coefficients
    kernel, bias = (v.numpy() for v in fitted.model.get_layer("eta").weights)
    np.testing.assert_allclose(table["estimate"], [kernel[0, 0], bias[0]], rtol=1e-6)
    assert table["std_error"].isna().all() and "check=False" in table.attrs["withheld"]
    with pytest.raises(degenet.DegenetError, match="no exact check .*check=True"):
        fitted.summary()
