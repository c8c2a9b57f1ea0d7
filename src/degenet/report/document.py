"""The report: one comparison (or the demo's two) as HTML, Markdown or JSON.

:func:`report_content` gathers what the report says into plain data; the three forms
render that same content. The HTML is one self-contained file: inline CSS, plots as
base64 PNG ``data:`` URIs, no script and no reference to anything outside the file, so
it opens the same offline, in a mail attachment or years from now. The Markdown embeds
the same images as ``data:`` URIs; the JSON carries the numbers (plots' data included,
images left out).
"""

from __future__ import annotations

import base64
import datetime
import html
import json
from pathlib import Path

import pandas as pd

from degenet.comparison.comparison import Comparison
from degenet.errors import DegenetError
from degenet.exact.summary import summary_text
from degenet.jsonvalues import records
from degenet.report.explain_plots import explanation_figures
from degenet.report.explained import effect_records, ranking_records, verdict_records
from degenet.report.plots import figures, png
from degenet.report.sections import (EXPLAINED, coefficients_html, coefficients_markdown,
                                     explanation_html, explanation_markdown, table_html,
                                     table_markdown)
from degenet.comparison.verdict import SIGN_CONVENTION

FORMS = (".html", ".md", ".json")
SECTIONS = ("At a glance", "Held-out scores", "Verdict", *EXPLAINED, "Training",
            "Coefficients", "Plots", "Method")
METHOD = (
    "Every model trains on the same rows and is scored on the same held-out rows by one "
    "implementation of each metric (degenet.comparison.metrics), in float64 from the models' linear "
    "predictors. The primary metric is the family's deviance per observation: the squared "
    "error for gaussian, twice the log loss for bernoulli and categorical, the Poisson "
    "deviance for poisson. The baseline predicts the training rows' mean (class "
    "frequencies for classes); it is computed, not trained. "
    "Verdict: " + SIGN_CONVENTION + ". With one split the interval is a paired percentile "
    "bootstrap over the held-out rows (the trained models held fixed); with K folds it is "
    "Nadeau and Bengio's corrected resampled t over the folds (retraining included), since "
    "the plain paired t ignores that the folds' training sets overlap. A network is "
    "preferred only when the whole interval lies below minus a margin (by default 1% of the "
    "regression's deviance); the regression only when it lies above plus that margin; "
    "otherwise neither is preferred. Tables under 5,000 rows get 5 folds drawn twice "
    "unless a design is asked for. The regression is scored at its optimum: its "
    "gradient-descent fit when that reached it, else its exact optimum; under separation, "
    "its early-stopped fit.")


def report_content(comparisons: dict[str, Comparison], *, title: str,
                   notes: list[str] | None = None) -> dict:
    """What the report says, as JSON-ready data: one entry per comparison."""
    from degenet import __version__

    return {"title": title, "degenet_version": __version__,
            "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "sign_convention": SIGN_CONVENTION, "method": METHOD, "notes": list(notes or []),
            "comparisons": [_comparison_content(c) for c in comparisons.values()]}


def _comparison_content(comparison: Comparison) -> dict:
    first = next(iter(comparison.fits.values()))
    return {
        "target": comparison.target, "family": first.family.name, "design": comparison.design,
        "seed": comparison.seed, "settings": first.settings.to_dict(),
        "scores": records(comparison.scores.reset_index()),
        "verdicts": verdict_records(comparison),
        "design_notes": list(comparison.notes),
        "training": records(comparison.table.reset_index()),
        "coefficients": {name: records(_coefficients(fitted).reset_index())
                         for name, fitted in comparison.fits.items()
                         if fitted.spec.is_regression},
        "withheld": {name: fitted.exact.withheld for name, fitted in comparison.fits.items()
                     if fitted.exact is not None},
        "formulas": {name: fitted.encoding.formula for name, fitted in comparison.fits.items()
                     if fitted.encoding.formula is not None},
        "summaries": {name: _summary(fitted) for name, fitted in comparison.fits.items()
                      if fitted.exact is not None},
        "summary_notes": {name: fitted.exact.notes() for name, fitted
                          in comparison.fits.items() if fitted.exact is not None},
        "explanation": None if comparison.explanation is None else {
            "effects": effect_records(comparison), "rankings": ranking_records(comparison),
            "proposals": [p.to_dict() for p in comparison.explanation.proposals.values()]},
        "history": {name: records(fitted.history) for name, fitted in comparison.fits.items()},
    }


