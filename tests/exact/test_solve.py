"""The exact solver against stored reference optima (mpmath / statsmodels), and its contract.

The references are in tests/exact/exact_reference.json, made by
tests/exact/make_exact_reference.py;
``bench/agreement.py`` prints the digits of agreement per case.
"""

import inspect
import warnings

import numpy as np
import pytest

from tests.exact import exact_cases
from degenet.errors import DataWarning, DegenetError
from degenet.model.families import get_family
from degenet.exact import newton
from degenet.exact.solve import solve

DIGITS = 8  # significant digits required against the reference


def _ordered(solution, intercept, categorical):
    estimate = np.vstack([solution.beta, solution.alpha[None]]) if intercept else solution.beta
    if categorical:
        assert np.all(estimate[:, 0] == 0.0)  # class 0 is the solver's reference
        estimate = estimate[:, 1:]
    return estimate.ravel(order="F"), np.sqrt(np.diag(solution.covariance))


@pytest.fixture(scope="module")
def solved():
    out = {}
    for name in exact_cases.CASES:
        family, X, y, intercept = exact_cases.load(name)
        out[name] = solve(family, X, y, intercept=intercept)
    return out


@pytest.mark.parametrize("name", exact_cases.CASES)
def test_estimates_and_std_errors_match_the_reference(name, solved):
    stored = exact_cases.reference(name)
    source = "mpmath" if "mpmath" in stored else "statsmodels"
    solution = solved[name]
    categorical = stored["family"] == "categorical"
    estimate, std_error = _ordered(solution, stored["intercept"], categorical)
    rtol = 10.0 ** -DIGITS
    np.testing.assert_allclose(estimate, np.asarray(stored[source]["estimate"], float), rtol=rtol)
    np.testing.assert_allclose(std_error, np.asarray(stored[source]["std_error"], float),
                               rtol=rtol)
    assert solution.converged


def test_statsmodels_fails_where_the_reference_is_mpmath(solved):
    # The ill-conditioned polynomial is where a high-precision reference is needed at all:
    # statsmodels' float64 fit, run here, misses the mpmath optimum by more than 1e-3 while
    # degenet's solver meets it to DIGITS digits.
    reference = np.asarray(exact_cases.reference("filip_like")["mpmath"]["estimate"], float)
    sm_estimate, _ = exact_cases.statsmodels_fit("filip_like")
    assert np.max(np.abs(sm_estimate - reference) / np.abs(reference)) > 1e-3
    intercept = exact_cases.load("filip_like")[3]
    estimate, _ = _ordered(solved["filip_like"], intercept, False)
    np.testing.assert_allclose(estimate, reference, rtol=10.0 ** -DIGITS)


@pytest.mark.parametrize("name", ["spector", "cpunish", "longley"])
def test_statsmodels_and_mpmath_agree_where_both_exist(name):
    # Two independent references: statsmodels, fitted here in float64, and the stored
    # mpmath optimum; a stored value that drifted (e.g. an accidental regeneration) fails.
    stored = exact_cases.reference(name)["mpmath"]
    params, bse = exact_cases.statsmodels_fit(name)
    np.testing.assert_allclose(params, np.asarray(stored["estimate"], float), rtol=1e-8)
    np.testing.assert_allclose(bse, np.asarray(stored["std_error"], float), rtol=1e-6)


@pytest.mark.parametrize("name", ["longley", "spector", "cpunish", "anes96"])
def test_loss_is_the_family_mean_loss_at_the_optimum(name, solved):
    family, X, y, intercept = exact_cases.load(name)
    solution = solved[name]
    eta = X @ solution.beta + solution.alpha
    eta = eta if family == "categorical" else eta[:, 0]
    assert solution.loss == pytest.approx(np.mean(get_family(family).loss_np(y, eta)), rel=1e-12)


@pytest.mark.parametrize("name", ["spector", "cpunish", "anes96", "diabetes"])
def test_the_optimum_has_a_zero_gradient(name, solved):
    family_name, X, y, intercept = exact_cases.load(name)
    family, solution = get_family(family_name), solved[name]
    eta = X @ solution.beta + solution.alpha
    gradient = family.gradient(y, eta if family.name == "categorical" else eta[:, 0])
    gradient = gradient if gradient.ndim == 2 else gradient[:, None]
    scale = np.sqrt(np.mean(X**2, axis=0))[:, None]
    assert np.abs(X.T @ gradient / len(y) / scale).max() < 1e-9  # per unit-RMS column
    assert np.abs(gradient.sum(axis=0) / len(y)).max() < 1e-9


