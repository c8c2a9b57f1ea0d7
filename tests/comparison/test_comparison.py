"""The fair comparison: one metric implementation, the baseline, folds, and the verdict.

The verdict must be right in both directions: on truly linear data it must not favour
the network; on the post's balloons it must, with an interval that excludes zero.
"""

import numpy as np
import pandas as pd
import pytest
from scipy import special, stats
from sklearn import metrics as skm

from degenet.comparison.comparison import BASELINE, compare
from degenet.datasets import balloons
from degenet.errors import ConvergenceWarning, DegenetError
from degenet.model.families import FAMILIES
from degenet.comparison.metrics import baseline_eta, score, unit_deviance
from degenet.comparison.verdict import bootstrap_interval, corrected_t_interval, decide, judge

# Short training on purpose: the convergence warnings it raises are not what is tested here.
pytestmark = pytest.mark.filterwarnings("ignore::degenet.errors.ConvergenceWarning")
FAST = {"max_epochs": 60, "batch_size": 64, "learning_rate": 0.01}
FEATURES = ["relationship", "children", "age"]


def _random_case(name, rng, n=50):
    if name == "categorical":
        return rng.integers(0, 3, n).astype(float), rng.normal(size=(n, 3))
    eta = rng.normal(size=n)
    y = {"gaussian": rng.normal(size=n), "bernoulli": rng.integers(0, 2, n).astype(float),
         "poisson": rng.poisson(2.0, n).astype(float)}[name]
    return y, eta


@pytest.mark.parametrize("name", list(FAMILIES))
def test_unit_deviance_sums_to_the_familys_deviance(name):
    family = FAMILIES[name]
    y, eta = _random_case(name, np.random.default_rng(0))
    per_row = unit_deviance(family, y, eta)
    assert per_row.shape == (len(y),) and (per_row >= 0).all()
    assert per_row.sum() == pytest.approx(family.deviance(y, eta, np.ones(len(y))), rel=1e-12)


def test_gaussian_scores_match_scikit_learn():
    rng = np.random.default_rng(1)
    y, eta = rng.normal(size=200), rng.normal(size=200)
    result = score(FAMILIES["gaussian"], y, eta)
    assert result["deviance"] == pytest.approx(skm.mean_squared_error(y, eta), rel=1e-12)
    assert result["r2"] == pytest.approx(skm.r2_score(y, eta), rel=1e-12)
    assert result["rmse"] == pytest.approx(np.sqrt(skm.mean_squared_error(y, eta)), rel=1e-12)


def test_class_scores_match_scikit_learn():
    rng = np.random.default_rng(2)
    y, eta = rng.integers(0, 2, 300).astype(float), rng.normal(size=300)
    p = special.expit(eta)
    result = score(FAMILIES["bernoulli"], y, eta)
    assert result["log_loss"] == pytest.approx(skm.log_loss(y, p), rel=1e-9)
    assert result["deviance"] == pytest.approx(2 * skm.log_loss(y, p), rel=1e-9)
    assert result["brier"] == pytest.approx(skm.brier_score_loss(y, p), rel=1e-12)
    assert result["roc_auc"] == pytest.approx(skm.roc_auc_score(y, p), rel=1e-12)
    assert result["accuracy"] == pytest.approx(np.mean((p > 0.5) == y))
    codes, logits = rng.integers(0, 3, 300), rng.normal(size=(300, 3))
    proba = special.softmax(logits, axis=1)
    multi = score(FAMILIES["categorical"], codes.astype(float), logits)
    assert multi["log_loss"] == pytest.approx(skm.log_loss(codes, proba), rel=1e-9)
    assert multi["roc_auc"] == pytest.approx(skm.roc_auc_score(codes, proba, multi_class="ovr"))
    assert multi["brier"] == pytest.approx(np.mean(((proba - np.eye(3)[codes]) ** 2).sum(1)))