def _coefficients(fitted) -> pd.DataFrame:
    table = fitted.coefficients
    if isinstance(table.index, pd.MultiIndex):
        table = table.copy()
        table.index = [": ".join(map(str, key)) for key in table.index]
        table.index.name = "term"
    return table


def _summary(fitted) -> str:
    """A regression's text summary without its notes (the report lists them apart, so they
    wrap instead of running off a code block's right edge)."""
    results = fitted.exact
    return summary_text(f"degenet regression results: {results.fitted.model} "
                        f"({results.fitted.family.name})", results.header(),
                        results.coefficient_table(), [])


def write_report(path, comparisons: Comparison | dict[str, Comparison], *, title: str,
                 notes: list[str] | None = None, inputs: tuple = ()) -> Path:
    """Write the report; its form follows the suffix of ``path`` (.html, .md, .json).

    ``inputs`` are the files the report was made from: a ``path`` naming one of them is
    refused, so a report never overwrites its data.
    """
    path = check_report_path(path, inputs)
    if isinstance(comparisons, Comparison):
        comparisons = {comparisons.target: comparisons}
    content = report_content(comparisons, title=title, notes=notes)
    suffix = path.suffix.lower()
    if suffix == ".json":
        text = json.dumps(content, indent=2) + "\n"
    else:
        images = {c.target: {name: base64.b64encode(png(figure)).decode("ascii")
                             for name, figure in {**figures(c), **explanation_figures(c)}.items()}
                  for c in comparisons.values()}
        text = to_html(content, images) if suffix == ".html" else to_markdown(content, images)
    path.write_text(text, encoding="utf-8")
    return path


def check_report_path(path, inputs: tuple = ()) -> Path:
    """``path`` as a Path if a report may be written there; else a DegenetError saying why.

    Call it before a long run, so a bad path fails at once.
    """
    path = Path(path)
    for source in inputs:
        if path.exists() and Path(source).exists() and path.samefile(source):
            raise DegenetError(
                f"report path {str(path)!r} is the input data file; choose another path")
    if path.suffix.lower() not in FORMS:
        raise DegenetError(
            f"report path {str(path)!r} has suffix {path.suffix!r}; use one of: "
            f"{', '.join(FORMS)}")
    if not path.parent.is_dir():
        raise DegenetError(f"report folder {str(path.parent)!r} does not exist")
    if path.is_dir():
        raise DegenetError(f"report path {str(path)!r} is a folder; name a file, e.g. out.html")
    return path


def _glance(content: dict) -> list[tuple[str, str, str]]:
    """``(target, prefer, sentence)`` for every verdict (its proposal's sentence after it),
    or a note when there is none."""
    lines = []
    for comparison in content["comparisons"]:
        for verdict in comparison["verdicts"]:
            proposal = verdict.get("proposal")
            sentence = verdict["sentence"] + (f" {proposal['sentence']}" if proposal else "")
            prefer = ("proposed" if proposal and proposal["prefer"] == "regression"
                      else verdict["prefer"])
            lines.append((comparison["target"], prefer, sentence))
        if not comparison["verdicts"]:
            lines.append((comparison["target"], "none", "No network and regression of the "
                          "same family were compared, so there is no verdict."))
    return lines


BADGES = {"network": "network wins", "regression": "regression wins",
          "either": "no clear winner", "proposed": "use the proposed regression",
          "none": "no verdict"}
VERDICT_COLUMNS = ("network", "regression", "loss_difference", "ci_low", "ci_high", "prefer",
                   "method")


# ---------------------------------------------------------------------------- HTML

