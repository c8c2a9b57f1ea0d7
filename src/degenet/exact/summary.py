"""A text summary of a single-layer fit, laid out like statsmodels': header, table, notes.

Figures are at the estimates shown (gradient descent for ``solver="gd"``). The
log-likelihood is the full one, constants included: gaussian with ``sigma^2`` at its MLE
``RSS / n``, poisson with ``log(y!)``. AIC ``= -2 log L + 2 k`` and BIC ``= -2 log L +
k log n`` count the ``k`` coefficients (not the gaussian variance, as statsmodels' OLS).
R-squared (gaussian) is ``1 - RSS / TSS`` (TSS about the mean, or about 0 without an
intercept); the others report McFadden's pseudo R-squared ``1 - log L / log L_null``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from degenet.errors import DegenetError
from degenet.exact.results import MAX_STD_ERRORS

WIDTH = 78


def header_rows(fit) -> list[tuple[str, str]]:
    """(label, value) pairs of the summary's header."""
    regression = fit.exact
    solution = regression.solution
    k = regression.n_params
    n = regression.n_samples
    ll = regression.log_likelihood
    outputs = solution.alpha.shape[0] - int(fit.family.name == "categorical")
    df_model = k - outputs * int(fit.intercept)
    if fit.family.scale_estimated:
        fit_label, fit_value = "R-squared", 1.0 - regression.deviance / regression.null_deviance
    else:
        fit_label = "Pseudo R-sq. (McFadden)"
        fit_value = 1.0 - ll / regression.null_log_likelihood
    solver = (f"exact, {solution.method}" if fit.solver == "exact"
              else f"gd ({fit.settings.optimizer})")
    iterations = solution.n_iter if fit.solver == "exact" else fit.epochs
    converged = solution.converged if fit.solver == "exact" else regression.at_optimum
    converged = ("no (separation)" if regression.diagnostics.separation is not None
                 else "yes" if converged else "NO")
    return [
        ("Model", fit.spec.text), ("Family", fit.family.name), ("Link", fit.family.link),
        ("Target", fit.encoding.target), ("No. observations", f"{n:.0f}"),
        ("Df model", f"{df_model:.0f}"), ("Df residuals", f"{solution.df_residual:.0f}"),
        ("Log-likelihood", f"{ll:.6g}"), ("Deviance", f"{regression.deviance:.6g}"),
        ("AIC", f"{-2 * ll + 2 * k:.6g}"), ("BIC", f"{-2 * ll + k * np.log(n):.6g}"),
        (fit_label, f"{fit_value:.4f}"), ("Solver", solver),
        ("Iterations" if fit.solver == "exact" else "Epochs", str(iterations)),
        ("Converged" if fit.solver == "exact" else "At exact optimum", converged),
    ]


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
    head = (f"{'':<{width}}{'coef':>11}{'std err':>11}{statistic:>9}{'P>|' + statistic + '|':>9}"
            f"{low:>11}{high:>11}")
    lines = [head, "-" * len(head)]
    for name, row in zip(names, table.itertuples(index=False)):
        lines.append(f"{name:<{width}}{_num(row.estimate, 11)}{_num(row.std_error, 11)}"
                     f"{_num(row.statistic, 9, '.3f')}{_num(row.p_value, 9, '.3f')}"
                     f"{_num(row.ci_low, 11)}{_num(row.ci_high, 11)}")
    return lines


def _num(value, width, spec=".4g") -> str:
    return f"{'nan' if not np.isfinite(value) else format(value, spec):>{width}}"


def notes(fit) -> list[str]:
    """The summary's notes: where std errors come from, agreement, diagnostics."""
    regression = fit.exact
    solution = regression.solution
    out = [("Std errors from the inverse Fisher information at the exact optimum on the "
            "training rows" + (f", with sigma^2 = RSS / {solution.df_residual:.0f} "
                               "(t statistics)" if fit.family.scale_estimated else
                               " (z statistics)") + ".")]
    if fit.family.name == "categorical":
        reference = fit.reference if fit.reference is not None else fit.classes[0]
        out.append(f"Coefficients of each class against the reference class {reference!r}.")
    if fit.solver == "gd":
        verdict = ("within" if regression.at_optimum else "NOT within")
        out.append(f"Gradient descent vs exact optimum: {regression.agreement()}; {verdict} "
                   f"tolerance ({MAX_STD_ERRORS:g} std error).")
    out.extend(regression.diagnostics.notes)
    withheld = fit.coefficients.attrs.get("withheld")
    if withheld and not any(withheld in note for note in out):
        out.append(f"p-values and intervals withheld: {withheld}.")
    return out


def summary_text(fit, level: float = 0.95) -> str:
    """The summary of ``fit`` (a single-layer :class:`~degenet.fitting.Fit`) as text."""
    if not fit.spec.is_regression:
        raise DegenetError(f"model {fit.spec.text!r} has hidden layers; a regression summary "
                           "needs a single-layer model (linear, logistic, softmax, poisson)")
    if fit.exact is None:
        raise DegenetError("this fit holds no exact solution (loaded from disk?); refit it "
                           "on its data to get a summary")
    title = f"degenet regression results: {fit.spec.text} ({fit.family.name})"
    lines = ["=" * WIDTH, title.center(WIDTH), "=" * WIDTH]
    lines += _format_header(header_rows(fit))
    lines += ["=" * WIDTH] + _format_table(fit.coefficient_table(level)) + ["=" * WIDTH]
    for i, note in enumerate(notes(fit), start=1):
        lines.append(f"[{i}] {note}")
    return "\n".join(lines)


def coefficient_rows(fit, level: float = 0.95) -> list[dict]:
    """The coefficient table as JSON records (NaN as None), with ``class`` when categorical."""
    table = fit.coefficient_table(level).reset_index()
    return [{key: (None if isinstance(value, float) and not np.isfinite(value)
                   else value.item() if isinstance(value, np.generic) else value)
             for key, value in row.items()} for row in table.to_dict("records")]


def exact_dict(fit) -> dict | None:
    """The exact optimum beside the fit's weights, for JSON; None for networks."""
    regression = fit.exact
    if regression is None:
        return None
    from degenet.fitting import coefficient_frame

    solution = regression.solution
    frame = coefficient_frame(solution.beta, solution.alpha, fit.terms, fit.family,
                              fit.classes, fit.reference, fit.intercept)["estimate"]
    if isinstance(frame.index, pd.MultiIndex):
        coefficients = {str(label): {str(t): float(v) for t, v in frame.loc[label].items()}
                        for label in frame.index.get_level_values(0).unique()}
    else:
        coefficients = {str(term): float(value) for term, value in frame.items()}

    def number(value):
        return float(value) if np.isfinite(value) else None

    return {"coefficients": coefficients, "method": solution.method,
            "converged": bool(solution.converged), "iterations": int(solution.n_iter),
            "loss": number(solution.loss), "loss_gap": number(regression.loss_gap),
            "loss_gap_relative": number(regression.loss_gap_relative),
            "likelihood_ratio": number(regression.likelihood_ratio),
            "max_std_diff": number(regression.max_std_diff),
            "at_optimum": bool(regression.at_optimum),
            "condition_number": number(solution.condition_number),
            "dropped": list(regression.diagnostics.dropped_terms),
            "notes": list(regression.diagnostics.notes)}
