"""Fitting real tables: categorical coefficients in original units, messy files, new data."""

import dataclasses
import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import degenet
from degenet.data.encoding import Encoding
from degenet.errors import DataWarning, DegenetError
from degenet.data.prepare import prepare
from degenet.prediction import prediction_frame

MIXED = Path(__file__).resolve().parents[1] / "examples" / "mixed.csv"
MIXED_NEW = MIXED.with_name("mixed_new.csv")
QUICK = {"max_epochs": 60, "learning_rate": 0.05, "batch_size": 64}


@pytest.fixture(scope="module")
def shops() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    n = 400
    frame = pd.DataFrame({
        "size": rng.uniform(50, 250, n),
        "city": rng.choice(["Oslo", "Bergen", "Tromsø"], n),
        "open_sunday": rng.choice([True, False], n),
    })
    effect = frame.city.map({"Bergen": 0.0, "Oslo": 3.0, "Tromsø": -2.0})
    frame["noise"] = rng.normal(0, 0.5, n)
    frame["sales"] = (10 + 0.04 * frame["size"] + effect + 1.5 * frame.open_sunday
                      + frame.noise)
    return frame


@pytest.mark.filterwarnings("ignore::degenet.errors.ConvergenceWarning")
def test_categorical_coefficients_match_statsmodels_in_original_units(shops):
    smf = pytest.importorskip("statsmodels.formula.api")
    # A noise-free response: the training and the validation optimum are the same point,
    # so early stopping cannot pull the estimate away from what OLS finds. A mistake in
    # folding the scaling of a 0/1 column would be off by a factor of its std (~0.5).
    exact = shops.assign(sales=shops.sales - shops.noise)
    fitted = degenet.fit(exact.drop(columns="noise"), "sales", model="linear",
                         max_epochs=1500, learning_rate=0.05, batch_size=64, patience=100)
    ols = smf.ols("sales ~ size + C(city) + C(open_sunday)", exact).fit()
    names = {"size": "size", "city[Oslo]": "C(city)[T.Oslo]",
             "city[Tromsø]": "C(city)[T.Tromsø]", "open_sunday[True]": "C(open_sunday)[T.True]",
             "intercept": "Intercept"}
    estimate = fitted.coefficients["estimate"]
    assert list(estimate.index) == list(names)
    expected = np.array([ols.params[names[term]] for term in estimate.index])
    np.testing.assert_allclose(estimate.to_numpy(), expected, atol=2e-3, rtol=1e-3)
    # The Keras model itself holds these weights, folded back to the data's units.
    from degenet.model.network import regression_weights

    beta, alpha = regression_weights(fitted.model)
    np.testing.assert_allclose(np.r_[beta[:, 0], alpha], expected, atol=2e-3, rtol=1e-3)


@pytest.fixture(scope="module")
def mixed_fit():
    with pytest.warns(DataWarning, match="dropped 8 of 240 rows with missing values"):
        fitted = degenet.fit(MIXED, "color", features=["age", "children", "relationship",
                                                       "city", "owner", "income"],
                             missing="drop", **QUICK)
    return fitted


def test_mixed_table_fits_with_missing_drop(mixed_fit):
    encoding = mixed_fit.encoding
    assert encoding.dropped_rows == 8 and encoding.missing == "drop"
    assert encoding.terms == ("age", "children", "relationship[single]",
                              "relationship[widowed]", "city[Oslo]", "city[Tromsø]",
                              "owner[True]", "income")
    assert mixed_fit.classes == ("green", "red")
    coefficients = mixed_fit.coefficients["estimate"]
    assert coefficients["children"] > 0.3  # the generator's 0.9 per child, well above noise
    with pytest.raises(DegenetError, match=r"missing values in 2 column.*'age' \(4 rows\)"):
        degenet.fit(MIXED, "color", features=["age", "city"], **QUICK)


