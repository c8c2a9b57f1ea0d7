"""Plain-text and JSON forms of fits, comparisons and the demo (the terminal's layer)."""

from __future__ import annotations

import pandas as pd

from degenet.comparison.comparison import Comparison
from degenet.comparison.verdict import SIGN_CONVENTION
from degenet.demo import MODELS, POST, Demo, network_gains, theory
from degenet.fitting import Fit
from degenet.jsonvalues import number, records


def coefficients_dict(fitted: Fit) -> dict | None:
    """``{term: estimate}`` (``{class: {term: estimate}}`` for categorical); None for networks."""
    if not fitted.spec.is_regression:
        return None
    estimates = fitted.coefficients["estimate"]
    if isinstance(estimates.index, pd.MultiIndex):
        return {str(label): {str(term): number(v) for term, v in estimates.loc[label].items()}
                for label in estimates.index.get_level_values(0).unique()}
    return {str(term): number(value) for term, value in estimates.items()}


def fit_dict(fitted: Fit, target: str | None = None) -> dict:
    """The JSON form of one fit."""
    regression = fitted.exact
    return {
        "target": target or fitted.encoding.target,
        "model": fitted.spec.text,
        "family": fitted.family.name,
        "classes": None if fitted.classes is None else [str(c) for c in fitted.classes],
        "epochs": fitted.epochs,
        "best_epoch": fitted.best_epoch,
        "val_loss": number(fitted.val_loss),
        "seed": fitted.seed,
        "settings": fitted.settings.to_dict(),
        "coefficients": coefficients_dict(fitted),
        "solver": fitted.solver,
        "coefficient_table": None if regression is None else regression.table_records(),
        "exact": None if regression is None else regression.to_dict(),
        "encoding": fitted.encoding.to_dict(),
        "history": records(fitted.history),
    }


def comparison_dict(comparison: Comparison) -> dict:
    return {"target": comparison.target,
            "models": [fit_dict(f, comparison.target) for f in comparison.fits.values()],
            "table": records(comparison.table.reset_index()),
            "design": comparison.design,
            "scores": records(None if comparison.scores is None
                              else comparison.scores.reset_index()),
            "sign_convention": SIGN_CONVENTION,
            "verdicts": [v.to_dict() for v in comparison.verdicts],
            "notes": list(comparison.notes)}


def demo_dict(demo: Demo) -> dict:
    models = [fit_dict(f, target) for target, comparison in demo.comparisons.items()
              for f in comparison.fits.values()]
    for model in models:
        del model["history"]  # the demo's JSON is a summary; `degenet fit --json` has them
    return {"n": demo.n, "seed": demo.seed, "partnered_children": demo.partnered_children,
            "models": models,
            "verdicts": [{"target": target, **v.to_dict()}
                         for target, comparison in demo.comparisons.items()
                         for v in comparison.verdicts],
            "findings": [{"name": f.name, "value": number(f.value), "expected": f.expected,
                          "tolerance": f.tolerance, "agrees": f.agrees} for f in demo.findings]}


def epoch_log(fitted: Fit, head: int = 3, tail: int = 2) -> list[str]:
    """A compact epoch log like the post's: the first epochs, the last ones, the best."""
    history, total = fitted.history, fitted.settings.max_epochs
    lines = [f"Epoch {int(r.epoch)}/{total}  loss: {r.loss:.4g} - val_loss: {r.val_loss:.4g}"
             for r in history.itertuples()]
    if len(lines) > head + tail + 1:
        lines = lines[:head] + [f"... {len(lines) - head - tail} more epochs ..."] + lines[-tail:]
    return lines


def coefficient_line(fitted: Fit) -> str:
    """The network's own weights (gradient descent's, or the optimum's for ``exact``)."""
    estimates = fitted.exact.estimates()["estimate"]
    return "  ".join(f"{term} {value:+.4f}" for term, value in estimates.items())


def exact_line(fitted: Fit) -> str:
    """The exact optimum's coefficients, aligned with :func:`coefficient_line`, and the gap."""
    exact = fitted.exact.to_dict()
    values = exact["coefficients"]
    if isinstance(next(iter(values.values())), dict):  # categorical: flatten like the table
        values = {(label, term): v for label, terms in values.items() for term, v in terms.items()}
    text = "  ".join(f"{term} {value:+.4f}" for term, value in values.items())
    return text + (f"   (gradient descent within {exact['max_std_diff']:.2g} std errors)"
                   if exact["max_std_diff"] is not None and fitted.solver == "gd" else "")


WATCHED = {"val_loss": "early stopping on the validation loss",
           "loss": "no validation rows: stopped when the training loss stopped improving",
           "optimum": "trained to the exact optimum (the gap of its training loss to the "
                      "optimum's)"}


def family_line(family, models: str, target: str) -> str:
    """The first line of every result: the family the models used."""
    return f"family: {family.name} ({family.link} link)   model: {models}   target: {target}"


def fit_text(fitted: Fit, *, epochs: bool = True) -> str:
    """The family, epoch log (unless ``epochs=False``: ``--quiet``), validation loss and,
    for a regression, its summary."""
    lines = [family_line(fitted.family, fitted.spec.text, fitted.encoding.target)]
    lines += epoch_log(fitted) if epochs else []
    t = fitted.training
    if t is None:
        lines.append(f"exact solver: val_loss {fitted.val_loss:.6g}   "
                     f"({fitted.exact.seconds:.2f} s)")
    else:
        lines.append(f"best epoch {t.best_epoch} of {t.epochs}: val_loss {fitted.val_loss:.6g}"
                     f"   (compile {t.compile_seconds:.2f} s, train {t.train_seconds:.2f} s; "
                     f"{WATCHED[t.watched]})")
    if fitted.exact is not None:
        lines.append(str(fitted.summary()))
    lines.extend(fitted.encoding.describe())  # each categorical column's reference level
    return "\n".join(lines)


