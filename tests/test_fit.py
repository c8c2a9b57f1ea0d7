"""The ladder end to end: known truths recovered, the split, the Keras model, the errors."""

import warnings

import numpy as np
import pandas as pd
import pytest

import degenet
from degenet.errors import DegenetError
from degenet.data.split import validation_split

FAST = {"max_epochs": 60, "batch_size": 64, "learning_rate": 0.01}


@pytest.fixture(scope="module")
def linear_table():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(3000, 2)) * [2.0, 0.5] + [10.0, -3.0]  # units and offsets on purpose
    y = 1.5 + 2.0 * X[:, 0] - 3.0 * X[:, 1] + rng.normal(scale=0.1, size=3000)
    return pd.DataFrame({"x1": X[:, 0], "x2": X[:, 1], "y": y})


def test_linear_truth_is_recovered_in_original_units(linear_table):
    fitted = degenet.fit(linear_table, "y", model="linear", seed=3, **FAST)
    estimate = fitted.coefficients["estimate"]
    assert list(estimate.index) == ["x1", "x2", "intercept"]
    np.testing.assert_allclose(estimate[["x1", "x2", "intercept"]], [2.0, -3.0, 1.5], atol=0.02)
    assert fitted.val_loss == pytest.approx(0.01, rel=0.3)  # the noise variance


def test_the_keras_model_is_the_regression(linear_table):
    fitted = degenet.fit(linear_table, "y", model="linear", seed=3, **FAST)
    model = fitted.model
    assert [layer.name for layer in model.layers] == ["features", "eta", "mean"]
    kernel, bias = (w.numpy() for w in model.get_layer("eta").weights)
    np.testing.assert_allclose(kernel[:, 0], fitted.coefficients["gd_estimate"][["x1", "x2"]],
                               rtol=1e-6)
    # The model reads the data in its own units and keeps working as a Keras model.
    X = linear_table[["x1", "x2"]].to_numpy("float32")
    np.testing.assert_allclose(model.predict(X[:5], verbose=0)[:, 0],
                               fitted.predict(linear_table.head(5)), rtol=1e-5)


def test_the_exact_solver_skips_what_only_gradient_descent_needs(linear_table, monkeypatch):
    """solver='exact' writes the optimum into the network as it is: no standardized copy
    of the target and no start for the bias (2,000,000 rows: 0.1-0.2 s)."""
    import degenet.fitting

    def refused(*args, **kwargs):
        raise AssertionError("the start of gradient descent's bias was computed")

    monkeypatch.setattr(degenet.fitting, "start_bias", refused)
    fitted = degenet.fit(linear_table, "y", model="linear", solver="exact")
    kernel, bias = (w.numpy() for w in fitted.model.get_layer("eta").weights)
    np.testing.assert_allclose(np.r_[kernel[:, 0], bias],
                               fitted.coefficients["estimate"][["x1", "x2", "intercept"]],
                               rtol=1e-6)
    with pytest.raises(AssertionError, match="start of gradient descent"):
        degenet.fit(linear_table, "y", model="linear", solver="gd", **FAST)


def test_mlp_has_hidden_layers_and_no_coefficients(linear_table):
    fitted = degenet.fit(linear_table, "y", model="mlp:8,4", seed=0, **FAST)
    names = [layer.name for layer in fitted.model.layers]
    assert names == ["features", "hidden_1", "hidden_2", "eta", "mean"]
    with pytest.raises(DegenetError, match="hidden layers"):
        fitted.coefficients


def test_best_weights_are_restored_and_history_kept(linear_table):
    # The model's own predictions on the validation rows, scored here in numpy, must give
    # the best epoch's validation loss, not the last epoch's.
    fitted = degenet.fit(linear_table, "y", model="mlp:8", seed=0, max_epochs=40, patience=2,
                         learning_rate=0.05)
    history = fitted.history
    assert list(history.columns) == ["epoch", "loss", "val_loss"]
    assert fitted.best_epoch == int(history["val_loss"].idxmin()) + 1 < fitted.epochs
    best, last = history["val_loss"].iloc[[fitted.best_epoch - 1, -1]]
    assert not np.isclose(best, last, rtol=1e-3)  # the check below can tell them apart
    rows = linear_table.iloc[fitted.val_rows]
    held_out = np.mean((rows["y"].to_numpy() - fitted.predict(rows)) ** 2)
    assert held_out == pytest.approx(best, rel=1e-4)


def test_same_seed_same_fit_other_seed_other_split(linear_table):
    a = degenet.fit(linear_table, "y", model="mlp:4", seed=5, max_epochs=5)
    b = degenet.fit(linear_table, "y", model="mlp:4", seed=5, max_epochs=5)
    c = degenet.fit(linear_table, "y", model="mlp:4", seed=6, max_epochs=5)
    pd.testing.assert_frame_equal(a.history, b.history)
    assert a.seed == 5
    assert not np.array_equal(a.val_rows, c.val_rows)


