"""The explanation of a comparison in words, tables and JSON: effects, ranking, proposal.

Shared by the terminal's text (:mod:`degenet.report.render`) and the report
(:mod:`degenet.report.document`): the same rows, rounded the same way.
"""

from __future__ import annotations

import pandas as pd

from degenet.comparison.comparison import Comparison
from degenet.jsonvalues import records
from degenet.report.numbers import figure

MOST_RANKED = 8  # rows of a ranking in the text and the report


def verdict_records(comparison: Comparison, **extra) -> list[dict]:
    """Each verdict's JSON with its ``"proposal"`` (None when nothing is proposed)."""
    explanation = comparison.explanation
    return [{**extra, **verdict.to_dict(),
             "proposal": None if explanation is None else explanation.proposal_dict(
                 verdict.network)}
            for verdict in comparison.verdicts]


def effect_records(comparison: Comparison) -> list[dict]:
    """The ``"effects"`` JSON: ``target, model, term, class, kind, effect, ci_low, ci_high``."""
    if comparison.explanation is None:
        return []
    effects = comparison.explanation.effects.drop(columns=["scale"], errors="ignore")
    return records(effects.assign(target=comparison.target)[["target", *effects.columns]])


def ranking_records(comparison: Comparison) -> dict[str, list[dict]]:
    """Each network's ranking as JSON records."""
    if comparison.explanation is None:
        return {}
    return {network: records(ranking) for network, ranking
            in comparison.explanation.rankings.items()}


def effect_rows(effects: pd.DataFrame) -> list[dict]:
    """The effects as a wide table of text: one row per term (and class), one column per
    model, each ``effect [low, high]``."""
    models = list(dict.fromkeys(effects["model"]))
    rows = []
    label = effects["class"].map(lambda value: "" if pd.isna(value) else str(value))
    for term, of_class in dict.fromkeys(zip(effects["term"], label)):
        mine = effects[(effects["term"] == term) & (label == of_class)]
        row = {"input": f"{term} -> P({of_class})" if of_class else term,
               "per": "unit" if mine["kind"].iloc[0] == "slope" else "switch"}
        for model in models:
            found = mine[mine["model"] == model]
            row[model] = "" if found.empty else _with_interval(found.iloc[0])
        rows.append(row)
    return rows


def _with_interval(row) -> str:
    text = figure(float(row["effect"]), 3)
    if pd.notna(row["ci_low"]) and pd.notna(row["ci_high"]):
        return f"{text} [{figure(float(row['ci_low']), 3)}, {figure(float(row['ci_high']), 3)}]"
    return f"{text} [withheld]"


def ranking_rows(ranking: pd.DataFrame) -> list[dict]:
    """The strongest terms of a ranking as rows of text."""
    return [{"term": term_label(row.term, row.kind, row.variables),
             "share of variation": f"{100 * row.strength:.2g}%", "H": f"{row.h:.2f}",
             "coefficients": row.coefficients,
             "proposed": "yes" if row.supported else ""}
            for row in ranking.head(MOST_RANKED).itertuples()]


def term_label(term: str, kind: str, variables) -> str:
    """A ranked term as a person reads it: ``a:b``, or ``x (nonlinear)`` for a spline's."""
    return f"{variables[0]} (nonlinear)" if kind == "nonlinearity" else ":".join(variables)


def proposal_sentences(comparison: Comparison) -> list[str]:
    """Per verdict, what the explanation found: the proposal's sentence, or why none."""
    explanation = comparison.explanation
    if explanation is None:
        return []
    lines = []
    for verdict in comparison.verdicts:
        proposal = explanation.proposals.get(verdict.network)
        if proposal is not None:
            lines.append(proposal.sentence)
        elif verdict.prefer == "network":
            lines.append(f"No regression is proposed for {verdict.network}: no interaction or "
                         "nonlinearity it uses is strong enough to add.")
    return lines


def explanation_text(comparison: Comparison) -> list[str]:
    """The terminal's lines: effects by model, each network's strongest terms."""
    if comparison.explanation is None:
        return []
    lines = ["", "average effects on the mean (held-out rows; [95% interval]):",
             pd.DataFrame(effect_rows(comparison.explanation.effects)).to_string(index=False)]
    for network, ranking in comparison.explanation.rankings.items():
        if len(ranking):
            lines += ["", f"what {network} adds to a regression (share of its variation on the "
                      f"link scale; m = {ranking.attrs.get('sample_rows')} rows):",
                      pd.DataFrame(ranking_rows(ranking)).to_string(index=False)]
    return lines


__all__ = ["effect_records", "effect_rows", "term_label", "explanation_text", "proposal_sentences",
           "ranking_records", "ranking_rows", "verdict_records"]
