"""Numbers as a person reads them: rounded to their precision, withheld ones said to be.

An estimate is shown to the precision its std error supports (two significant digits of
the std error), a p-value to three decimals or as ``<0.001``, any other figure to four
significant digits without an exponent unless it is very small or very large.
"""

from __future__ import annotations

import math

WITHHELD = "withheld"


def figure(value, digits: int = 4) -> str:
    """``value`` to ``digits`` significant digits: ``0.01103``, ``21,948``, ``1.31e-10``."""
    if value is None:
        return ""
    if isinstance(value, bool) or isinstance(value, int):
        return f"{value:,}" if abs(value) >= 10_000 else str(value)
    if not isinstance(value, float):
        return str(value)
    if not math.isfinite(value):
        return "" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    size = abs(value)
    if size == 0:
        return "0"
    if size >= 10 ** digits and size < 1e15:
        return f"{value:,.0f}"
    if 1e-4 <= size < 10 ** digits:
        text = f"{value:.{digits}g}"
        while size < 10 and float(text) != value and float(text) == round(float(text)) \
                and digits < 8:  # 0.99997 is not 1
            digits += 1
            text = f"{value:.{digits}g}"
        return text
    return f"{value:.{max(digits - 1, 1)}g}"


def estimate(value: float, std_error: float) -> str:
    """An estimate to the decimals that two significant digits of its std error give."""
    if not (isinstance(std_error, float) and math.isfinite(std_error) and std_error > 0
            and math.isfinite(value)) or std_error < abs(value) * 1e-12:
        return figure(value)
    decimals = 1 - math.floor(math.log10(std_error))
    if decimals <= 0:
        return f"{round(value, decimals):,.0f}"
    if decimals <= 6:
        text = f"{value:.{decimals}f}"
        return text.lstrip("-") if float(text) == 0 else text  # no "-0.000"
    # A tiny std error: the digits it supports, at most six, without a run of zeros.
    magnitude = math.floor(math.log10(abs(value))) if value else -decimals
    return f"{value:.{min(max(magnitude + decimals + 1, 1), 6)}g}"


def p_value(value: float) -> str:
    if value is None or not math.isfinite(value):
        return ""
    return "<0.001" if value < 0.001 else f"{value:.3f}"


def coefficient_rows(rows: list[dict], withheld: bool = False) -> list[dict]:
    """Coefficient records (``term`` (and ``class``), ``estimate, std_error, statistic,
    p_value, ci_low, ci_high``) as rows of text; with ``withheld`` every statistic reads
    ``withheld``: std errors at a point that is not an optimum mean nothing."""
    shown = []
    for row in rows:
        se = _float(row.get("std_error"))
        cells = {key: str(row[key]) for key in ("class", "term") if key in row}
        # A withheld std error means nothing: it cannot set the estimate's digits either.
        cells["estimate"] = (figure(_float(row["estimate"])) if withheld
                             else estimate(_float(row["estimate"]), se))
        if withheld:
            cells.update(dict.fromkeys(("std_error", "statistic", "p_value", "ci_low",
                                        "ci_high"), WITHHELD))
        else:
            statistic = _float(row["statistic"])
            cells.update(std_error=figure(se, 2),
                         statistic=f"{statistic:.2f}" if abs(statistic) < 1e4 else figure(
                             statistic, 3),
                         p_value=p_value(_float(row["p_value"])),
                         ci_low=estimate(_float(row["ci_low"]), se),
                         ci_high=estimate(_float(row["ci_high"]), se))
        shown.append(cells)
    return shown


def _float(value) -> float:
    return float("nan") if value is None else float(value)


__all__ = ["WITHHELD", "coefficient_rows", "estimate", "figure", "p_value"]