def test_validation_split_is_shuffled_and_stratified():
    y = np.r_[np.zeros(900), np.ones(100)]  # the positives are all at the end
    train, val = validation_split(y, validation=0.2, stratify=True, seed=0)
    assert len(val) == 200 and len(np.intersect1d(train, val)) == 0
    assert y[val].mean() == pytest.approx(0.1)
    assert val.min() < 800  # not "the last rows"


def test_classes_keep_their_labels():
    rng = np.random.default_rng(0)
    x = rng.normal(size=600)
    label = np.where(x + rng.normal(scale=0.5, size=600) > 0, "red", "green")
    fitted = degenet.fit(pd.DataFrame({"x": x, "color": label}), "color", seed=0, **FAST)
    assert fitted.spec.text == "logistic" and fitted.classes == ("green", "red")
    assert fitted.coefficients.loc["x", "estimate"] > 1  # "red" is the positive class
    assert set(fitted.predict(pd.DataFrame({"x": [-3.0, 3.0]}))) == {"green", "red"}


def test_softmax_coefficients_against_the_reference_class():
    rng = np.random.default_rng(0)
    x = rng.normal(size=900)
    label = np.array(["a", "b", "c"])[np.clip(np.round(x + rng.normal(scale=0.5, size=900)), -1,
                                              1).astype(int) + 1]
    fitted = degenet.fit(pd.DataFrame({"x": x, "k": label}), "k", seed=0, **FAST)
    assert fitted.family.name == "categorical" and fitted.spec.text == "softmax"
    table = fitted.coefficients
    assert list(table.index.names) == ["class", "term"]
    assert set(table.index.get_level_values("class")) == {"b", "c"}
    assert table.loc[("c", "x"), "estimate"] > table.loc[("b", "x"), "estimate"] > 0
    assert fitted.predict_proba(pd.DataFrame({"x": [0.0]})).sum() == pytest.approx(1.0, 1e-5)


def test_poisson_recovers_a_log_linear_truth():
    rng = np.random.default_rng(2)
    x = rng.uniform(-1, 1, size=4000)
    counts = rng.poisson(np.exp(0.5 + 0.8 * x))
    fitted = degenet.fit(pd.DataFrame({"x": x, "n": counts}), "n", model="poisson", seed=0,
                         **FAST)
    np.testing.assert_allclose(fitted.coefficients["estimate"], [0.8, 0.5], atol=0.08)


@pytest.mark.parametrize("call, message", [
    (lambda t: degenet.fit(t, "colour"), "target column 'colour' not found; columns are: x1"),
    (lambda t: degenet.fit(t.assign(s=pd.Timestamp("2024-01-01")), "y"),
     "column 's' has dtype datetime64"),
    (lambda t: degenet.fit(t.head(1), "y"), "single value .* nothing to predict"),
    (lambda t: degenet.fit(t, "y", model="mlp:0"), "bad hidden layer widths"),
    (lambda t: degenet.fit(t, "y", model="forest"), "unknown model spec 'forest'"),
    (lambda t: degenet.fit(t, "y", model="logistic"), "distinct value"),
    (lambda t: degenet.fit(t, "y", learning_rate=-1), "learning_rate must be a positive"),
    (lambda t: degenet.fit(t, "y", optimizer="adamm"), "unknown optimizer 'adamm'"),
    (lambda t: degenet.fit(t, "y", epochs=3), "unknown training option"),
    (lambda t: degenet.fit(t, "y", seed=-1), "seed must be a non-negative integer"),
    (lambda t: degenet.fit(t, "y", family="binomial"), "unknown family 'binomial'"),
    (lambda t: degenet.fit("nope.csv", "y"), "file not found"),
])
def test_errors_name_what_was_wrong(linear_table, call, message):
    with pytest.raises(DegenetError, match=message):
        call(linear_table)


def test_csv_and_parquet_paths(linear_table, tmp_path):
    linear_table.to_csv(tmp_path / "t.csv", index=False)
    linear_table.to_parquet(tmp_path / "t.parquet")
    a = degenet.fit(tmp_path / "t.csv", "y", seed=1, max_epochs=2)
    b = degenet.fit(str(tmp_path / "t.parquet"), "y", seed=1, max_epochs=2)
    np.testing.assert_allclose(a.coefficients, b.coefficients, rtol=1e-4)


def test_compare_shares_one_split(linear_table):
    from degenet.comparison.comparison import compare

    result = compare(linear_table, "y", models="linear,mlp:8", seed=0, **FAST)
    first, second = result.fits.values()
    np.testing.assert_array_equal(first.val_rows, second.val_rows)
    assert list(result.table.index) == ["linear", "mlp:8"]
    assert {"val_loss", "epochs", "parameters"} <= set(result.table.columns)


def test_a_warning_points_at_the_callers_line():
    """A DataWarning from predict_proba named fitting internals (fitting.py:184); it is
    the user's line that passed the extra column."""
    import warnings as _warnings

    from degenet.errors import DataWarning

    people = degenet.datasets.balloons(1000, seed=0)
    with _warnings.catch_warnings():
        _warnings.simplefilter("ignore")
        fit = degenet.fit(people, target="color", model="logistic",
                          features=["relationship", "children", "age"])
    with pytest.warns(DataWarning, match="ignoring column") as caught:
        fit.predict_proba(people)  # this line
    assert caught[0].filename == __file__
    import inspect

    assert caught[0].lineno == inspect.currentframe().f_lineno - 4


