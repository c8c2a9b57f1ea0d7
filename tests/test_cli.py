"""The command line: results on stdout, errors as one line naming the problem."""

import json
import re

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


def _degenet(*args, stdin=None):
    """``python -m degenet ARGS`` in a fresh process: what a user's shell sees."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "degenet", *args], capture_output=True,
                          text=True, input=stdin, timeout=600)
    return done.returncode, done.stdout, done.stderr


@pytest.mark.parametrize("args, says", [
    (["demo", "--n", "0"], "n must be a positive integer; received --n 0"),
    (["demo", "--n", "abc"], "Invalid value for '--n'"),
    (["fit"], "Missing argument 'data'"),
    (["fit", "x.csv", "--bogus"], "No such option: --bogus"),
    (["compare", "x.csv", "--cv"], "requires an argument"),
    (["nosuch"], "No such command 'nosuch'"),
])
def test_every_bad_argument_is_one_line_and_exit_status_2(args, says):
    code, stdout, stderr = _degenet(*args)
    assert code == 2, stderr
    assert stdout == "" and stderr.count("\n") == 1, stderr
    assert stderr.startswith("error: ") and says in stderr


def test_python_m_degenet_is_the_command():
    code, stdout, _ = _degenet("--version")
    assert code == 0 and stdout.startswith("degenet ")


@pytest.mark.parametrize("command", ["demo", "fit", "compare", "predict", "inspect", ""])
def test_every_help_page_ends_with_examples(command):
    result = runner.invoke(app, [command, "--help"] if command else ["--help"],
                           terminal_width=200)
    assert result.exit_code == 0
    lines = [line.strip(" │") for line in result.stdout.splitlines() if line.strip(" │")]
    tail = lines[lines.index("Examples:") + 1:]
    assert 2 <= len(tail) <= 3 and all(line.startswith(("degenet ", "cat ")) for line in tail)
    assert all(f"degenet {command}".strip() in line for line in tail)


def test_a_dash_reads_the_table_from_standard_input(table, tmp_path):
    text = table.read_text()
    result = runner.invoke(app, ["fit", "-", "--target", "num_balloons", "--quiet",
                                 "--save", str(tmp_path / "model")], input=text)
    assert result.exit_code == 0, result.output
    from_file = runner.invoke(app, ["fit", str(table), "--target", "num_balloons", "--quiet"])
    def without_timing(text):
        return re.sub(r"compile [\d.]+ s, train [\d.]+ s", "", text)

    assert without_timing(result.stdout) == without_timing(from_file.stdout)  # same fit
    predicted = runner.invoke(app, ["predict", str(tmp_path / "model"), "-"], input=text)
    assert predicted.exit_code == 0, predicted.output
    assert predicted.stdout.count("\n") == 1 + text.count("\n") - 1


def test_an_empty_standard_input_is_one_clear_line():
    result = runner.invoke(app, ["fit", "-", "--target", "y"], input="")
    assert result.exit_code == 2 and "standard input is empty" in result.stderr


def test_quiet_prints_only_results(table):
    fit = runner.invoke(app, ["fit", str(table), "--target", "num_balloons", "--quiet"])
    epoch_line = re.compile(r"^Epoch \d+/\d+", re.MULTILINE)
    assert fit.exit_code == 0 and not epoch_line.search(fit.stdout)
    assert "degenet regression results" in fit.stdout
    loud = runner.invoke(app, ["fit", str(table), "--target", "num_balloons"])
    assert epoch_line.search(loud.stdout)
    demo = runner.invoke(app, ["demo", "--n", "2000", "--quiet", "--max-epochs", "10"])
    assert demo.exit_code == 0 and not epoch_line.search(demo.stdout)
    assert "Analysis" in demo.stdout


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
