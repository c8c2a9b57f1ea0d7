"""The command line on a messy table: --formula, --features, --missing, reader options."""

import json
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from degenet.cli import app

runner = CliRunner()
MIXED = Path(__file__).resolve().parents[1] / "examples" / "mixed.csv"
QUICK = ["--max-epochs", "20", "--quiet"]


def test_fit_with_formula_and_missing_drop():
    result = runner.invoke(app, ["fit", str(MIXED), "--formula",
                                 "color ~ age + children:relationship + C(city) + owner",
                                 "--missing", "drop", "--json", *QUICK])
    assert result.exit_code == 0, result.output
    # income is not in the formula: its 2 missing values do not drop rows
    assert "dropped 7 of 240 rows with missing values" in " ".join(result.stderr.split())
    document = json.loads(result.stdout)
    assert document["target"] == "color"
    assert document["encoding"]["dropped_rows"] == 7
    terms = list(document["coefficients"])
    assert "children:relationship[single]" in terms and "owner[True]" in terms


def test_missing_values_stop_the_fit_with_one_line():
    result = runner.invoke(app, ["fit", str(MIXED), "--target", "balloons", *QUICK])
    assert result.exit_code == 2
    assert "missing values in 4 column(s): 'age' (4 rows)" in " ".join(result.stderr.split())
    assert "Traceback" not in result.output


def test_features_coding_and_reader_options(tmp_path):
    path = tmp_path / "people.csv"
    pd.read_csv(MIXED).dropna().to_csv(path, sep=";", index=False, encoding="latin-1")
    result = runner.invoke(app, ["fit", str(path), "--target", "balloons", "--model", "poisson",
                                 "--features", "children, relationship", "--coding", "effect",
                                 "--delimiter", ";", "--encoding", "latin-1", *QUICK])
    assert result.exit_code == 0, result.output
    assert "relationship[widowed]" in result.stdout
    assert "relationship: effect coding, reference level 'partnered'" in result.stdout
    result = runner.invoke(app, ["compare", str(path), "--target", "balloons", "--features",
                                 "children,city", "--models", "poisson", *QUICK])
    assert result.exit_code == 0, result.output
