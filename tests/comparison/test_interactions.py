"""The H-statistic ranking against functions whose partial dependence is known exactly.

A regression fitted with a formula is a known function of its inputs: ``b x + c z + d x z``
has the partial dependences ``PD_x = (b + d zbar) x`` and ``PD_xz = f``, so its interaction
is ``d (x - xbar)(z - zbar)``, centred; a spline of ``x`` is ``x``'s whole partial
dependence.
"""

import numpy as np
import pandas as pd
import pytest

import degenet
from degenet.comparison.interactions import FLOOR, rank_terms, spline_term


@pytest.fixture(scope="module")
def table():
    rng = np.random.default_rng(3)
    n = 150  # below the sample size: every row is in the sample
    frame = pd.DataFrame({"x": rng.uniform(-1, 1, n), "z": rng.uniform(-1, 1, n),
                          "w": rng.normal(size=n)})
    frame["y"] = (np.sin(3 * frame["x"]) + frame["z"] + 2 * frame["x"] * frame["z"]
                  + rng.normal(0, 0.1, n))
    return frame


def _centred(values):
    return values - values.mean()


def test_an_interaction_has_its_exact_strength(table):
    fitted = degenet.fit(table, formula="y ~ x + z + w + x:z", solver="exact")
    ranking = rank_terms(fitted, table, seed=0).set_index("term")
    beta = fitted.coefficients["estimate"]
    f = _centred(fitted.encoding.transform(table) @ beta.drop("intercept").to_numpy())
    excess = beta["x:z"] * _centred(_centred(table["x"]) * _centred(table["z"]))
    assert ranking.loc["x:z", "strength"] == pytest.approx((excess**2).sum() / (f**2).sum(),
                                                           rel=1e-4)
    assert ranking.loc["x:z", "supported"]
    for term in ("x:w", "z:w", spline_term("x"), spline_term("w")):
        assert ranking.loc[term, "strength"] < 1e-9 and not ranking.loc[term, "supported"]


def test_a_spline_is_a_nonlinearity_and_adds_no_interaction(table):
    fitted = degenet.fit(table, formula=f"y ~ {spline_term('x')} + z + w", solver="exact")
    ranking = rank_terms(fitted, table, seed=0).set_index("term")
    X = fitted.encoding.transform(table)
    beta = fitted.coefficients["estimate"].drop("intercept").to_numpy()
    spline = _centred(X[:, :4] @ beta[:4])  # x's partial dependence: its spline, centred
    line = np.column_stack([np.ones(len(table)), table["x"]])
    left = spline - line @ np.linalg.lstsq(line, spline, rcond=None)[0]
    f = _centred(X @ beta)
    assert ranking.loc[spline_term("x"), "strength"] == pytest.approx(
        (left**2).sum() / (f**2).sum(), rel=1e-4)
    assert ranking.index[0] == spline_term("x") and ranking.loc[spline_term("x"), "supported"]
    assert ranking.drop(spline_term("x"))["strength"].max() < FLOOR / 100


def test_a_linear_function_has_nothing_to_add(table):
    fitted = degenet.fit(table, "y", features=["x", "z", "w"], solver="exact")
    ranking = rank_terms(fitted, table, seed=0)
    assert ranking["strength"].max() < 1e-9 and not ranking["supported"].any()
