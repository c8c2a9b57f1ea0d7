"""Every front door on the backend in use: fit, compare, report, save/load and keep
training, the estimators and the demo. ``make test-torch`` runs this file on torch; the
main suite runs it on JAX."""

import json
import warnings

import numpy as np
import pytest
from typer.testing import CliRunner

import degenet
from degenet.cli import app
from degenet.datasets import balloons
from degenet.report import write_report

FEATURES = ["relationship", "children", "age"]


@pytest.fixture(scope="module")
def people():
    return balloons(2000, seed=1)


@pytest.fixture(scope="module")
def comparison(people):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return degenet.compare(people, target="color", models="logistic,mlp:8",
                               features=FEATURES, max_epochs=40)


def test_compare_scores_and_judges_on_the_held_out_rows(comparison):
    assert list(comparison.scores.index) == ["baseline", "logistic", "mlp:8"]
    y, eta = comparison.held_out("logistic")
    assert y.shape == eta.shape == (400,)
    assert comparison.scores.loc["logistic", "deviance"] < comparison.scores.loc[
        "baseline", "deviance"]
    verdict = comparison.verdicts[0]
    assert verdict.ci_low <= verdict.loss_difference <= verdict.ci_high


def test_the_report_is_written(comparison, tmp_path):
    written = write_report(tmp_path / "report.html", {"color": comparison}, title="t")
    text = written.read_text()
    assert "logistic" in text and "<img" in text


def test_a_saved_model_predicts_as_the_fit_and_keeps_training(people, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = degenet.fit(people, target="num_balloons", model="linear", features=FEATURES)
    fit.save(tmp_path / "model")
    saved = degenet.load(tmp_path / "model")
    np.testing.assert_allclose(saved.predict(people.head(50)), fit.predict(people.head(50)),
                               rtol=1e-5, atol=1e-6)
    X = people[FEATURES].to_numpy(np.float32)
    y = people["num_balloons"].to_numpy(np.float32)
    history = saved.model.fit(X, y, epochs=2, batch_size=100, verbose=0).history
    assert len(history["loss"]) == 2
    # Adam at the fit's learning rate, from the saved optimum: the loss stays near the
    # exact optimum's mean squared error on these rows.
    assert int(saved.model.optimizer.iterations) == 2 * 20
    assert history["loss"][-1] < 1.5 * fit.exact.solution.loss


def test_the_estimators_fit_predict_and_summarize(people):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = degenet.LogisticRegression().fit(people[FEATURES], people["color"])
    assert model.predict_proba(people[FEATURES].head(5)).shape == (5, 2)
    assert "children" in str(model.summary())


def test_the_demo_runs_from_the_command_line():
    result = CliRunner().invoke(app, ["demo", "--n", "2000", "--json", "--max-epochs", "20"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert len(document["models"]) == 4 and len(document["verdicts"]) == 2
