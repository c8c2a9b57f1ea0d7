"""The report: one self-contained HTML file (plus Markdown and JSON) holding every section."""

import html
import json
import re

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from degenet.cli import app
from degenet.comparison.comparison import compare
from degenet.datasets import balloons
from degenet.errors import DegenetError
from degenet.report.document import SECTIONS, write_report
from degenet.report.plots import coefficient_plot

# Short training on purpose: the convergence warnings it raises are not what is tested here.
pytestmark = pytest.mark.filterwarnings("ignore::degenet.errors.ConvergenceWarning")
runner = CliRunner()
FAST = ["--max-epochs", "25", "--learning-rate", "0.01"]
VERDICT_KEYS = {"network", "regression", "loss_difference", "ci_low", "ci_high", "prefer"}


def assert_self_contained(page: str):
    """No reference leaves the file: no URL, no script, no stylesheet link, no import."""
    assert not re.search(r"https?://", page), "the page names a URL"
    assert not re.search(r"<script|<link|<iframe|<object|<embed|@import", page, re.I)
    assert not re.search(r"url\(", page, re.I)
    for reference in re.findall(r'(?:src|href)\s*=\s*"([^"]*)"', page, re.I):
        assert reference.startswith("data:image/png;base64,"), reference[:60]
    assert page.count('src="data:image/png;base64,') >= 3  # curves, coefficients, predictions


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "balloons.csv"
    balloons(1200, seed=3).drop(columns=["color"]).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def comparison(table):
    return compare(str(table), "num_balloons", models="linear,mlp:16", seed=0,
                   max_epochs=25, learning_rate=0.01)


def test_html_is_self_contained_and_holds_every_section(comparison, tmp_path):
    page = write_report(tmp_path / "out.html", comparison, title="t").read_text()
    assert_self_contained(page)
    for section in SECTIONS:
        assert f">{section}<" in page, section
    assert "children" in page and "baseline" in page and "mlp:16" in page
    assert comparison.verdicts[0].sentence.split(":")[0] in page


def test_markdown_and_json_carry_the_same_content(comparison, tmp_path):
    markdown = write_report(tmp_path / "out.md", comparison, title="t").read_text()
    for section in SECTIONS:
        assert section in markdown
    document = json.loads(write_report(tmp_path / "out.json", comparison, title="t").read_text())
    (entry,) = document["comparisons"]
    assert VERDICT_KEYS <= set(entry["verdicts"][0])
    proposed = ["proposed"] if entry["verdicts"][0]["proposal"] else []
    assert [row["model"] for row in entry["scores"]] == ["baseline", "linear", "mlp:16",
                                                          *proposed]
    assert {"linear", *proposed} == set(entry["coefficients"])
    assert "negative means" in document["method"]


def test_report_paths_are_checked(comparison, table, tmp_path):
    with pytest.raises(DegenetError, match=r"suffix '\.pdf'; use one of: \.html, \.md, \.json"):
        write_report(tmp_path / "out.pdf", comparison, title="t")
    with pytest.raises(DegenetError, match="is the input data file"):
        write_report(table, comparison, title="t", inputs=(table,))


def test_compare_cli_writes_the_report_and_json_verdicts(table, tmp_path):
    out = tmp_path / "out.html"
    result = runner.invoke(app, ["compare", str(table), "--target", "num_balloons", "--models",
                                 "linear,mlp:8", "--cv", "2", "--json", "--report", str(out),
                                 *FAST])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    (verdict,) = document["verdicts"]
    assert VERDICT_KEYS <= set(verdict) and verdict["prefer"] in ("network", "regression",
                                                                   "either")
    assert verdict["network"] == "mlp:8" and "negative means" in document["sign_convention"]
    assert document["design"] == "2-fold CV"
    assert_self_contained(out.read_text())


def test_compare_cli_refuses_to_overwrite_its_data(table):
    before = table.read_bytes()
    result = runner.invoke(app, ["compare", str(table), "--target", "num_balloons",
                                 "--report", str(table), *FAST])
    assert result.exit_code == 2
    assert "is the input data file" in " ".join(result.stderr.split())
    assert table.read_bytes() == before


def test_demo_report(tmp_path):
    out = tmp_path / "demo.html"
    result = runner.invoke(app, ["demo", "--n", "2000", "--quiet", "--report", str(out),
                                 "--max-epochs", "20"])
    assert result.exit_code == 0, result.output
    page = out.read_text()
    assert_self_contained(page)
    assert "Predicting num_balloons" in page and "Predicting color" in page
    assert "Calibration and ROC" in page and "Notes" in page


@pytest.fixture(scope="module")
def separated(tmp_path_factory):
    """Classes split exactly by a line (the logistic's estimate does not exist), in a
    column named ``target``, and a wild intercept for the coefficient plot."""
    rng = np.random.default_rng(4)
    frame = pd.DataFrame({"a": rng.normal(size=300), "b": rng.normal(size=300) + 1000.0})
    frame["target"] = (frame["a"] + (frame["b"] - 1000.0) > 0).astype(int)
    return compare(frame, "target", models="logistic,mlp:8", seed=0, max_epochs=20)


def test_the_report_reads_at_a_glance(separated, tmp_path):
    page = write_report(tmp_path / "out.html", separated, title="t").read_text()
    assert "Target target" not in page and "Predicting target" in page
    assert "uppercase" not in page and 'class="badge">either<' not in page
    (verdict,) = separated.verdicts
    assert page.count(html.escape(verdict.sentence)) == 1  # once, at a glance
    coefficients = page.split('<section class="coefficients">')[1].split("</section>")[0]
    table = coefficients.split("<table>")[1].split("</table>")[0]
    assert "withheld" in table and not re.search(r"e\+\d\d", table)  # no std error of 1e+27
    notes = coefficients.split('<ul class="notes">')[1].split("</ul>")[0]
    assert "separation" in notes  # the notes wrap in a list, not at a code block's end
    for block in re.findall(r"<pre>(.*?)</pre>", page, re.S):
        assert "estimate does not exist" not in block and "[1]" not in block
    assert re.search(r"<td>-?\d+\.\d{1,4}</td>", page)  # rounded, not -0.00277824


def test_withheld_statistics_read_withheld_in_the_summary(separated):
    text = separated.fits["logistic"].summary()
    rows = text.split("-" * 20 + "\n")[-1].split("=" * 10)[0]  # the coefficient rows
    # Each row: its term, its estimate (which only grows under separation), then withheld.
    cells = [line.split(maxsplit=2)[2] for line in rows.strip().splitlines()]
    assert cells == ["(withheld: see the notes)"] * 3


def test_the_coefficient_plot_leaves_the_intercept_out(separated):
    figure = coefficient_plot(separated.fits["logistic"])
    labels = [label.get_text() for label in figure.axes[0].get_yticklabels()]
    assert labels == ["a", "b"]
