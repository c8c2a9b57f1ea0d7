"""Plots of a comparison, drawn off-screen (Agg) as matplotlib Figures.

No pyplot and no display: each function builds a :class:`matplotlib.figure.Figure`
directly, so nothing global changes and nothing needs a screen. :func:`png` turns a
figure into PNG bytes for the report.
"""

from __future__ import annotations

import io

import numpy as np
from matplotlib.figure import Figure
from sklearn.calibration import calibration_curve
from sklearn.metrics import roc_curve

from degenet.comparison.comparison import BASELINE, Comparison
from degenet.fitting import Fit
from degenet.comparison.metrics import mean_prediction, roc_auc
from degenet.randomness import derive

MOST_POINTS = 3000  # scatter plots show a seeded sample of held-out rows beyond this
COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf")


def png(figure: Figure, dpi: int = 100) -> bytes:
    """The figure as PNG bytes."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    return buffer.getvalue()


def learning_curves(comparison: Comparison) -> Figure:
    """Training (dashed) and validation (solid) loss per epoch, every model, every fold.

    Losses are the family's training loss (the squared error, the cross-entropy, ...) on a
    log scale, so a network a hundred times better than its regression stays readable.
    """
    figure = Figure(figsize=(7.5, 4.2))
    axes = figure.add_subplot()
    trained = {name: fits for name, fits in comparison.fold_fits.items()
               if fits[0].training is not None}  # an exact fit has no epochs
    for color, (name, fits) in zip(_cycle(), trained.items()):
        for k, fitted in enumerate(fits):
            history, first = fitted.history, k == 0
            alpha = 1.0 if first else 0.35
            axes.plot(history["epoch"], history["val_loss"], color=color, alpha=alpha,
                      label=f"{name} validation" if first else None)
            axes.plot(history["epoch"], history["loss"], color=color, alpha=alpha,
                      linestyle="--", label=f"{name} training" if first else None)
            best = fitted.best_epoch
            if first and best:
                axes.plot([best], [fitted.val_loss], marker="o", color=color)
    axes.set(xlabel="epoch", ylabel="loss", title=f"Learning curves ({comparison.target})")
    if _positive(comparison):
        axes.set_yscale("log")
    axes.grid(alpha=0.3)
    axes.legend(fontsize="small")
    return figure


def coefficient_plot(fitted: Fit, name: str | None = None) -> Figure:
    """Each coefficient times its term's standard deviation, with its interval when the fit
    reports one; the intercept left out.

    Standardized, the coefficients of terms in different units share one readable axis
    (the change in the linear predictor for one standard deviation of the term), and no
    intercept far from zero squeezes the others' intervals into dots. Intervals are the
    table's (withheld ones are not drawn: estimates only).
    """
    table = fitted.coefficients
    terms = table.index.get_level_values(-1)
    keep = np.asarray(terms != "intercept")
    table = table[keep]
    position_of = {term: j for j, term in enumerate(fitted.terms)}
    spread = np.array([fitted.scaling.scale[position_of[term]] for term in terms[keep]])
    labels = [": ".join(map(str, key)) if isinstance(key, tuple) else str(key)
              for key in table.index]
    estimate = table["estimate"].to_numpy(dtype=float) * spread
    figure = Figure(figsize=(6.8, 0.42 * len(labels) + 1.5))
    axes = figure.add_subplot()
    position = np.arange(len(labels))[::-1]
    low = table["ci_low"].to_numpy(float) * spread
    high = table["ci_high"].to_numpy(float) * spread
    has_interval = bool(np.isfinite(low).any())
    if has_interval:
        axes.errorbar(estimate, position, xerr=[estimate - low, high - estimate], fmt="o",
                      color=COLORS[0], ecolor="#555", capsize=3)
    else:
        axes.plot(estimate, position, "o", color=COLORS[0])
    axes.axvline(0.0, color="#999", linewidth=0.8)
    axes.set_yticks(position, labels)
    what = "95% intervals" if has_interval else "no intervals (withheld)"
    axes.set(title=f"{name or fitted.spec.text}: standardized coefficients, {what}",
             xlabel="coefficient x the term's standard deviation (intercept left out)")
    axes.grid(axis="x", alpha=0.3)
    figure.tight_layout()
    return figure


def prediction_plots(comparison: Comparison) -> Figure:
    """Predicted against actual (top) and residuals against predicted (bottom), per model.

    For the gaussian and poisson families, on held-out rows (out-of-fold under ``cv``).
    """
    names = list(comparison.fits)
    figure = Figure(figsize=(3.6 * len(names) + 0.6, 6.6))
    grid = figure.subplots(2, len(names), squeeze=False)
    for column, name in enumerate(names):
        y, eta = comparison.held_out(name)
        mu = mean_prediction(comparison.family_of(name), eta)
        keep = _sample(len(y), comparison.seed)
        top, bottom = grid[0, column], grid[1, column]
        top.scatter(y[keep], mu[keep], s=4, alpha=0.4, color=COLORS[column % len(COLORS)])
        limits = [min(y.min(), mu.min()), max(y.max(), mu.max())]
        top.plot(limits, limits, color="#333", linewidth=0.8)
        top.set(title=name, xlabel="actual", ylabel="predicted")
        bottom.scatter(mu[keep], (y - mu)[keep], s=4, alpha=0.4,
                       color=COLORS[column % len(COLORS)])
        bottom.axhline(0.0, color="#333", linewidth=0.8)
        bottom.set(xlabel="predicted", ylabel="residual (actual - predicted)")
        for axes in (top, bottom):
            axes.grid(alpha=0.3)
    figure.suptitle(f"Held-out predictions ({comparison.target})")
    figure.tight_layout()
    return figure


def class_plots(comparison: Comparison) -> Figure:
    """Calibration (reliability) curves and ROC curves of every model on held-out rows.

    Two classes: the positive class's probability. More classes: calibration of the
    most probable class's probability against its accuracy (Guo et al. 2017), and the
    macro-averaged one-vs-rest ROC curve (each class's true positive rate averaged at each
    false positive rate). The AUC in the legend is :func:`degenet.comparison.metrics.roc_auc`
    on the plotted rows, the one the score table reports.
    """
    figure = Figure(figsize=(11, 4.6))
    calibration, roc = figure.subplots(1, 2)
    calibration.plot([0, 1], [0, 1], color="#333", linewidth=0.8, label="perfect", zorder=0)
    colors = dict(zip(comparison.fits, _cycle()))  # the same colour per model in every plot
    for name in [BASELINE, *comparison.fits]:
        color = colors.get(name)
        y, eta = comparison.held_out(name)
        proba = comparison.family_of(name).probabilities(eta)
        codes = y.astype(np.int64)
        if proba.shape[1] == 2:
            hit, confidence = codes, proba[:, 1]
        else:
            confidence = proba.max(axis=1)
            hit = (proba.argmax(axis=1) == codes).astype(int)
        style = ({"color": "#999", "linestyle": ":"} if name == BASELINE
                 else {"color": color, "linewidth": 2, "alpha": 0.85})
        if name != BASELINE:
            observed, predicted = calibration_curve(hit, confidence, n_bins=10,
                                                    strategy="quantile")
            calibration.plot(predicted, observed, marker="o", label=name, **style)
        area = roc_auc(codes, proba)
        if np.isfinite(area):
            fpr, tpr = _roc_curve(codes, proba)
            kind = "AUC" if proba.shape[1] == 2 else "macro AUC"
            roc.plot(fpr, tpr, label=f"{name} ({kind} {area:.4f})", **style)
    # A little room beyond [0, 1], so a curve hugging an edge (a near-perfect model) shows.
    room = (-0.02, 1.02)
    calibration.set(title="Calibration", xlabel="predicted probability",
                    ylabel="observed frequency", xlim=room, ylim=room)
    roc.set(title="ROC", xlabel="false positive rate", ylabel="true positive rate",
            xlim=room, ylim=room)
    for axes in (calibration, roc):
        axes.grid(alpha=0.3)
        axes.legend(fontsize="small", loc="lower right")
    figure.suptitle(f"Held-out probabilities ({comparison.target})")
    figure.tight_layout()
    return figure


def _roc_curve(codes: np.ndarray, proba: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The ROC curve of the positive class, or the macro average of the one-vs-rest curves."""
    if proba.shape[1] == 2:
        fpr, tpr, _ = roc_curve(codes, proba[:, 1])
        return fpr, tpr
    grid = np.linspace(0.0, 1.0, 201)
    curves = []
    for k in range(proba.shape[1]):
        fpr, tpr, _ = roc_curve(codes == k, proba[:, k])
        curves.append(np.interp(grid, fpr, tpr))
    return grid, np.mean(curves, axis=0)