def test_baseline_is_the_training_mean_or_class_frequencies():
    y = np.array([0.0, 1.0, 1.0, 1.0])
    assert special.expit(baseline_eta(FAMILIES["bernoulli"], y, 2)) == pytest.approx(0.75)
    assert baseline_eta(FAMILIES["gaussian"], np.array([1.0, 2.0, 6.0]), 3) == pytest.approx(3.0)
    assert np.exp(baseline_eta(FAMILIES["poisson"], np.array([1.0, 3.0]), 1)) == pytest.approx(2)
    codes = np.array([0.0, 1.0, 1.0, 2.0, 2.0, 2.0])
    eta = baseline_eta(FAMILIES["categorical"], codes, 2, n_classes=3)
    np.testing.assert_allclose(special.softmax(eta, axis=1), [[1 / 6, 2 / 6, 3 / 6]] * 2)


def test_decide_needs_the_whole_interval_beyond_the_margin():
    assert decide(-0.5, -0.2, margin=0.1) == "network"
    assert decide(0.2, 0.5, margin=0.1) == "regression"
    assert decide(-0.5, 0.1, margin=0.1) == "either"
    assert decide(-0.09, -0.05, margin=0.1) == "either"  # sure, but too small to matter


def test_corrected_t_is_nadeau_bengio_and_wider_than_the_plain_t():
    d = np.array([0.10, 0.20, 0.15, 0.05, 0.12])
    low, high = corrected_t_interval(d, n_train=800, n_test=200)
    half = stats.t.ppf(0.975, 4) * np.sqrt((1 / 5 + 200 / 800) * np.var(d, ddof=1))
    assert (low, high) == pytest.approx((d.mean() - half, d.mean() + half))
    plain = stats.t.interval(0.95, 4, loc=d.mean(), scale=stats.sem(d))
    assert high - low > plain[1] - plain[0]
    with pytest.raises(DegenetError, match="at least 2 folds; received 1"):
        corrected_t_interval(d[:1], n_train=10, n_test=2)


def test_bootstrap_interval_is_seeded_and_close_to_the_normal_one():
    d = np.random.default_rng(3).normal(0.3, 1.0, size=4000)
    low, high = bootstrap_interval(d, seed=7)
    assert bootstrap_interval(d, seed=7) == (low, high)
    normal = 1.96 * d.std(ddof=1) / np.sqrt(len(d))
    assert low == pytest.approx(d.mean() - normal, abs=0.01)
    assert high == pytest.approx(d.mean() + normal, abs=0.01)


def test_judge_checks_its_arguments():
    with pytest.raises(DegenetError, match="confidence must be between 0 and 1; received 95"):
        judge("mlp", "linear", [np.zeros(5)], 1.0, 1.0, seed=0, confidence=95)


@pytest.fixture(scope="module")
def linear_table():
    rng = np.random.default_rng(11)
    X = rng.normal(size=(2000, 3))
    y = 0.5 + X @ [1.0, -2.0, 0.5] + rng.normal(scale=1.0, size=2000)
    return pd.DataFrame(X, columns=["a", "b", "c"]).assign(y=y)


def test_on_linear_data_the_network_is_not_preferred(linear_table):
    result = compare(linear_table, "y", models="linear,mlp:16", seed=0, cv=1, **FAST)
    (verdict,) = result.verdicts
    assert (verdict.network, verdict.regression, verdict.method) == (
        "mlp:16", "linear", "paired bootstrap")
    assert verdict.prefer in ("regression", "either")
    assert verdict.ci_low <= verdict.loss_difference <= verdict.ci_high
    assert verdict.ci_low < 0.05 * verdict.regression_loss  # not clearly worse by much either
    assert "no reason to prefer" in verdict.sentence or "regression linear is better" in \
        verdict.sentence
    assert list(result.scores.index) == [BASELINE, "linear", "mlp:16"]
    assert result.scores.loc["linear", "r2"] > 0.8 > result.scores.loc[BASELINE, "r2"]


