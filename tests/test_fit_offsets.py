"""Offsets and exposure: in the exact solver, the Keras network, training, prediction, the
model file and the command line, against statsmodels' ``GLM(..., offset=, exposure=)``."""

import json
import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from typer.testing import CliRunner

import degenet
from degenet.cli import app
from degenet.errors import DataWarning, DegenetError
from degenet.exact.solve import solve
from degenet.model.families import get_family
from degenet.model.network import logits_model
from degenet.train.engine import dense_stack
from tests.exact.published_cases import load


@pytest.fixture(scope="module")
def ships():
    _, X, y, offset, groups, _ = load("ships_poisson_exposure_robust")
    frame = pd.DataFrame(X, columns=["yr_con", "op_75_79"])
    return frame.assign(accident=y, service=np.exp(offset), ship=groups)


@pytest.fixture(scope="module")
def visits():
    """2,000 people followed for 0.1 to 10 years: counts proportional to time at risk."""
    rng = np.random.default_rng(11)
    n = 2000
    frame = pd.DataFrame({"age": rng.uniform(-1, 1, n), "smoker": rng.integers(0, 2, n),
                          "years": np.exp(rng.uniform(np.log(0.1), np.log(10.0), n))})
    rate = np.exp(0.3 + 0.5 * frame["age"] - 0.4 * frame["smoker"])
    return frame.assign(visits=rng.poisson(rate * frame["years"]))


def _glm(frame, columns, target, family, **offsets):
    return sm.GLM(frame[target], sm.add_constant(frame[columns], prepend=False),
                  family=family, **offsets).fit(method="newton", tol=1e-14)


def test_exact_fit_with_exposure_equals_statsmodels(ships):
    fitted = degenet.fit(ships, "accident", model="poisson", features=["yr_con", "op_75_79"],
                         exposure="service", solver="exact")
    train = ships.iloc[fitted.train_rows]
    theirs = _glm(train, ["yr_con", "op_75_79"], "accident", sm.families.Poisson(),
                  exposure=train["service"])
    np.testing.assert_allclose(fitted.coefficients["estimate"], theirs.params, rtol=1e-10)
    np.testing.assert_allclose(fitted.coefficients["std_error"], theirs.bse, rtol=1e-8)
    assert fitted.exact.llf == pytest.approx(theirs.llf, rel=1e-12)
    assert fitted.exact.llnull == pytest.approx(theirs.llnull, rel=1e-10)
    np.testing.assert_allclose(fitted.predict(ships), theirs.predict(
        sm.add_constant(ships[["yr_con", "op_75_79"]], prepend=False),
        exposure=ships["service"]), rtol=1e-10)


def test_offset_as_an_array_and_for_other_families(visits):
    offset = np.log(visits["years"].to_numpy())
    binary = visits.assign(any_visit=(visits["visits"] > 0).astype(int))
    fitted = degenet.fit(binary, "any_visit", features=["age", "smoker"], offset=offset,
                         solver="exact")
    train = binary.iloc[fitted.train_rows]
    theirs = _glm(train, ["age", "smoker"], "any_visit", sm.families.Binomial(),
                  offset=offset[fitted.train_rows])
    np.testing.assert_allclose(fitted.coefficients["estimate"], theirs.params, rtol=1e-9)
    linear = degenet.fit(visits, "visits", features=["age", "smoker"], offset=offset,
                         solver="exact")
    train = visits.iloc[linear.train_rows]
    ols = sm.OLS(train["visits"] - offset[linear.train_rows],
                 sm.add_constant(train[["age", "smoker"]], prepend=False)).fit()
    np.testing.assert_allclose(linear.coefficients["estimate"], ols.params, rtol=1e-10)


