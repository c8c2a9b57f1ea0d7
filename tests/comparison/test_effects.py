"""Average marginal effects: against finite differences, the coefficients, and closed forms."""

import numpy as np
import pandas as pd
import pytest
from scipy import special, stats

import degenet
from degenet.comparison.effects import effect_rows, row_effects, two_valued
from degenet.comparison.probe import inputs
from degenet.model.network import predict_logits

pytestmark = pytest.mark.filterwarnings("ignore::degenet.errors.ConvergenceWarning")


@pytest.fixture(scope="module")
def table():
    rng = np.random.default_rng(1)
    n = 1500
    frame = pd.DataFrame({"x": rng.uniform(-1, 1, n), "g": rng.choice(["a", "b", "c"], n),
                          "s": rng.choice([-0.5, 0.5], n), "z": rng.normal(size=n)})
    eta = frame["x"] + (frame["g"] == "b") * frame["x"] + 0.5 * frame["z"] + frame["s"]
    frame["y"] = eta + rng.normal(0, 0.3, n)
    frame["k"] = (eta + rng.logistic(size=n) > 0).astype(int)
    return frame


def _effects(fitted, frame):
    held_out = frame.iloc[fitted.val_rows].reset_index(drop=True)
    switches = two_valued(frame, inputs(fitted))
    return held_out, {e.term: e for e in row_effects(fitted, held_out, switches)}


def test_a_networks_effects_are_derivatives_and_switches(table):
    fitted = degenet.fit(table, "y", model="mlp:8", features=["x", "g", "s", "z"],
                         max_epochs=15, seed=0)
    held_out, found = _effects(fitted, table)
    assert {term: e.kind for term, e in found.items()} == {
        "x": "slope", "g[b]": "switch", "g[c]": "switch", "s": "switch", "z": "slope"}

    def mean(frame):
        X = fitted.encoding.transform(frame[["x", "g", "s", "z"]])
        return predict_logits(fitted.model, X)[:, 0].astype(np.float64)

    h = 1e-3  # x: a central difference of the table's column, through the encoding
    slope = (mean(held_out.assign(x=held_out["x"] + h))
             - mean(held_out.assign(x=held_out["x"] - h))) / (2 * h)
    assert np.mean(np.isclose(found["x"].values[:, 0], slope, rtol=1e-2, atol=1e-3)) > 0.97
    np.testing.assert_allclose(found["x"].values.mean(), slope.mean(), rtol=2e-3)
    switch = mean(held_out.assign(g="c")) - mean(held_out.assign(g="a"))
    np.testing.assert_allclose(found["g[c]"].values[:, 0], switch, rtol=1e-5, atol=1e-5)
    per_unit = (mean(held_out.assign(s=0.5)) - mean(held_out.assign(s=-0.5))) / 1.0
    np.testing.assert_allclose(found["s"].values[:, 0], per_unit, rtol=1e-5, atol=1e-5)


def test_a_linear_regressions_effect_is_its_coefficient_with_its_interval(table):
    fitted = degenet.fit(table, "y", features=["x", "g", "s", "z"], solver="exact",
                         validation=0.2)
    held_out, found = _effects(fitted, table)
    rows = {r["term"]: r for r in effect_rows("linear", [fitted], [list(found.values())],
                                              n_train=len(fitted.train_rows))}
    coefficients = fitted.coefficients
    for term in ("x", "z", "g[b]", "s"):
        assert rows[term]["effect"] == pytest.approx(coefficients.loc[term, "estimate"],
                                                     rel=1e-5)
        # Every row has the same effect: the interval is the coefficient's, with the t
        # quantile of the held-out rows' mean in place of the residuals'.
        ratio = (stats.t.ppf(0.975, len(held_out) - 1)
                 / stats.t.ppf(0.975, fitted.exact.solution.df_residual))
        half = (coefficients.loc[term, "ci_high"] - coefficients.loc[term, "ci_low"]) / 2
        assert rows[term]["ci_high"] - rows[term]["effect"] == pytest.approx(ratio * half,
                                                                             rel=1e-4)


def test_a_logistic_regressions_effect_is_the_closed_form(table):
    fitted = degenet.fit(table, "k", features=["x", "g", "s", "z"], solver="exact",
                         validation=0.2)
    held_out, found = _effects(fitted, table)
    beta = fitted.coefficients["estimate"]
    X = fitted.encoding.transform(held_out[["x", "g", "s", "z"]])
    p = special.expit(X @ beta.drop("intercept").to_numpy() + beta["intercept"])
    np.testing.assert_allclose(found["x"].values[:, 0], p * (1 - p) * beta["x"], rtol=1e-4)
    rows = {r["term"]: r for r in effect_rows("logistic", [fitted], [list(found.values())],
                                              n_train=len(fitted.train_rows))}
    assert rows["x"]["ci_low"] < rows["x"]["effect"] < rows["x"]["ci_high"]
