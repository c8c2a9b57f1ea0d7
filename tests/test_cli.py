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
    assert [(m["target"], m["model"]) for m in document["models"]] == [
        ("num_balloons", "linear"), ("num_balloons", "mlp"), ("color", "logistic"),
        ("color", "mlp")]
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


def test_the_family_comes_first_and_warnings_name_flags(table):
    result = runner.invoke(app, ["fit", str(table), "--target", "num_balloons", "--model",
                                 "mlp:4", "--max-epochs", "1", "--quiet"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0].startswith("family: gaussian (identity link)")
    assert "raise it (--max-epochs 2)" in result.stderr and "max_epochs=" not in result.stderr


def test_validation_0_holds_nothing_out(table):
    result = runner.invoke(app, ["fit", str(table), "--target", "num_balloons", "--model",
                                 "mlp:4", "--validation", "0", "--max-epochs", "3", "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["settings"]["validation"] == 0 and document["val_loss"] is None


def test_class_labels_read_as_numbers_are_said_so(tmp_path):
    path = tmp_path / "labels.csv"
    frame = balloons(300, seed=1)
    frame.assign(label=(frame["age"] * 6).round().clip(-2, 2) + 2).to_csv(path, index=False)
    result = runner.invoke(app, ["fit", str(path), "--target", "label", "--solver", "exact",
                                 "--features", "age,children", "--quiet"])
    assert result.exit_code == 0, result.output
    assert "family 'gaussian' (linear)" in result.stderr
    assert "--family categorical" in result.stderr and "family=" not in result.stderr
