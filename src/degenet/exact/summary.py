"""The summary of a regression, laid out like statsmodels': header, table, notes.

Layout only: the header's figures, the coefficient table and the notes come from
:class:`~degenet.exact.results.RegressionResults`. A :class:`Summary` is the text (it is a
``str``, so everything that printed or joined the text before still does) and renders as
tables in a notebook.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from degenet import display

WIDTH = 78


class Summary(str):
    """A regression summary: ``str(summary)`` is the text, ``_repr_html_`` its tables.

    Attributes
    ----------
    title : str
    header : list of (str, str)
    table : DataFrame
        The coefficient table (``estimate, std_error, statistic, p_value, ci_low, ci_high``).
    notes : list of str
    """

    title: str
    header: list
    table: pd.DataFrame
    notes: list

    def __new__(cls, title: str, header: list[tuple[str, str]], table: pd.DataFrame,
                notes: list[str]) -> "Summary":
        summary = super().__new__(cls, summary_text(title, header, table, notes))
        summary.title, summary.header, summary.table, summary.notes = (
            title, header, table, notes)
        return summary

    def __repr__(self) -> str:
        # The text itself, so a summary as the last line in a console reads as a table.
        return str(self)

    def _repr_html_(self) -> str:
        statistic = self.table.attrs.get("statistic", "z")
        level = self.table.attrs.get("level", 0.95)
        shown = self.table.rename(columns={
            "estimate": "coef", "std_error": "std err", "statistic": statistic,
            "p_value": f"P>|{statistic}|", "ci_low": f"[{(1 - level) / 2:.3g}",
            "ci_high": f"{1 - (1 - level) / 2:.3g}]"})
        return display.card(self.title, display.facts(self.header),
                            display.table(shown, index_name="term"), display.notes(self.notes))


def summary_text(title: str, header: list[tuple[str, str]], table: pd.DataFrame,
                 notes: list[str]) -> str:
    """The summary: a title, two columns of ``(label, value)``, the table, numbered notes."""
    lines = ["=" * WIDTH, title.center(WIDTH), "=" * WIDTH]
    lines += _format_header(header)
    lines += ["=" * WIDTH] + _format_table(table) + ["=" * WIDTH]
    lines += [f"[{i}] {note}" for i, note in enumerate(notes, start=1)]
    return "\n".join(lines)


def _format_header(rows) -> list[str]:
    half = (len(rows) + 1) // 2
    cells = [f"{label + ':':<{38 - len(value)}}{value}" if len(label) + len(value) < 38
             else f"{label}: {value}" for label, value in rows]
    left, right = cells[:half], cells[half:]
    return [f"{a:<38}  {b}".rstrip() for a, b in zip(left, right + [""] * (half - len(right)))]


def _format_table(table: pd.DataFrame) -> list[str]:
    level = table.attrs.get("level", 0.95)
    statistic = table.attrs.get("statistic", "z")
    low, high = f"[{(1 - level) / 2:.3g}", f"{1 - (1 - level) / 2:.3g}]"
    names = [" / ".join(map(str, i)) if isinstance(i, tuple) else str(i) for i in table.index]
    width = max(12, max(len(n) for n in names) + 1)
    gd = "gd_estimate" in table.columns  # gradient descent's weights, beside the optimum's
    head = (f"{'':<{width}}{'coef':>11}{'std err':>11}{statistic:>9}{'P>|' + statistic + '|':>9}"
            f"{low:>11}{high:>11}" + (f"{'gd coef':>11}" if gd else ""))
    lines = [head, "-" * len(head)]
    for name, row in zip(names, table.itertuples(index=False)):
        lines.append(f"{name:<{width}}{_num(row.estimate, 11)}{_num(row.std_error, 11)}"
                     f"{_num(row.statistic, 9, '.3f')}{_num(row.p_value, 9, '.3f')}"
                     f"{_num(row.ci_low, 11)}{_num(row.ci_high, 11)}"
                     + (_num(row.gd_estimate, 11) if gd else ""))
    return lines


def _num(value, width, spec=".4g") -> str:
    return f"{'nan' if not np.isfinite(value) else format(value, spec):>{width}}"