CSS = """
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2330;
margin:0;background:#f5f6f8}
main{max-width:1120px;margin:0 auto;padding:24px 28px 60px;background:#fff;min-height:100vh}
h1{font-size:26px;margin:0 0 4px;overflow-wrap:anywhere}h2{font-size:20px;margin:34px 0 10px;
padding-top:10px;border-top:2px solid #e3e6ec}h3{font-size:17px;margin:26px 0 8px}
h4{font-size:15px;margin:18px 0 6px;overflow-wrap:anywhere}
.meta{color:#5b6475;font-size:13px}
table{border-collapse:collapse;margin:8px 0 14px;font-size:13px;font-variant-numeric:tabular-nums}
th,td{padding:4px 10px;border-bottom:1px solid #e3e6ec;text-align:right;white-space:nowrap}
th{background:#f0f2f6;font-weight:600}td:first-child,th:first-child{text-align:left}
tr:nth-child(even) td{background:#fafbfc}
.verdict{border-left:6px solid #8a94a6;background:#f4f6f9;padding:10px 14px;margin:8px 0;
border-radius:4px;overflow-wrap:anywhere}
.verdict.network{border-color:#1f9d55;background:#edf8f1}
.verdict.regression,.verdict.proposed{border-color:#2563eb;background:#eef3fd}
.badge{display:inline-block;font-size:12px;font-weight:700;padding:1px 9px;border-radius:10px;
background:#8a94a6;color:#fff;margin-right:8px}
.network .badge{background:#1f9d55}.regression .badge,.proposed .badge{background:#2563eb}
figure{margin:10px 0 22px}figure img{max-width:100%;height:auto;border:1px solid #e3e6ec}
figcaption{font-size:13px;color:#5b6475}
pre{background:#f4f6f9;padding:10px;overflow-x:auto;font-size:12px;line-height:1.35}
code{font-size:13px;overflow-wrap:anywhere;background:#f4f6f9;padding:1px 4px;border-radius:3px}
.formula code{font-size:14px}
ul.notes{font-size:13px;color:#3b4252;padding-left:20px}ul.notes li{margin:3px 0}
p.note{font-size:13px;color:#8a4b00}
details{margin:6px 0 14px}summary{cursor:pointer;font-size:13px;color:#2563eb}
.scroll{overflow-x:auto}
@media (max-width:600px){main{padding:14px 12px 40px}h1{font-size:21px}h2{font-size:18px}
th,td{padding:3px 6px}}
"""


def _html_verdict(target: str, prefer: str, sentence: str) -> str:
    label = BADGES.get(prefer, "no verdict")
    return (f'<div class="verdict {html.escape(prefer)}"><span class="badge">'
            f'{html.escape(label)}</span><b>{html.escape(target)}:</b> '
            f"{html.escape(sentence)}</div>")


def _verdict_rows(verdicts: list[dict]) -> list[dict]:
    return [{k: v[k] for k in VERDICT_COLUMNS} for v in verdicts]


def _heading(c: dict) -> str:
    return f"Predicting {c['target']}: {c['family']}, {c['design']}, seed {c['seed']}"