# -- every row, the optimum, and messages that name the user's options ---------------------

def _longley():
    import statsmodels.api as sm

    data = sm.datasets.longley.load_pandas()
    return data.exog.assign(TOTEMP=data.endog), sm.OLS(
        data.endog, sm.add_constant(data.exog, prepend=False)).fit()


def test_the_exact_solver_uses_every_row_by_default():
    # Before: 20% held out (12 of longley's 16 rows), std errors 1.09-1.86x statsmodels'.
    frame, ols = _longley()
    fitted = degenet.fit(frame, "TOTEMP", solver="exact")
    assert len(fitted.train_rows) == 16 and len(fitted.val_rows) == 0
    assert fitted.settings.validation == 0.0
    np.testing.assert_allclose(fitted.coefficients["estimate"], ols.params, rtol=1e-9)
    np.testing.assert_allclose(fitted.coefficients["std_error"], ols.bse, rtol=1e-9)
    held = degenet.fit(frame, "TOTEMP", solver="exact", validation=0.25)
    assert len(held.train_rows) == 12  # a split only when asked for


def test_validation_none_is_the_default_and_zero_holds_nothing_out(linear_table):
    fitted = degenet.fit(linear_table, "y", model="linear", validation=None, **FAST)
    assert fitted.settings.validation == 0.2 and len(fitted.val_rows) == 600
    everything = degenet.fit(linear_table, "y", model="linear", validation=0, **FAST)
    assert len(everything.train_rows) == 3000 and everything.training.watched == "optimum"
    with pytest.raises(DegenetError, match="received validation=1"):
        degenet.fit(linear_table, "y", validation=1)


def test_nist_noint2_three_rows_one_coefficient():
    # NIST StRD NoInt2: certified B1 = 0.727272727272727, std error 0.420827318078432E-01,
    # residual standard deviation 0.369274472937998.
    frame = pd.DataFrame({"x": [4.0, 5.0, 6.0], "y": [3.0, 4.0, 4.0]})
    fitted = degenet.fit(frame, formula="y ~ x - 1", family="gaussian", solver="exact")
    table = fitted.coefficients
    assert table.loc["x", "estimate"] == pytest.approx(0.727272727272727, rel=1e-12)
    assert table.loc["x", "std_error"] == pytest.approx(0.420827318078432e-01, rel=1e-12)
    assert np.sqrt(fitted.exact.solution.dispersion) == pytest.approx(0.369274472937998,
                                                                       rel=1e-12)


def test_as_many_rows_as_coefficients_says_the_variance_is_undefined():
    frame = pd.DataFrame({"x": [1.0, 2.0], "y": [3.0, 5.0]})
    with pytest.warns(degenet.DataWarning, match="residual variance is undefined: 2 rows for 2"):
        fitted = degenet.fit(frame, "y", model="linear", solver="exact")
    table = fitted.coefficients
    np.testing.assert_allclose(table["estimate"], [2.0, 1.0])
    assert table["std_error"].isna().all() and "undefined" in table.attrs["withheld"]


def test_warnings_name_the_options_as_the_user_sets_them(linear_table):
    from degenet.spelling import spelled_as_flags

    with pytest.warns(degenet.ConvergenceWarning) as caught:
        fitted = degenet.fit(linear_table, "y", model="linear", max_epochs=1, learning_rate=1e-4)
    text = " ".join(str(w.message) for w in caught)
    assert "solver='exact'" in text and "max_epochs=1" in text and "max_iter" not in text
    # The table stays at the optimum even so: never centred on the unfinished weights.
    assert fitted.coefficients["estimate"]["x1"] == pytest.approx(
        fitted.exact.solution.beta[0, 0], rel=1e-12)
    assert abs(fitted.coefficients["gd_std_diff"]).max() > 1
    with spelled_as_flags(), pytest.warns(degenet.ConvergenceWarning) as caught:
        degenet.fit(linear_table, "y", model="mlp:4", max_epochs=1, validation=0.5)
    text = " ".join(str(w.message) for w in caught)
    assert "--max-epochs 1" in text and "--max-epochs 2)" in text and "=" not in text


def test_class_labels_read_as_numbers_are_said_so():
    from sklearn import datasets

    iris = datasets.load_iris(as_frame=True).frame
    with pytest.warns(degenet.DataWarning, match=r"3 distinct whole numbers \(0, 1, 2\).*"
                      r"family 'gaussian'.*family='categorical'.*family='poisson'"):
        degenet.fit(iris, "target", solver="exact")
    with warnings.catch_warnings():
        warnings.filterwarnings("error", ".*distinct", degenet.DataWarning)
        degenet.fit(iris, "target", family="categorical", solver="exact")
        degenet.fit(iris, "target", model="linear", solver="exact")  # linear: the user's choice
