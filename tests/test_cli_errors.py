"""The command line's errors are one line, and nothing is lost (issue 12: typer's usage
errors were five-line boxes; --save into an unwritable folder trained, printed, then died
with a traceback; a diverging fit exited 0; fit --json dropped one of two rows named alike)."""

import shutil

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from degenet.cli import app
from tests.privileges import unprivileged

runner = CliRunner()


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x1": rng.normal(size=200), "x2": rng.normal(size=200)})
    frame["y"] = 1 + 2 * frame.x1 - frame.x2 + 0.1 * rng.normal(size=200)
    path = tmp_path_factory.mktemp("cli") / "num.csv"
    frame.to_csv(path, index=False)
    return path


def _lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


@pytest.mark.parametrize("args, message", [
    (["fit"], "error: Missing argument 'data'; see `"),
    (["fit", "x.csv", "-t", "y", "--bogus"], "error: No such option: --bogus"),
    (["fit", "x.csv", "--seed", "abc"], "error: Invalid value for '--seed'")])
def test_usage_errors_are_one_line(args, message):
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert _lines(result.stderr) == [_lines(result.stderr)[0]]
    assert _lines(result.stderr)[0].startswith(message)


def test_strict_makes_a_diverging_fit_exit_3(table):
    args = ["fit", str(table), "-t", "y", "--model", "mlp:8", "--learning-rate", "1e6",
            "--quiet"]
    loose = runner.invoke(app, args)
    assert loose.exit_code == 0 and "diverged" in loose.stderr
    strict = runner.invoke(app, [*args, "--strict"])
    assert strict.exit_code == 3 and "--strict" in strict.stderr


def test_a_json_fit_refuses_two_terms_of_one_name(table, tmp_path):
    frame = pd.read_csv(table).assign(intercept=lambda f: f.x1 * 0.5 + 1)
    frame.to_csv(tmp_path / "collide.csv", index=False)
    result = runner.invoke(app, ["fit", str(tmp_path / "collide.csv"), "-t", "y", "--solver",
                                 "exact", "--json"])
    assert result.exit_code == 2 and "term 'intercept'" in result.stderr
    assert result.stdout == ""



def test_an_unwritable_save_is_refused_before_training(table, tmp_path):
    place = tmp_path / "open"
    place.mkdir()
    shutil.copy(table, place / "num.csv")
    for path in (tmp_path, place, place / "num.csv"):
        path.chmod(0o777)
    (place / "ro").mkdir()
    (place / "ro").chmod(0o555)
    with unprivileged():
        result = runner.invoke(app, ["fit", str(place / "num.csv"), "-t", "y", "--solver",
                                     "exact", "--save", str(place / "ro")])
    assert result.exit_code == 2 and "permission denied" in result.stderr
    assert result.stdout == ""  # refused before any fit was printed


def test_save_replaces_a_model_only_with_overwrite(table, tmp_path):
    args = ["fit", str(table), "-t", "y", "--solver", "exact", "--save", str(tmp_path / "m"),
            "--quiet"]
    assert runner.invoke(app, args).exit_code == 0
    again = runner.invoke(app, args)
    assert again.exit_code == 2 and "pass overwrite=True (CLI: --overwrite)" in again.stderr
    assert runner.invoke(app, [*args, "--overwrite"]).exit_code == 0


def test_inspect_of_a_deeply_nested_sidecar_is_one_line(table, tmp_path):
    folder = tmp_path / "m"
    assert runner.invoke(app, ["fit", str(table), "-t", "y", "--solver", "exact", "--save",
                               str(folder), "--quiet"]).exit_code == 0
    text = (folder / "degenet.json").read_text().rstrip()
    (folder / "degenet.json").write_text(text[:-1] + ', "notes": ' + "[" * 100_000
                                         + "]" * 100_000 + "}")
    result = runner.invoke(app, ["inspect", str(folder)])
    assert result.exit_code == 2 and len(_lines(result.stderr)) == 1
    assert "nested 100001 levels deep" in result.stderr


def test_predict_into_a_missing_folder_is_refused_first(table, tmp_path):
    folder = tmp_path / "m"
    runner.invoke(app, ["fit", str(table), "-t", "y", "--solver", "exact", "--save",
                        str(folder), "--quiet"])
    result = runner.invoke(app, ["predict", str(folder), str(table), "-o",
                                 str(tmp_path / "nofolder" / "out.csv")])
    assert result.exit_code == 2 and "nofolder does not exist" in result.stderr


def test_a_term_with_brackets_is_printed_as_written(table, tmp_path):
    frame = pd.read_csv(table)
    frame["g"] = np.where(frame.x1 > 0, "b", "a")
    frame["g[b]"] = frame.x2
    frame.to_csv(tmp_path / "t.csv", index=False)
    result = runner.invoke(app, ["fit", str(tmp_path / "t.csv"), "-t", "y", "--solver", "exact"])
    assert result.exit_code == 2 and "'g[b]'" in result.stderr  # not eaten as markup