def test_the_optimal_constant_beside_an_offset():
    rng = np.random.default_rng(2)
    y, offset, weight = rng.poisson(3.0, 50).astype(float), rng.normal(size=50), np.ones(50)
    poisson = get_family("poisson").offset_constant(y, weight, offset)
    assert poisson[0] == pytest.approx(np.log(y.sum() / np.exp(offset).sum()), rel=1e-14)
    assert get_family("gaussian").offset_constant(y, weight, offset)[0] == pytest.approx(
        np.mean(y - offset), rel=1e-14)
    binary = (y > 2).astype(float)
    theirs = sm.GLM(binary, np.ones(50), family=sm.families.Binomial(),
                    offset=offset).fit(tol=1e-14).params[0]
    assert get_family("bernoulli").offset_constant(binary, weight, offset)[0] == \
        pytest.approx(theirs, rel=1e-10)


def test_the_network_adds_the_offset_before_its_head(visits):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net = degenet.fit(visits, "visits", model="mlp:8", family="poisson",
                          features=["age", "smoker"], exposure="years", max_epochs=5)
    assert [layer.name for layer in net.model.layers][-2:] == ["plus_offset", "mean"]
    assert dense_stack(logits_model(net.model)) is not None  # the compiled engine trains it
    # log link: twice the time at risk, twice the expected count, whatever the network
    doubled = visits.assign(years=2 * visits["years"])
    np.testing.assert_allclose(net.predict(doubled), 2 * net.predict(visits), rtol=1e-5)


def test_gradient_descent_uses_the_offset(visits):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        fitted = degenet.fit(visits, "visits", model="poisson", features=["age", "smoker"],
                             exposure="years", seed=1)
    # at the exact optimum of the model with the exposure: the network trained with it
    assert fitted.exact.max_std_diff < 1.0
    assert fitted.exact.params["smoker"] == pytest.approx(-0.4, abs=0.15)


def test_keras_own_loop_takes_the_offset_too(visits, monkeypatch):
    # Other backends train through Keras's fit; its inputs are [features, offset].
    monkeypatch.setattr("degenet.train.loop.backend", lambda: "another")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        fitted = degenet.fit(visits.iloc[:600], "visits", model="poisson",
                             features=["age", "smoker"], exposure="years", max_epochs=60)
    assert fitted.training.engine == "keras-fit"
    assert fitted.exact.max_std_diff < 1.0


def test_new_data_must_carry_the_offset(ships, tmp_path):
    fitted = degenet.fit(ships, "accident", model="poisson", features=["yr_con", "op_75_79"],
                         exposure="service", solver="exact")
    with pytest.raises(DegenetError, match="column 'service' missing from the data; the "
                                           "model adds its log values"):
        fitted.predict(ships.drop(columns=["service"]))
    given = fitted.predict(ships.drop(columns=["service"]), exposure=ships["service"])
    np.testing.assert_allclose(given, fitted.predict(ships), rtol=1e-15)
    with pytest.raises(DegenetError, match="fitted with exposure=; pass exposure="):
        fitted.predict(ships, offset=np.zeros(len(ships)))
    fitted.save(tmp_path / "model")
    loaded = degenet.load(tmp_path / "model")
    assert loaded.sidecar["offset"] == {"column": "service", "exposure": True}
    np.testing.assert_allclose(loaded.predict(ships), fitted.predict(ships), rtol=1e-15)
    bad = ships.assign(service=ships["service"].where(ships.index != 3, 0.0))
    with pytest.raises(DegenetError, match="holds 0; an exposure must be > 0"):
        loaded.predict(bad)


def test_an_array_offset_is_asked_for_at_prediction(visits):
    offset = np.log(visits["years"].to_numpy())
    fitted = degenet.fit(visits, "visits", model="poisson", features=["age", "smoker"],
                         offset=offset, solver="exact")
    with pytest.raises(DegenetError, match="fitted with offset= given as an array; pass "
                                           "offset="):
        fitted.predict(visits)
    np.testing.assert_allclose(fitted.predict(visits, offset=offset),
                               fitted.exact.predict(visits[["age", "smoker"]].to_numpy(),
                                                    offset=offset), rtol=1e-14)


