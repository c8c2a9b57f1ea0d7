"""The proposed regression: on a linear truth nothing, on sin(3x) a spline of x and nothing
else, on one interaction that interaction; its formula reproduces it with `degenet fit`."""

import numpy as np
import pandas as pd
import pytest

import degenet
from degenet.comparison.comparison import compare
from degenet.comparison.interactions import spline_term
from degenet.comparison.proposal import propose_formula
from degenet.data.prepare import prepare

pytestmark = pytest.mark.filterwarnings("ignore::degenet.errors.ConvergenceWarning")
SMALL = {"models": "linear,mlp:16", "max_epochs": 100, "seed": 0, "cv": 1}  # one split: fast


def _table(truth, n=2000, seed=0):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(rng.uniform(-1, 1, (n, 3)), columns=["x", "z", "w"])
    x, z, w = frame["x"], frame["z"], frame["w"]
    mean = {"linear": x - 0.5 * z + 0.3 * w, "sin": np.sin(3 * x) + 0.5 * z,
            "interaction": x + 0.5 * z + x * w}[truth]
    return frame.assign(y=mean + rng.normal(0, 0.1, n))


@pytest.fixture(scope="module")
def found():
    return {truth: compare(_table(truth), "y", **SMALL)
            for truth in ("linear", "sin", "interaction")}


def test_a_linear_truth_gets_no_proposal(found):
    comparison = found["linear"]
    (verdict,) = comparison.verdicts
    assert comparison.explanation.proposals == {} and "proposed" not in comparison.fits
    assert not comparison.explanation.rankings["mlp:16"]["supported"].any()
    assert comparison.explanation.proposal_dict(verdict.network) is None


def test_a_smooth_nonlinearity_gets_its_spline_and_nothing_else(found):
    proposal = found["sin"].explanation.proposals["mlp:16"]
    assert proposal.added_terms == (spline_term("x"),)
    assert proposal.formula == f"y ~ {spline_term('x')} + z + w"
    assert proposal.prefer == "regression"


def test_one_interaction_is_found(found):
    proposal = found["interaction"].explanation.proposals["mlp:16"]
    assert proposal.added_terms == ("x:w",)
    assert proposal.prefer == "regression" and proposal.ci_high < proposal.margin
    scores = found["interaction"].scores["deviance"]
    assert scores["proposed"] < scores["linear"] / 5


def test_the_proposal_is_a_model_of_the_ladder_and_fit_reproduces_it(found):
    comparison = found["interaction"]
    proposed = comparison.fits["proposed"]
    assert proposed.exact is not None and "x:w" in proposed.coefficients.index
    assert np.isfinite(proposed.coefficients["std_error"]).all()
    again = degenet.fit(_table("interaction"), formula=comparison.explanation.proposals[
        "mlp:16"].formula, solver="exact", validation=0.2, seed=0)  # the comparison's split
    np.testing.assert_array_equal(again.train_rows, proposed.train_rows)
    np.testing.assert_allclose(again.coefficients["estimate"],
                               proposed.coefficients["estimate"], rtol=1e-9)


def test_a_notebook_shows_the_proposal_the_effects_and_the_missed_terms(found):
    page = found["interaction"]._repr_html_()
    assert "prefer the proposed regression" in page and "x:w" in page
    assert "average effect of each input" in page and "terms mlp:16 uses" in page
    assert "prefer the proposed" not in found["linear"]._repr_html_()


def _ranking(rows):
    return pd.DataFrame(rows, columns=["term", "kind", "variables", "strength", "h",
                                       "supported"])


def test_the_formula_keeps_the_regressions_terms_and_quotes_odd_names():
    frame = pd.DataFrame({"mean radius": [1.0, 2.0, 3.5, 4.0], "g": ["a", "b", "a", "b"],
                          "z": [0.5, 0.1, 0.3, 0.9], "y": [1.0, 0.0, 2.0, 1.5]})
    encoding = prepare(frame, "y").encoding
    ranking = _ranking([
        ("`mean radius`:g", "interaction", ("mean radius", "g"), 0.2, 0.5, True),
        (spline_term("z"), "nonlinearity", ("z",), 0.1, 0.3, True),
        ("g:z", "interaction", ("g", "z"), 0.0001, 0.1, False)])
    formula, added = propose_formula(encoding, ranking)
    assert formula == f"y ~ `mean radius` + g + {spline_term('z')} + `mean radius`:g"
    assert added == ("`mean radius`:g", spline_term("z"))
    refit = prepare(frame, formula=formula)  # formulaic reads it back
    assert "mean radius:g[b]" in refit.terms
    user = prepare(frame, formula="y ~ np.log(`mean radius`) + C(g) + z - 1").encoding
    formula, _ = propose_formula(user, ranking)
    assert formula == ("y ~ np.log(`mean radius`) + C(g) + " + spline_term("z")
                       + " + `mean radius`:g - 1")


def test_a_poisson_proposal_keeps_the_exposure():
    rng = np.random.default_rng(0)
    n = 2500
    frame = pd.DataFrame({"x": rng.uniform(-1, 1, n), "z": rng.uniform(-1, 1, n),
                          "exposure": rng.uniform(0.5, 3.0, n)})
    frame["count"] = rng.poisson(frame["exposure"] * np.exp(0.3 + 0.5 * frame["x"]
                                                            + 0.8 * frame["x"] * frame["z"]))
    comparison = compare(frame, "count", models="poisson,mlp:16", family="poisson",
                         features=["x", "z"], exposure="exposure", seed=0, max_epochs=80)
    proposal = comparison.explanation.proposals["mlp:16"]
    assert proposal.added_terms == ("x:z",)
    proposed = comparison.fits["proposed"]
    assert proposed.offset.column == "exposure" and proposed.offset.exposure
    table = proposed.coefficient_table()
    assert table.loc["x:z", "ci_low"] < 0.8 < table.loc["x:z", "ci_high"]
    effects = comparison.explanation.effects.set_index(["model", "term"])
    assert np.isfinite(effects["effect"]).all()