def _g6(value: float) -> str:
    return f"{value:.6g}"


def comparison_text(comparison: Comparison) -> str:
    """The training table, the held-out scores (baseline first) and each verdict."""
    families = {fitted.family.name: fitted.family for fitted in comparison.fits.values()}
    lines = [family_line(family, ", ".join(name for name, f in comparison.fits.items()
                                           if f.family is family), comparison.target)
             for family in families.values()]
    lines += [comparison.table.to_string(float_format=_g6),
              f"lowest validation loss: {comparison.best}"]
    if comparison.scores is not None:
        lines += ["", f"held-out scores ({comparison.design}; deviance per observation, "
                  "lower is better):", comparison.scores.to_string(float_format=_g6)]
    lines += ["", *(f"verdict: {v.sentence}" for v in comparison.verdicts)]
    lines += [f"note: {note}" for note in comparison.notes]
    return "\n".join(lines).rstrip()


def demo_text(demo: Demo, *, epochs: bool = True) -> str:
    """The post's experiment, model by model, then the analysis (``epochs=False``: without
    the epoch logs, for ``--quiet``)."""
    blocks = [f"degenet demo: the post's experiment on {demo.n:,} people (seed {demo.seed}, "
              f"partnered num_balloons = {demo.partnered_children:g} * children - 0.2 * age)"]
    for target, comparison in demo.comparisons.items():
        for name, fitted in comparison.fits.items():
            header = f"======= Output type: {target}  Model type: {name} ({fitted.family.name})"
            body = epoch_log(fitted) if epochs else []
            body.append(f"best epoch {fitted.best_epoch}: "
                        f"val_loss {fitted.val_loss:.5g}")
            if fitted.spec.is_regression:
                body.append("coefficients: " + coefficient_line(fitted))
                if fitted.exact is not None:
                    body.append("exact:        " + exact_line(fitted))
            blocks.append("\n".join([header, *body]))
    blocks.append(analysis_text(demo))
    return "\n\n".join(blocks)


def analysis_text(demo: Demo) -> str:
    expect = theory(demo.partnered_children)
    lines = ["======= Analysis"]
    for finding in demo.findings:
        mark = "ok " if finding.agrees else "OFF"
        lines.append(f"[{mark}] {finding.name:<24} {finding.value:+.4f}   "
                     f"{finding.source} {finding.expected:+.4f} (+- {finding.tolerance:.3g})")
    linear_fit = demo.comparisons["num_balloons"].fits["linear"]
    linear = linear_fit.coefficients["estimate"]
    logistic = demo.comparisons["color"].fits["logistic"].coefficients["estimate"]
    post_linear, post_logistic = POST[("num_balloons", "linear")], POST[("color", "logistic")]
    lines.append(
        f"The best linear fit averages the two branches: children "
        f"({demo.partnered_children:g} + 0.8) / 2 = {expect['children']:.3f} (fitted "
        f"{linear['children']:.3f}), age (0.5 - 0.2) / 2 = 0.150 (fitted {linear['age']:.3f}); "
        f"relationship and intercept are near 0 because both branches have mean 0.")
    lost_decimal = theory(0.1)
    if abs(demo.partnered_children - 0.1) < 1e-12:
        lines.append(
            f"With the partnered factor 0.1, as the post's data evidently had, the run "
            f"reproduces its printed figures: children {linear['children']:.3f} (post "
            f"{post_linear['children']:.3f}), age {linear['age']:.3f} (post "
            f"{post_linear['age']:.3f}), val MSE {linear_fit.val_loss:.4f} (post "
            f"{post_linear['val_loss']}).")
    else:
        lines.append(
            f"The post printed children {post_linear['children']:.3f}, age "
            f"{post_linear['age']:.3f}, val MSE {post_linear['val_loss']}: that is the "
            f"partnered factor 0.1 (its own arithmetic (1.0 + 0.8) / 2 = 0.45 says so), theory "
            f"{lost_decimal['children']:.3f} / 0.150 / {lost_decimal['mse']:.4f}; run "
            "`degenet demo --partnered-children 0.1` to reproduce it.")
    ratio = logistic["children"] / logistic["age"]
    lines.append(
        f"Logistic: only the direction counts. children/age = {ratio:.3f}; theory "
        f"0.65 / 0.35 = {expect['color_ratio']:.3f}; the post printed "
        f"{post_logistic['children']:.2f} / {post_logistic['age']:.2f} = "
        f"{post_logistic['children'] / post_logistic['age']:.3f}. Large coefficients push the "
        "sigmoid to 0 or 1: the classes are nearly separable.")
    for target, (regression, network) in network_gains(demo).items():
        post_reg = POST[(target, MODELS[target][0])]["val_loss"]
        post_net = POST[(target, "mlp")]["val_loss"]
        verdicts = demo.comparisons[target].verdicts
        verdict = verdicts[0].sentence if verdicts else "no verdict."
        lines.append(
            f"{target}: {MODELS[target][0]} val_loss {regression:.4g}, mlp {network:.4g} "
            f"({regression / network:.0f}x lower; the post: {post_reg:g} vs {post_net:g}). "
            f"{verdict}")
    return "\n".join(lines)


def demo_notes(demo: Demo) -> list[str]:
    """The analysis and the findings as paragraphs, for the report."""
    return [f"{demo.n:,} people, seed {demo.seed}, partnered num_balloons = "
            f"{demo.partnered_children:g} * children - 0.2 * age.",
            *analysis_text(demo).splitlines()[1:]]
