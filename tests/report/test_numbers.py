"""Numbers as a person reads them: rounded to their precision, withheld ones said to be."""

import pandas as pd
import pytest

from degenet.report.numbers import WITHHELD, coefficient_rows, estimate, figure, p_value


@pytest.mark.parametrize("value, text", [
    (-0.00277824, "-0.002778"), (1.30761e-10, "1.31e-10"), (21948.3, "21,948"),
    (0.0110322, "0.01103"), (0.999969, "0.99997"), (0.5, "0.5"), (3, "3"), (120000, "120,000"),
    (float("nan"), ""), (None, ""), ("mlp", "mlp")])
def test_figures_have_four_significant_digits(value, text):
    assert figure(value) == text


@pytest.mark.parametrize("value, std_error, text", [
    (0.90012345, 0.00123, "0.9001"), (16.5384, 0.49, "16.54"), (123456.7, 2300.0, "123,500"),
    (-2.633e-18, 1.023e-18, "-2.6e-18"), (0.9, 1.8e-18, "0.9")])
def test_estimates_keep_the_digits_their_std_error_supports(value, std_error, text):
    assert estimate(value, std_error) == text


def test_p_values_and_withheld_statistics():
    assert p_value(0.0312) == "0.031" and p_value(1e-9) == "<0.001"
    rows = [{"term": "x", "estimate": 16.5384, "std_error": 4.1e27, "statistic": 4e-27,
             "p_value": None, "ci_low": None, "ci_high": None}]
    (shown,) = coefficient_rows(rows, withheld=True)
    assert shown == {"term": "x", "estimate": "16.54", "std_error": WITHHELD,
                     "statistic": WITHHELD, "p_value": WITHHELD, "ci_low": WITHHELD,
                     "ci_high": WITHHELD}
    (shown,) = coefficient_rows([{**rows[0], "std_error": 0.49, "statistic": 33.7,
                                  "p_value": 1e-12, "ci_low": 15.58, "ci_high": 17.5}])
    assert (shown["estimate"], shown["std_error"], shown["p_value"]) == ("16.54", "0.49",
                                                                         "<0.001")