@pytest.mark.filterwarnings("ignore::degenet.errors.DataWarning")
def test_prediction_keeps_row_order_and_reuses_the_encoding(mixed_fit):
    new = pd.read_csv(MIXED_NEW)
    proba = mixed_fit.predict_proba(new)
    assert proba.shape == (len(new), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    order = [4, 0, 5, 2, 1, 3]
    np.testing.assert_array_equal(mixed_fit.predict_proba(new.iloc[order]), proba[order])
    frame = prediction_frame(mixed_fit, MIXED_NEW)
    assert list(frame.columns) == ["prediction", "proba_green", "proba_red"]
    np.testing.assert_allclose(frame[["proba_green", "proba_red"]].to_numpy(), proba, rtol=1e-6)
    assert frame.prediction.tolist() == list(mixed_fit.predict(new))
    # The encoding saved as JSON and loaded again gives the same predictions.
    loaded = Encoding.from_dict(json.loads(json.dumps(mixed_fit.encoding.to_dict())))
    reloaded = dataclasses.replace(mixed_fit, encoding=loaded)
    np.testing.assert_array_equal(reloaded.predict_proba(new), proba)


def test_predict_errors_name_the_column(mixed_fit):
    new = pd.read_csv(MIXED_NEW)
    with pytest.raises(DegenetError, match=r"column\(s\) 'owner' missing from the data"):
        mixed_fit.predict(new.drop(columns="owner"))
    with pytest.raises(DegenetError, match="column 'city' has level.*'Paris' not seen"):
        mixed_fit.predict(new.assign(city="Paris"))
    with pytest.raises(DegenetError, match="column 'income' held numbers .* received text"):
        mixed_fit.predict(new.assign(income="high"))
    with pytest.warns(DataWarning, match="ignoring column.*'shoe_size'"):
        mixed_fit.predict(new.assign(shoe_size=44))


@pytest.mark.filterwarnings("ignore::degenet.errors.DataWarning")  # unused columns
def test_regression_prediction_frame(shops):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", degenet.ConvergenceWarning)
        fitted = degenet.fit(shops, formula="sales ~ size + city", **QUICK)
    frame = prediction_frame(fitted, shops.head(4))
    assert list(frame.columns) == ["prediction"] and list(frame.index) == [0, 1, 2, 3]
    np.testing.assert_array_equal(frame.prediction.to_numpy(), fitted.predict(shops.head(4)))


def test_formula_semicolon_latin1_file_without_target_argument(tmp_path, shops):
    path = tmp_path / "shops.csv"
    shops.head(120).to_csv(path, sep=";", index=False, encoding="latin-1")
    prepared = prepare(path, formula="sales ~ np.log(size) + C(city) + size:open_sunday",
                       delimiter=";", file_encoding="latin-1")
    assert prepared.encoding.target == "sales"
    assert prepared.terms == ("np.log(size)", "city[Oslo]", "city[Tromsø]",
                              "size:open_sunday[False]", "size:open_sunday[True]")
    np.testing.assert_allclose(prepared.X[:, 0], np.log(shops["size"].head(120)))
    detected = prepare(path, formula="sales ~ np.log(size) + C(city) + size:open_sunday")
    np.testing.assert_array_equal(detected.X, prepared.X)


def test_formula_without_intercept_fits_without_one(shops):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", degenet.ConvergenceWarning)
        fitted = degenet.fit(shops, formula="sales ~ 0 + city + size", **QUICK)
    assert not fitted.intercept
    assert list(fitted.coefficients.index) == ["city[Bergen]", "city[Oslo]", "city[Tromsø]",
                                               "size"]


def test_arrays_and_polars_go_through_fit(shops):
    X = shops[["size", "sales"]].to_numpy()
    prepared = prepare(X, "sales", columns=["size", "sales"])
    assert prepared.terms == ("size",)
    pl = pytest.importorskip("polars")
    from_polars = prepare(pl.from_pandas(shops), "sales")
    np.testing.assert_array_equal(from_polars.X, prepare(shops, "sales").X)
    with pytest.raises(DegenetError, match="name the target"):
        degenet.fit(shops)


@pytest.mark.filterwarnings("ignore::degenet.errors.DataWarning")
def test_saved_model_predicts_as_the_fit(mixed_fit, tmp_path):
    persistence = pytest.importorskip("degenet.modelfile")
    mixed_fit.save(tmp_path / "model")
    loaded = persistence.load(tmp_path / "model")
    assert loaded.encoding == mixed_fit.encoding
    expected = prediction_frame(mixed_fit, MIXED_NEW)
    pd.testing.assert_frame_equal(prediction_frame(loaded, MIXED_NEW), expected)
