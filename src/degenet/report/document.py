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
from degenet.jsonvalues import records
from degenet.report.plots import figures, png
from degenet.comparison.verdict import SIGN_CONVENTION

FORMS = (".html", ".md", ".json")
SECTIONS = ("At a glance", "Held-out scores", "Verdict", "Training", "Coefficients", "Plots",
            "Method")
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
        "verdicts": [v.to_dict() for v in comparison.verdicts],
        "design_notes": list(comparison.notes),
        "training": records(comparison.table.reset_index()),
        "coefficients": {name: records(_coefficients(fitted).reset_index())
                         for name, fitted in comparison.fits.items()
                         if fitted.spec.is_regression},
        "summaries": {name: text for name, fitted in comparison.fits.items()
                      if (text := _summary(fitted)) is not None},
        "history": {name: records(fitted.history) for name, fitted in comparison.fits.items()},
    }


def _coefficients(fitted) -> pd.DataFrame:
    table = fitted.coefficients
    if isinstance(table.index, pd.MultiIndex):
        table = table.copy()
        table.index = [": ".join(map(str, key)) for key in table.index]
        table.index.name = "term"
    return table


def _summary(fitted) -> str | None:
    """The exact solver's text summary, when the fit has one (single-layer fits)."""
    return None if fitted.exact is None else fitted.summary()


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
                             for name, figure in figures(c).items()}
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


def _columns(rows: list[dict]) -> list[str]:
    return list(rows[0]) if rows else []


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return "" if value is None else str(value)


def _glance(content: dict) -> list[tuple[str, str, str]]:
    """``(target, prefer, sentence)`` for every verdict, or a note when there is none."""
    lines = []
    for comparison in content["comparisons"]:
        for verdict in comparison["verdicts"]:
            lines.append((comparison["target"], verdict["prefer"], verdict["sentence"]))
        if not comparison["verdicts"]:
            lines.append((comparison["target"], "none", "No network and regression of the "
                          "same family were compared, so there is no verdict."))
    return lines


# ---------------------------------------------------------------------------- HTML

CSS = """
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2330;
margin:0;background:#f5f6f8}
main{max-width:1120px;margin:0 auto;padding:24px 28px 60px;background:#fff;min-height:100vh}
h1{font-size:26px;margin:0 0 4px}h2{font-size:20px;margin:34px 0 10px;padding-top:10px;
border-top:2px solid #e3e6ec}h3{font-size:16px;margin:22px 0 8px}
.meta{color:#5b6475;font-size:13px}
table{border-collapse:collapse;margin:8px 0 14px;font-size:13px;font-variant-numeric:tabular-nums}
th,td{padding:4px 10px;border-bottom:1px solid #e3e6ec;text-align:right}
th{background:#f0f2f6;font-weight:600}td:first-child,th:first-child{text-align:left}
tr:nth-child(even) td{background:#fafbfc}
.verdict{border-left:6px solid #8a94a6;background:#f4f6f9;padding:10px 14px;margin:8px 0;
border-radius:4px}
.verdict.network{border-color:#1f9d55;background:#edf8f1}
.verdict.regression{border-color:#2563eb;background:#eef3fd}
.badge{display:inline-block;font-size:12px;font-weight:700;text-transform:uppercase;
padding:1px 8px;border-radius:10px;background:#8a94a6;color:#fff;margin-right:8px}
.network .badge{background:#1f9d55}.regression .badge{background:#2563eb}
figure{margin:10px 0 22px}figure img{max-width:100%;border:1px solid #e3e6ec}
figcaption{font-size:13px;color:#5b6475}
pre{background:#f4f6f9;padding:10px;overflow-x:auto;font-size:12px;line-height:1.35}
.scroll{overflow-x:auto}
"""


def _html_table(rows: list[dict]) -> str:
    if not rows:
        return "<p>(empty)</p>"
    head = "".join(f"<th>{html.escape(c)}</th>" for c in _columns(rows))
    body = "".join("<tr>" + "".join(f"<td>{html.escape(_cell(row[c]))}</td>"
                                    for c in _columns(rows)) + "</tr>" for row in rows)
    return f'<div class="scroll"><table><tr>{head}</tr>{body}</table></div>'