def to_html(content: dict, images: dict[str, dict[str, str]]) -> str:
    """The self-contained HTML page; ``images`` holds base64 PNGs per target and title."""
    e = html.escape
    parts = [f"<h1>{e(content['title'])}</h1>",
             f'<p class="meta">degenet {e(content["degenet_version"])} · {e(content["created"])}'
             f" · {e(content['sign_convention'])}</p>",
             '<section id="at-a-glance"><h2>At a glance</h2>',
             *(_html_verdict(*line) for line in _glance(content)), "</section>"]
    if content["notes"]:
        parts += ['<section id="notes"><h2>Notes</h2><ul>',
                  *(f"<li>{e(note)}</li>" for note in content["notes"]), "</ul></section>"]
    for c in content["comparisons"]:
        pictures = dict(images.get(c["target"], {}))
        parts += [f'<h2 id="target-{e(c["target"])}">{e(_heading(c))}</h2>',
                  f'<section class="scores"><h3>Held-out scores</h3>{table_html(c["scores"])}'
                  "</section>", '<section class="verdicts"><h3>Verdict</h3>',
                  table_html(_verdict_rows(c["verdicts"])) if c["verdicts"] else
                  "<p>No network and regression of the same family: no verdict.</p>",
                  *(f'<p class="meta">{e(note)}</p>' for note in c["design_notes"]),
                  '<p class="meta">In words: At a glance, at the top.</p></section>',
                  *explanation_html(c["explanation"], pictures),
                  f'<section class="training"><h3>Training</h3>{table_html(c["training"])}'
                  f'<p class="meta">settings: {e(json.dumps(c["settings"]))}</p></section>',
                  '<section class="coefficients"><h3>Coefficients</h3>']
        for name, rows in c["coefficients"].items():
            parts += coefficients_html(_named(name, c), rows, c["withheld"].get(name),
                                       c["summaries"].get(name), c["summary_notes"].get(name, []))
        if not c["coefficients"]:
            parts.append("<p>No single-layer model: no coefficients.</p>")
        elif c["design"] != "one split":
            parts.append('<p class="meta">Coefficients, summaries and learning curves (solid '
                         "lines) are those of the first fold's fits.</p>")
        parts += ["</section>", '<section class="plots"><h3>Plots</h3>']
        for title, data in pictures.items():
            if not _explained(title):
                parts.append(f'<figure><img alt="{e(title)}" src="data:image/png;base64,{data}">'
                             f"<figcaption>{e(title)}</figcaption></figure>")
        parts.append("</section>")
    parts.append(f'<section id="method"><h2>Method</h2><p>{e(content["method"])}</p></section>')
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{e(content['title'])}</title><style>{CSS}</style></head><body><main>"
            + "\n".join(parts) + "</main></body></html>\n")


def _named(name: str, c: dict) -> str:
    """A model's name, with its formula when it has one (a proposed regression)."""
    formula = c.get("formulas", {}).get(name)
    return name if formula is None else f"{name}: {formula}"


def _explained(title: str) -> bool:
    """Whether a plot belongs to the explanation's sections rather than to Plots."""
    return title.startswith(("Average effects", "Interactions and nonlinearities",
                             "Proposed regression"))


# ---------------------------------------------------------------------------- Markdown

def to_markdown(content: dict, images: dict[str, dict[str, str]]) -> str:
    """The same content as Markdown; images as ``data:`` URIs."""
    parts = [f"# {content['title']}",
             f"degenet {content['degenet_version']} · {content['created']}",
             "## At a glance",
             *(f"- **{target}** ({BADGES.get(prefer, prefer)}): {sentence}"
               for target, prefer, sentence in _glance(content)),
             *(["## Notes", *(f"- {note}" for note in content["notes"])]
               if content["notes"] else [])]
    for c in content["comparisons"]:
        pictures = images.get(c["target"], {})
        parts += [f"## {_heading(c)}", "### Held-out scores", table_markdown(c["scores"]),
                  "### Verdict", table_markdown(_verdict_rows(c["verdicts"])),
                  *(f"- {note}" for note in c["design_notes"]),
                  f"_{content['sign_convention']}._",
                  *explanation_markdown(c["explanation"], pictures),
                  "### Training", table_markdown(c["training"]), "### Coefficients"]
        for name, rows in c["coefficients"].items():
            parts += coefficients_markdown(_named(name, c), rows, c["withheld"].get(name),
                                           c["summaries"].get(name),
                                           c["summary_notes"].get(name, []))
        parts.append("### Plots")
        parts += [f"![{title}](data:image/png;base64,{data})"
                  for title, data in pictures.items() if not _explained(title)]
    parts += ["## Method", content["method"]]
    return "\n\n".join(parts) + "\n"


__all__ = ["FORMS", "METHOD", "SECTIONS", "check_report_path", "report_content", "to_html",
           "to_markdown", "write_report"]