def test_the_saved_network_with_an_offset_loads_and_predicts(visits, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net = degenet.fit(visits, "visits", model="mlp:4", family="poisson",
                          features=["age", "smoker"], exposure="years", max_epochs=3)
    net.save(tmp_path / "net")
    loaded = degenet.load(tmp_path / "net")
    np.testing.assert_allclose(loaded.predict(visits), net.predict(visits), rtol=1e-6)


@pytest.mark.parametrize("options, message", [
    ({"offset": "years", "exposure": "years"}, "pass offset= or exposure="),
    ({"exposure": "hours"}, "exposure column 'hours' not found"),
    ({"exposure": "age"}, "column 'age' is the exposure column; it cannot also be the target"),
    ({"exposure": "smoker"}, "holds 0; an exposure must be > 0"),
    ({"offset": np.zeros(3)}, "offset must be a column name or 2000 values"),
])
def test_bad_offsets_are_named(visits, options, message):
    with pytest.raises(DegenetError, match=message):
        degenet.fit(visits, "visits", model="poisson", features=["age"],
                    solver="exact", **options)


def test_softmax_takes_no_offset(visits):
    frame = visits.assign(kind=np.array(["a", "b", "c"])[visits["visits"].clip(0, 2)])
    with pytest.raises(DegenetError, match="the categorical family takes no offset: an offset "
                                           "adds the same amount to every class"):
        degenet.fit(frame, "kind", features=["age"], offset="years", max_epochs=2)


def test_missing_exposure_is_named_or_dropped(visits):
    holes = visits.assign(years=visits["years"].where(visits.index % 100 != 0))
    with pytest.raises(DegenetError, match=r"missing values in the exposure column 'years' "
                                           r"\(20 rows\); pass missing='drop'"):
        degenet.fit(holes, "visits", model="poisson", features=["age"], exposure="years",
                    solver="exact")
    with pytest.warns(DataWarning, match="dropped 20 rows with missing values in the "
                                         "exposure column 'years'"):
        fitted = degenet.fit(holes, "visits", model="poisson", features=["age"],
                             exposure="years", solver="exact", missing="drop")
    assert len(fitted.train_rows) + len(fitted.val_rows) == 1980


def test_compare_scores_with_the_exposure(ships):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        comparison = degenet.compare(ships, "accident", models=["poisson", "mlp:4"],
                                     family="poisson", features=["yr_con", "op_75_79"],
                                     exposure="service", solver="exact", max_epochs=5)
    scores = comparison.scores["deviance"]
    assert scores["poisson"] < scores["baseline"]


def test_solve_refuses_a_misshapen_offset():
    with pytest.raises(DegenetError, match=r"offset must have one value per row, shape \(4,\)"):
        solve("poisson", np.eye(4), np.ones(4), offset=np.zeros(3))


runner = CliRunner()


def test_command_line_exposure_cov_type_and_predict(ships, tmp_path):
    data = tmp_path / "ships.csv"
    ships.to_csv(data, index=False)
    result = runner.invoke(app, ["fit", str(data), "--target", "accident", "--model",
                                 "poisson", "--features", "yr_con,op_75_79", "--exposure",
                                 "service", "--cov-type", "cluster", "--groups", "ship",
                                 "--solver", "exact", "--json", "--save",
                                 str(tmp_path / "model")])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert (document["exact"]["cov_type"], document["exact"]["groups"]) == ("cluster", "ship")
    inspected = runner.invoke(app, ["inspect", str(tmp_path / "model")])
    assert "log of the exposure in column 'service'" in inspected.stdout
    assert "std errors cluster (groups: column 'ship')" in inspected.stdout
    ships.drop(columns=["service"]).to_csv(tmp_path / "new.csv", index=False)
    missing = runner.invoke(app, ["predict", str(tmp_path / "model"), str(tmp_path / "new.csv")])
    assert missing.exit_code == 2 and "column 'service' missing" in missing.stderr
    bad = runner.invoke(app, ["fit", str(data), "--target", "accident", "--cov-type", "HC9"])
    assert bad.exit_code == 2 and "unknown cov_type 'HC9'" in bad.stderr