@pytest.mark.parametrize("name", ["diabetes", "spector", "randhie", "anes96", "longley"])
def test_row_blocks_and_float32_give_the_same_optimum(name, solved):
    family, X, y, intercept = exact_cases.load(name)
    blocked = solve(family, X, y, intercept=intercept, block_rows=7)
    np.testing.assert_allclose(blocked.beta, solved[name].beta, rtol=1e-9, atol=1e-12)
    covariance = solved[name].covariance
    np.testing.assert_allclose(blocked.covariance, covariance, rtol=1e-7,
                               atol=1e-10 * np.abs(covariance).max())
    X32 = X.astype(np.float32)
    before = X32.copy()
    single = solve(family, X32, y, intercept=intercept, block_rows=max(8, len(y) // 3))
    np.testing.assert_array_equal(X32, before)  # the input is never modified
    exact32 = solve(family, X32.astype(np.float64), y, intercept=intercept)
    np.testing.assert_allclose(single.beta, exact32.beta, rtol=1e-7, atol=1e-10)


def test_integer_sample_weights_equal_repeated_rows():
    family, X, y, intercept = exact_cases.load("spector")
    counts = np.arange(len(y)) % 3 + 1
    weighted = solve(family, X, y, sample_weight=counts.astype(float))
    repeated = solve(family, np.repeat(X, counts, axis=0), np.repeat(y, counts))
    np.testing.assert_allclose(weighted.beta, repeated.beta, rtol=1e-10)
    np.testing.assert_allclose(weighted.covariance, repeated.covariance, rtol=1e-8)


@pytest.mark.parametrize("family", ["gaussian", "bernoulli", "poisson", "categorical"])
def test_collinear_columns_are_dropped_and_named(family):
    rng = np.random.default_rng(2)
    X = rng.normal(size=(300, 3))
    X = np.column_stack([X, 2.0 * X[:, 0] - X[:, 2] + 1.0])
    eta = X[:, :3] @ [0.5, -0.3, 0.2]
    y = {"gaussian": eta + rng.normal(size=300),
         "bernoulli": (rng.random(300) < 1 / (1 + np.exp(-eta))).astype(float),
         "poisson": rng.poisson(np.exp(eta)).astype(float),
         "categorical": rng.integers(0, 3, 300).astype(float)}[family]
    solution = solve(family, X, y)
    assert len(solution.dropped) == 1
    dropped = solution.dropped[0]
    relation = solution.relations[:, 0]
    np.testing.assert_allclose(X @ relation[:-1] + relation[-1], X[:, dropped], atol=1e-9)
    assert np.all(solution.beta[dropped] == 0.0)
    assert np.isnan(np.sqrt(np.diag(solution.covariance))).sum() == solution.beta.shape[1] - (
        family == "categorical")
    kept = [j for j in range(4) if j != dropped]
    reduced = solve(family, X[:, kept], y)
    np.testing.assert_allclose(solution.beta[kept], reduced.beta, rtol=1e-8, atol=1e-10)


def test_a_constant_column_is_dropped_not_the_intercept():
    rng = np.random.default_rng(3)
    X = np.column_stack([rng.normal(size=50), np.full(50, 4.0)])
    y = 1.0 + X[:, 0] + rng.normal(size=50)
    solution = solve("gaussian", X, y)
    assert solution.dropped == (1,)
    assert solution.alpha[0] == pytest.approx(np.polyfit(X[:, 0], y, 1)[1], rel=1e-10)


def test_without_intercept_matches_through_the_origin_fit():
    family, X, y, _ = exact_cases.load("cpunish")
    solution = solve(family, X, y, intercept=False)
    assert np.all(solution.alpha == 0.0)
    import statsmodels.api as sm

    reference = sm.GLM(y, X, family=sm.families.Poisson()).fit(tol=1e-14, maxiter=100)
    np.testing.assert_allclose(solution.beta[:, 0], reference.params, rtol=1e-8)
    np.testing.assert_allclose(np.sqrt(np.diag(solution.covariance)), reference.bse, rtol=1e-8)


def test_newton_that_runs_out_of_iterations_warns_with_figures():
    family, X, y, _ = exact_cases.load("spector")
    with pytest.warns(Warning, match=r"did not converge in 2 iterations .*gradient"):
        solution = solve(family, X, y, max_iter=2)
    assert not solution.converged


@pytest.mark.parametrize("kwargs, message", [
    ({"y": np.arange(3.0)}, r"y has 3 rows but X has 32"),
    ({"sample_weight": -np.ones(32)}, r"sample_weight must be 32 finite non-negative"),
    ({"tol": 0}, r"tol must be a positive number; received tol=0"),
    ({"max_iter": 0}, r"max_iter must be a positive integer; received max_iter=0"),
    ({"family": "gamma"}, r"unknown family 'gamma'"),
    ({"y": np.full(32, 2.0)}, r"bernoulli y must be 0 or 1; received 2"),
])
def test_bad_input_gets_a_clear_error(kwargs, message):
    family, X, y, _ = exact_cases.load("spector")
    arguments = {"family": family, "X": X, "y": y, **kwargs}
    with pytest.raises(DegenetError, match=message):
        solve(arguments.pop("family"), arguments.pop("X"), arguments.pop("y"), **arguments)


def test_a_non_finite_column_is_named():
    X = np.ones((5, 2))
    X[2, 1] = np.inf
    with pytest.raises(DegenetError, match="column 1 of X holds infinite"):
        solve("gaussian", X, np.arange(5.0))


def test_large_rows_take_the_normal_equations_when_well_conditioned():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(2000, 3)).astype(np.float32)
    y = X @ np.array([1.0, -2.0, 0.5], np.float32) + 3.0 + rng.normal(size=2000)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataWarning)
        blocked = solve("gaussian", X, y, block_rows=500)
    assert blocked.method == "least-squares-cholesky"
    qr = solve("gaussian", X, y)
    np.testing.assert_allclose(blocked.beta, qr.beta, rtol=1e-12)
    assert blocked.dispersion == pytest.approx(qr.dispersion, rel=1e-12)


