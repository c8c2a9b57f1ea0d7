"""Notebook display: short reprs, HTML that shows the verdict, scores and coefficients,
and a summary that prints exactly as the text it always was."""

import re
import warnings

import pandas as pd
import pytest

import degenet
from degenet import display
from degenet.datasets import balloons
from degenet.exact.summary import Summary, summary_text

FEATURES = ["relationship", "children", "age"]


@pytest.fixture(scope="module")
def people():
    return balloons(2000, seed=5)


@pytest.fixture(scope="module")
def linear(people):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return degenet.fit(people, target="num_balloons", model="linear", features=FEATURES)


@pytest.fixture(scope="module")
def comparison(people):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return degenet.compare(people, target="color", models="logistic,mlp:8",
                               features=FEATURES, max_epochs=30)


def _cells(html: str) -> list[str]:
    return re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", html)


def test_the_summary_is_the_text_it_always_was(linear):
    summary = linear.summary()
    results = linear.exact
    text = summary_text(f"degenet regression results: linear (gaussian)", results.header(),
                        results.coefficient_table(), results.notes())
    assert isinstance(summary, str) and str(summary) == text and repr(summary) == text
    assert "\n".join(["x", summary]).endswith(text)  # joins as text, as before


def test_the_summary_renders_its_coefficient_table(linear):
    html = linear.summary()._repr_html_()
    cells = _cells(html)
    table = linear.coefficient_table()
    for term, row in table.iterrows():
        at = cells.index(term)
        assert cells[at + 1] == format(row["estimate"], ".4g")
        assert cells[at + 2] == format(row["std_error"], ".4g")
    assert "P&gt;|t|" in html and "[0.025" in html and "<script" not in html


def test_a_fit_has_a_short_repr_and_shows_its_check_and_coefficients(linear):
    assert len(repr(linear)) < 200 and repr(linear).startswith("<Fit linear (gaussian)")
    html = linear._repr_html_()
    assert f"{linear.exact.max_std_diff:.2g} std errors from the exact optimum" in html
    cells = _cells(html)
    assert format(linear.coefficients.loc["children", "estimate"], ".4g") in cells


def test_a_comparison_shows_the_verdict_first_then_scores(comparison):
    text = repr(comparison)
    verdict = comparison.verdicts[0]
    assert len(text) < 300 and f"prefer {verdict.prefer}" in text
    html = comparison._repr_html_()
    sentence = display.escape(verdict.sentence)
    assert sentence in html and html.index(sentence) < html.index("held-out scores")
    cells = _cells(html)
    deviance = comparison.scores.loc["logistic", "deviance"]
    assert format(deviance, ".4g") in cells
    assert repr(verdict).startswith("<Verdict mlp:8 vs logistic: prefer ")
    assert sentence in verdict._repr_html_()


def test_html_escapes_what_it_shows():
    frame = pd.DataFrame({"estimate": [1.0, float("nan")]}, index=["<b>", "a&b"])
    html = display.table(frame)
    assert "&lt;b&gt;" in html and "a&amp;b" in html and "<b>" not in html
    assert "&mdash;" in html  # a withheld value


def test_a_network_fit_says_it_has_no_coefficients(people):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = degenet.fit(people, target="color", model="mlp:4", features=FEATURES,
                          max_epochs=3)
    assert "no coefficients" in fit._repr_html_() and len(repr(fit)) < 200