def _html_verdict(target: str, prefer: str, sentence: str) -> str:
    label = {"network": "network", "regression": "regression", "either": "either"}.get(
        prefer, "no verdict")
    return (f'<div class="verdict {html.escape(prefer)}"><span class="badge">'
            f'{html.escape(label)}</span><b>{html.escape(target)}:</b> '
            f"{html.escape(sentence)}</div>")


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
        anchor = e(c["target"])
        parts += [f'<h2 id="target-{anchor}">Target {anchor} · {e(c["family"])} · '
                  f'{e(c["design"])} · seed {c["seed"]}</h2>',
                  f'<section class="scores"><h3>Held-out scores</h3>{_html_table(c["scores"])}'
                  "</section>",
                  '<section class="verdicts"><h3>Verdict</h3>',
                  *(_html_verdict(c["target"], v["prefer"], v["sentence"])
                    for v in c["verdicts"]),
                  _html_table([{k: v[k] for k in ("network", "regression", "loss_difference",
                                                  "ci_low", "ci_high", "prefer", "method")}
                               for v in c["verdicts"]]) if c["verdicts"] else
                  "<p>No network and regression of the same family: no verdict.</p>",
                  *(f'<p class="meta">{e(note)}</p>' for note in c["design_notes"]),
                  "</section>",
                  f'<section class="training"><h3>Training</h3>{_html_table(c["training"])}'
                  f'<p class="meta">settings: {e(json.dumps(c["settings"]))}</p></section>',
                  '<section class="coefficients"><h3>Coefficients</h3>']
        for name, rows in c["coefficients"].items():
            parts += [f"<p><b>{e(name)}</b></p>", _html_table(rows)]
            if name in c["summaries"]:
                parts.append(f"<pre>{e(c['summaries'][name])}</pre>")
        if not c["coefficients"]:
            parts.append("<p>No single-layer model: no coefficients.</p>")
        elif c["design"] != "one split":
            parts.append('<p class="meta">Coefficients, summaries and learning curves (solid '
                         "lines) are those of the first fold's fits.</p>")
        parts += ["</section>", '<section class="plots"><h3>Plots</h3>']
        for title, data in images.get(c["target"], {}).items():
            parts.append(f'<figure><img alt="{e(title)}" src="data:image/png;base64,{data}">'
                         f"<figcaption>{e(title)}</figcaption></figure>")
        parts.append("</section>")
    parts.append(f'<section id="method"><h2>Method</h2><p>{e(content["method"])}</p></section>')
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{e(content['title'])}</title><style>{CSS}</style></head><body><main>"
            + "\n".join(parts) + "</main></body></html>\n")


# ---------------------------------------------------------------------------- Markdown

def _md_table(rows: list[dict]) -> str:
    if not rows:
        return "(empty)"
    columns = _columns(rows)
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_cell(row[c]).replace("|", "\\|") for c in columns) + " |"
              for row in rows]
    return "\n".join(lines)


def to_markdown(content: dict, images: dict[str, dict[str, str]]) -> str:
    """The same content as Markdown; images as ``data:`` URIs."""
    parts = [f"# {content['title']}",
             f"degenet {content['degenet_version']} · {content['created']}",
             "## At a glance",
             *(f"- **{target}** ({prefer}): {sentence}" for target, prefer, sentence
               in _glance(content)),
             *(["## Notes", *(f"- {note}" for note in content["notes"])]
               if content["notes"] else [])]
    for c in content["comparisons"]:
        parts += [f"## Target {c['target']} · {c['family']} · {c['design']} · seed {c['seed']}",
                  "### Held-out scores", _md_table(c["scores"]), "### Verdict",
                  *(f"- **{v['prefer']}**: {v['sentence']}" for v in c["verdicts"]),
                  *(f"- {note}" for note in c["design_notes"]),
                  f"_{content['sign_convention']}._", "### Training", _md_table(c["training"]),
                  "### Coefficients"]
        for name, rows in c["coefficients"].items():
            parts += [f"**{name}**", _md_table(rows)]
            if name in c["summaries"]:
                parts.append(f"```\n{c['summaries'][name]}\n```")
        parts.append("### Plots")
        parts += [f"![{title}](data:image/png;base64,{data})"
                  for title, data in images.get(c["target"], {}).items()]
    parts += ["## Method", content["method"]]
    return "\n\n".join(parts) + "\n"


__all__ = ["FORMS", "METHOD", "SECTIONS", "check_report_path", "report_content", "to_html",
           "to_markdown", "write_report"]