def test_on_linear_data_with_folds_the_network_is_not_preferred(linear_table):
    result = compare(linear_table, "y", models="linear,mlp:16", seed=0, cv=3, **FAST)
    (verdict,) = result.verdicts
    assert verdict.method == "corrected resampled t" and verdict.n_folds == 3
    assert verdict.prefer in ("regression", "either")
    # The folds hold out every row exactly once, and never a training row.
    tests = np.concatenate([fold.test_rows for fold in result.folds])
    np.testing.assert_array_equal(np.sort(tests), np.arange(len(linear_table)))
    for fold in result.folds:
        assert not np.intersect1d(fold.train_rows, fold.test_rows).size
    assert len(result.fold_fits["mlp:16"]) == 3 and "deviance_sd" in result.scores


def test_on_the_posts_data_the_network_is_better():
    data = balloons(3000, seed=4)
    for target, models, cv in (("num_balloons", "linear,mlp", 1),
                               ("color", "logistic,mlp", 3)):
        result = compare(data, target, models=models, features=FEATURES, seed=0, cv=cv, **FAST)
        (verdict,) = result.verdicts
        assert verdict.prefer == "network", verdict.sentence
        assert verdict.ci_low <= verdict.loss_difference <= verdict.ci_high < 0
        assert verdict.sentence.startswith("The network mlp is better")


def test_progress_reports_every_fold_and_warnings_come_once(linear_table):
    seen = []
    with pytest.warns(ConvergenceWarning, match=r"max_epochs=3.*\(2 times over the 2 folds"):
        compare(linear_table.head(300), "y", models="linear", cv=2, seed=0, max_epochs=3,
                progress=lambda label, done, total: seen.append((label, done, total)))
    assert ("linear fold 1/2", 3, 3) in seen and ("linear fold 2/2", 3, 3) in seen
    assert {label for label, _, _ in seen} == {"linear fold 1/2", "linear fold 2/2"}


@pytest.mark.parametrize(("options", "message"), [
    ({"cv": 0}, "cv must be a whole number of folds from 2.*1 for one split.*received cv=0"),
    ({"cv": 3, "repeats": 0}, "repeats must be a positive integer; received repeats=0"),
    ({"cv": 1, "repeats": 2}, "repeats=2 needs folds"),
    ({"cv": 1, "validation": 0}, "validation=0 leaves one split no rows to score"),
])
def test_bad_designs_are_refused(linear_table, options, message):
    with pytest.raises(DegenetError, match=message):
        compare(linear_table, "y", models="linear", **options)


def test_regressions_can_take_their_exact_optimum(linear_table):
    result = compare(linear_table, "y", models="linear,mlp:4", seed=0, solver="exact",
                     max_epochs=5)
    assert result.fits["linear"].solver == "exact" and result.fits["mlp:4"].solver == "gd"
    assert result.scores.loc["linear", "r2"] > 0.8 and len(result.verdicts) == 1


def test_under_folds_another_librarys_notice_passes_once_and_counts_stay_true():
    """A Keras DeprecationWarning raised on every call read "(in 53 of 10 folds)"."""
    import warnings as _warnings

    from degenet.comparison.comparison import _once_per_kind
    from degenet.errors import DataWarning

    with _warnings.catch_warnings(record=True) as caught:
        _warnings.simplefilter("always")
        with _once_per_kind(10):
            for _ in range(53):
                _warnings.warn("__array__ implementation doesn't accept a copy keyword",
                               DeprecationWarning)
                _warnings.warn("model 'linear': 3 rows dropped", DataWarning)
    messages = [str(w.message) for w in caught]
    assert messages.count("__array__ implementation doesn't accept a copy keyword") == 1
    assert [m for m in messages if "dropped" in m] == [
        "model 'linear': 3 rows dropped (53 times over the 10 folds; the figures are the first's)"]
