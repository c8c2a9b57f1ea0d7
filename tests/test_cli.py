"""The command line: results on stdout, errors as one line naming the problem."""

import json

import pytest
from typer.testing import CliRunner

from degenet.cli import app
from degenet.datasets import balloons

runner = CliRunner()


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "balloons.csv"
    balloons(1500, seed=2).drop(columns=["color"]).to_csv(path, index=False)
    return path


def test_version():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.stdout.startswith("degenet ")


def test_demo_json_has_the_documented_keys():
    result = runner.invoke(app, ["demo", "--n", "3000", "--json", "--max-epochs", "30"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    proposed = {v["target"] for v in document["verdicts"] if v["proposal"] is not None}
    assert [(m["target"], m["model"]) for m in document["models"]] == [
        ("num_balloons", "linear"), ("num_balloons", "mlp"),
        *([("num_balloons", "proposed")] if "num_balloons" in proposed else []),
        ("color", "logistic"), ("color", "mlp"),
        *([("color", "proposed")] if "color" in proposed else [])]
    assert all("proposal" in verdict for verdict in document["verdicts"])
    assert {"target", "model", "term", "effect", "ci_low", "ci_high"} <= set(
        document["effects"][0])
    first = document["models"][0]
    assert {"target", "model", "family", "epochs", "val_loss", "coefficients"} <= set(first)
    assert set(first["coefficients"]) == {"relationship", "children", "age", "intercept"}
    assert document["models"][1]["coefficients"] is None


def test_fit_prints_coefficients(table):
    result = runner.invoke(app, ["fit", str(table), "--target", "num_balloons", "--quiet"])
    assert result.exit_code == 0, result.output
    assert "children" in result.stdout and "intercept" in result.stdout


def test_compare_json(table):
    result = runner.invoke(app, ["compare", str(table), "--target", "num_balloons",
                                 "--models", "linear,mlp:8", "--json", "--max-epochs", "5"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert [m["model"] for m in document["models"]] == ["linear", "mlp:8"]


def test_errors_are_one_clear_line(table):
    result = runner.invoke(app, ["fit", str(table), "--target", "colour"])
    assert result.exit_code == 2
    assert "target column 'colour' not found" in result.stderr
    assert "Traceback" not in result.output
