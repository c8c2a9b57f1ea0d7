"""The report's sections on what the networks do, and its coefficient blocks, as HTML and
Markdown fragments built from the report's content (:func:`degenet.report.document.
report_content`): every number rounded to its precision (:mod:`degenet.report.numbers`).
"""

from __future__ import annotations

import html

import pandas as pd

from degenet.comparison.effects import COLUMNS as EFFECT_COLUMNS
from degenet.report.explained import effect_rows, ranking_rows
from degenet.report.numbers import coefficient_rows, figure

EXPLAINED = ("What each input does", "What the regression misses", "Proposed regression")
EFFECTS_TEXT = (
    "The average over held-out rows of d mean / d input (automatic differentiation through "
    "each Keras model, chained through the encoding), per unit of the input; for a category "
    "(or a number with two values) the average change when every row switches from the "
    "reference (low) value. Intervals: one split, over the held-out rows with the trained "
    "model held fixed, plus, for a regression, its coefficients' own error (delta method); "
    "with folds, the corrected resampled t over them.")
RANKING_TEXT = (
    "Friedman and Popescu's H statistic from each network's partial dependence on a sample "
    "of held-out rows, on the scale of its linear predictor (where a regression is "
    "additive). Share of variation: how much of the network's output the term accounts for "
    "beyond the inputs' separate effects (interactions) or beyond a straight line "
    "(nonlinearities). H: Friedman's normalized statistic. Proposed: each coefficient the "
    "term adds accounts for at least 0.2% of the variation and 5% of the strongest term's "
    "share per coefficient.")


def coefficients_html(name: str, rows: list[dict], withheld: str | None, summary: str | None,
                      notes: list[str]) -> list[str]:
    """A regression's table (rounded; withheld statistics say so), its notes as a list, and
    its full text summary folded away."""
    parts = [f"<h4>{html.escape(name)}</h4>", table_html(coefficient_rows(rows, bool(withheld)))]
    if withheld:
        parts.append(f'<p class="note">Statistics withheld: {html.escape(withheld)}.</p>')
    if notes:
        parts.append('<ul class="notes">' + "".join(f"<li>{html.escape(n)}</li>" for n in notes)
                     + "</ul>")
    if summary:
        parts.append(f"<details><summary>Full summary of {html.escape(name)}</summary>"
                     f"<pre>{html.escape(summary)}</pre></details>")
    return parts


def coefficients_markdown(name: str, rows: list[dict], withheld: str | None,
                          summary: str | None, notes: list[str]) -> list[str]:
    parts = [f"**{name}**", table_markdown(coefficient_rows(rows, bool(withheld)))]
    if withheld:
        parts.append(f"Statistics withheld: {withheld}.")
    parts += [f"- {note}" for note in notes]
    if summary:
        parts.append(f"```\n{summary}\n```")
    return parts


def explanation_html(explained: dict | None, images: dict[str, str]) -> list[str]:
    """The three sections (:data:`EXPLAINED`), each with its tables and plots."""
    if explained is None:
        return []
    e = html.escape
    effects = pd.DataFrame(explained["effects"], columns=EFFECT_COLUMNS)
    parts = [f'<section class="effects"><h3>{EXPLAINED[0]}</h3><p class="meta">'
             f"{e(EFFECTS_TEXT)}</p>", table_html(effect_rows(effects)),
             *_figures(images, "Average effects"), "</section>",
             f'<section class="ranking"><h3>{EXPLAINED[1]}</h3><p class="meta">'
             f"{e(RANKING_TEXT)}</p>"]
    for network, records in explained["rankings"].items():
        parts += [f"<h4>{e(network)}</h4>", table_html(ranking_rows(pd.DataFrame(records)))
                  if records else "<p>No term to rank.</p>",
                  *_figures(images, f"Interactions and nonlinearities of {network}")]
    parts += ["</section>", f'<section class="proposal"><h3>{EXPLAINED[2]}</h3>']
    if not explained["proposals"]:
        parts.append("<p>Nothing is proposed: a regression is proposed only for a network "
                     "the data clearly prefers, with the terms its ranking supports.</p>")
    for proposal in explained["proposals"]:
        parts += [f'<p class="formula"><code>{e(proposal["formula"])}</code></p>',
                  f"<p>{e(proposal['sentence'])}</p>", table_html(_proposal_rows(proposal)),
                  f'<p class="meta">Its coefficients are under Coefficients '
                  f"({e(proposal['model'])}). To fit it alone on every row: "
                  f"<code>degenet fit DATA --formula \"{e(proposal['formula'])}\" "
                  "--solver exact</code></p>"]
    parts += [*_figures(images, "Proposed regression against the network"), "</section>"]
    return parts


