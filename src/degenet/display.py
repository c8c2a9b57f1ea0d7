"""HTML pieces for notebooks: tables, badges, facts; every text escaped.

Fits, comparisons, verdicts and summaries render themselves with these in Jupyter
(``_repr_html_``): plain HTML with inline styles, no script, no external reference, so the
output reads the same in a saved notebook, ``nbconvert`` and GitHub's viewer. The pieces
know nothing of degenet's objects; each object composes its own view.
"""

from __future__ import annotations

import html
import math

import pandas as pd

# Badge colours by what a verdict prefers (and the neutral tone of everything else).
TONES = {"network": "#1b7f3b", "regression": "#1f5fa8", "either": "#6b6b6b",
         "warning": "#b26a00", "neutral": "#444"}
_TABLE = "border-collapse:collapse;font-size:0.9em;margin:0.3em 0"
_CELL = "padding:0.15em 0.6em;border-bottom:1px solid #ddd"


def escape(value) -> str:
    return html.escape(str(value))


def number(value, spec: str = ".4g") -> str:
    """A number for a table cell; NaN (withheld) and None as an em dash."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "&mdash;"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return escape(format(value, spec))
    return escape(value)


def badge(text: str, tone: str = "neutral") -> str:
    colour = TONES.get(tone, TONES["neutral"])
    return (f'<span style="background:{colour};color:#fff;border-radius:0.8em;'
            f'padding:0.1em 0.7em;font-weight:600;font-size:0.85em">{escape(text)}</span>')


def facts(pairs: list[tuple[str, object]]) -> str:
    """``label: value`` pairs on one wrapped line, labels muted."""
    items = [f'<span style="margin-right:1.2em;white-space:nowrap"><span style="color:#777">{escape(label)}</span> '
             f'{escape(value)}</span>' for label, value in pairs]
    return f'<div style="margin:0.2em 0">{"".join(items)}</div>'


def table(frame: pd.DataFrame, *, spec: str = ".4g", index_name: str | None = None) -> str:
    """A DataFrame as an HTML table; a MultiIndex row label is joined with `` / ``."""
    head = [index_name if index_name is not None else (frame.index.name or "")]
    head += [str(c) for c in frame.columns]
    rows = ["<tr>" + "".join(f'<th style="{_CELL};text-align:{"left" if i == 0 else "right"}">'
                             f"{escape(h)}</th>" for i, h in enumerate(head)) + "</tr>"]
    for label, values in zip(frame.index, frame.itertuples(index=False)):
        label = " / ".join(map(str, label)) if isinstance(label, tuple) else label
        cells = [f'<td style="{_CELL};text-align:left">{escape(label)}</td>']
        cells += [f'<td style="{_CELL};text-align:right;font-variant-numeric:tabular-nums">'
                  f"{number(v, spec)}</td>" for v in values]
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f'<table style="{_TABLE}">{"".join(rows)}</table>'


def card(title: str, *parts: str) -> str:
    """A titled block holding ``parts`` (already HTML)."""
    return (f'<div style="font-family:system-ui,sans-serif;max-width:60em">'
            f'<div style="font-weight:700;font-size:1.05em;margin-bottom:0.2em">'
            f"{escape(title)}</div>{''.join(parts)}</div>")


def paragraph(text: str, *, muted: bool = False) -> str:
    style = "margin:0.3em 0" + (";color:#666;font-size:0.9em" if muted else "")
    return f'<p style="{style}">{escape(text)}</p>'


def heading(text: str) -> str:
    return f'<div style="font-weight:600;margin-top:0.6em">{escape(text)}</div>'


def notes(items: list[str]) -> str:
    """Numbered notes, as a summary's ``[1] ...`` lines."""
    if not items:
        return ""
    return ('<ol style="margin:0.3em 0;padding-left:1.6em;font-size:0.9em;color:#444">'
            + "".join(f"<li>{escape(item)}</li>" for item in items) + "</ol>")