def figures(comparison: Comparison) -> dict[str, Figure]:
    """Every plot of a comparison, keyed by a title, in reading order."""
    result = {"Learning curves": learning_curves(comparison)}
    for name, fitted in comparison.fits.items():
        if fitted.spec.is_regression:
            result[f"Coefficients of {name}"] = coefficient_plot(fitted, name)
    if comparison.family is not None and comparison.folds:
        if comparison.family.is_classifier:
            result["Calibration and ROC"] = class_plots(comparison)
        else:
            result["Predicted vs actual, residuals"] = prediction_plots(comparison)
    return result


def _cycle():
    while True:
        yield from COLORS


def _sample(n_rows: int, seed: int) -> np.ndarray:
    if n_rows <= MOST_POINTS:
        return np.arange(n_rows)
    rng = np.random.default_rng(derive(seed, "bootstrap", 1))
    return np.sort(rng.choice(n_rows, size=MOST_POINTS, replace=False))


def _positive(comparison: Comparison) -> bool:
    """Whether every loss is > 0 (a log axis needs it; a Poisson loss can be negative)."""
    for fits in comparison.fold_fits.values():
        for fitted in fits:
            losses = fitted.history[["loss", "val_loss"]].to_numpy()
            if (losses[np.isfinite(losses)] <= 0).any():
                return False
    return True


__all__ = ["class_plots", "coefficient_plot", "figures", "learning_curves", "png",
           "prediction_plots"]