def explanation_markdown(explained: dict | None, images: dict[str, str]) -> list[str]:
    if explained is None:
        return []
    effects = pd.DataFrame(explained["effects"], columns=EFFECT_COLUMNS)
    parts = [f"### {EXPLAINED[0]}", EFFECTS_TEXT, table_markdown(effect_rows(effects)),
             *_images_markdown(images, "Average effects"), f"### {EXPLAINED[1]}", RANKING_TEXT]
    for network, records in explained["rankings"].items():
        parts += [f"**{network}**", table_markdown(ranking_rows(pd.DataFrame(records)))
                  if records else "No term to rank.",
                  *_images_markdown(images, f"Interactions and nonlinearities of {network}")]
    parts.append(f"### {EXPLAINED[2]}")
    for proposal in explained["proposals"]:
        parts += [f"`{proposal['formula']}`", proposal["sentence"],
                  table_markdown(_proposal_rows(proposal))]
    if not explained["proposals"]:
        parts.append("Nothing is proposed.")
    return parts + _images_markdown(images, "Proposed regression against the network")


def _proposal_rows(proposal: dict) -> list[dict]:
    """The proposal as a two-column table, which stays narrow on a phone."""
    level = f"{proposal['confidence']:.0%}"
    shown = {"against the network": proposal["network"],
             "added terms": ", ".join(proposal["added_terms"]),
             "coefficients": proposal["n_coefficients"],
             "held-out deviance, proposed": figure(proposal["proposal_loss"]),
             "held-out deviance, network": figure(proposal["network_loss"]),
             "difference (proposed - network)": figure(proposal["loss_difference"], 3),
             f"{level} interval": f"{figure(proposal['ci_low'], 3)} to "
                                  f"{figure(proposal['ci_high'], 3)}",
             "margin that matters": figure(proposal["margin"], 3),
             "prefer": proposal["prefer"]}
    return [{"": key, "value": value} for key, value in shown.items()]


def _figures(images: dict[str, str], title: str) -> list[str]:
    if title not in images:
        return []
    return [f'<figure><img alt="{html.escape(title)}" src="data:image/png;base64,'
            f'{images[title]}"><figcaption>{html.escape(title)}</figcaption></figure>']


def _images_markdown(images: dict[str, str], title: str) -> list[str]:
    return [f"![{title}](data:image/png;base64,{images[title]})"] if title in images else []


def cell(value) -> str:
    """A table cell: numbers to four significant digits, text as it is."""
    return figure(value) if isinstance(value, (int, float)) else ("" if value is None
                                                                   else str(value))


def table_html(rows: list[dict]) -> str:
    if not rows:
        return "<p>(empty)</p>"
    columns = list(rows[0])
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(cell(row[c]))}</td>" for c in columns)
                   + "</tr>" for row in rows)
    return f'<div class="scroll"><table><tr>{head}</tr>{body}</table></div>'


def table_markdown(rows: list[dict]) -> str:
    if not rows:
        return "(empty)"
    columns = list(rows[0])
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(row[c]).replace("|", "\\|") for c in columns) + " |"
              for row in rows]
    return "\n".join(lines)


__all__ = ["EXPLAINED", "cell", "coefficients_html", "coefficients_markdown",
           "explanation_html", "explanation_markdown", "table_html", "table_markdown"]