@pytest.mark.parametrize("warm_start_rows", [200_000, 1000])
@pytest.mark.parametrize("family", ["bernoulli", "poisson"])
def test_float32_rows_in_threaded_blocks_give_the_float64_optimum_and_covariance(
        family, warm_start_rows, monkeypatch):
    # 9000 rows: three blocks of 4096 or fewer, spread over threads; float32 X builds the
    # Hessians by float32 products but the last, which must leave no trace in the result;
    # nor must starting from Newton on every 10th row (warm_start_rows=1000).
    monkeypatch.setattr(newton, "WARM_START_ROWS", warm_start_rows)
    rng = np.random.default_rng(5)
    X = (rng.normal(size=(9000, 4)) * [1.0, 2.0, 0.5, 3.0] + [0.0, 5.0, -1.0, 2.0])
    X = X.astype(np.float32)
    eta = (X - X.mean(axis=0)) @ np.array([0.5, -0.2, 0.8, 0.1]) - 0.5
    y = ((rng.random(9000) < 1 / (1 + np.exp(-eta))) if family == "bernoulli"
         else rng.poisson(np.exp(eta))).astype(float)
    single = solve(family, X, y)
    exact = solve(family, X.astype(np.float64), y, block_rows=9000)
    np.testing.assert_allclose(single.beta, exact.beta, rtol=1e-10)
    np.testing.assert_allclose(single.alpha, exact.alpha, rtol=1e-10)
    np.testing.assert_allclose(single.covariance, exact.covariance, rtol=1e-10,
                               atol=1e-12 * np.abs(exact.covariance).max())
    assert single.loss == pytest.approx(exact.loss, rel=1e-14)


@pytest.mark.parametrize("family", ["bernoulli", "gaussian", "categorical"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_column_major_design_gives_the_row_major_optimum(family, dtype):
    # The design of a DataFrame or a Parquet file is column-major; its blocks are then
    # filled a column at a time, in every pass (first Gram, Newton, covariance, QR).
    rng = np.random.default_rng(11)
    X = (rng.normal(size=(40_000, 5)) * [1.0, 2.0, 0.5, 3.0, 1.0] + [0.0, 5.0, -1, 2, 0])
    X[:, 4] = X[:, 0] + 1e-3 * X[:, 4]  # nearly collinear: the QR covariance pass too
    eta = (X - X.mean(axis=0)) @ np.array([0.5, -0.2, 0.8, 0.1, 0.0])
    y = {"bernoulli": (rng.random(40_000) < 1 / (1 + np.exp(-eta))).astype(float),
         "gaussian": eta + rng.normal(size=40_000),
         "categorical": np.digitize(eta, [-0.5, 0.5]).astype(float)}[family]
    C = np.ascontiguousarray(X, dtype=dtype)
    F = np.asfortranarray(C)
    by_rows, by_columns = solve(family, C, y), solve(family, F, y)
    # The same optimum, up to the rounding of sums taken in another order: far inside the
    # estimates' own uncertainty (in std errors) and the solver's stopping tolerance.
    distance = (np.r_[by_columns.beta[:, -1], by_columns.alpha[-1]]
                - np.r_[by_rows.beta[:, -1], by_rows.alpha[-1]])
    q = len(distance)
    std_errors = np.sqrt(np.diag(by_rows.covariance))[-q:]
    assert np.abs(distance / std_errors).max() < 1e-8
    assert by_columns.loss == pytest.approx(by_rows.loss, rel=1e-14)
    np.testing.assert_allclose(by_columns.covariance, by_rows.covariance, rtol=1e-6)
    assert by_columns.n_iter == by_rows.n_iter


def test_a_full_newton_step_that_overshoots_is_searched_back(monkeypatch):
    # Poisson from the null model: the first full step overshoots. Taking every full step
    # unchecked makes the next pass find the rise and search back from half the step.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 3))
    y = rng.poisson(np.exp(3.0 * X[:, 0] - 1.0)).astype(float)
    reference = solve("poisson", X, y)
    searches = []
    line_search = newton._line_search
    signature = inspect.signature(line_search)

    def spy(*args, **kwargs):
        # The step the search starts from, however the solver passes it.
        searches.append(signature.bind(*args, **kwargs).arguments.get("step", 1.0))
        return line_search(*args, **kwargs)

    monkeypatch.setattr(newton, "FULL_STEP_DECREMENT", np.inf)
    monkeypatch.setattr(newton, "_line_search", spy)
    unchecked = solve("poisson", X, y)
    assert searches == [0.5]
    assert unchecked.converged
    np.testing.assert_allclose(unchecked.beta, reference.beta, rtol=1e-12)
    assert unchecked.loss == reference.loss
