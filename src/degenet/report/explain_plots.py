"""Plots of what the networks do: effects, the interaction ranking, the proposed regression.

Drawn off-screen as :class:`matplotlib.figure.Figure`, as :mod:`degenet.report.plots`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from degenet.comparison.comparison import Comparison
from degenet.report.explained import term_label
from degenet.report.plots import COLORS

MOST_TERMS = 12  # bars in the ranking plot


def effect_plot(comparison: Comparison) -> Figure:
    """Each input's average effect on the mean with its interval, every model side by side.

    Effects are scaled so inputs in different units share one axis: a number's slope times
    its standard deviation, a two-valued number's change from its low to its high value, a
    category's change from the reference level.
    """
    effects = comparison.explanation.effects
    classes = [c for c in effects["class"].unique() if c is not None] or [None]
    terms = list(dict.fromkeys(effects["term"]))
    models = list(dict.fromkeys(effects["model"]))
    figure = Figure(figsize=(6.8 * len(classes), 0.42 * len(terms) * len(models) ** 0.5 + 1.8))
    panels = figure.subplots(1, len(classes), squeeze=False)[0]
    for axes, label in zip(panels, classes):
        rows = effects if label is None else effects[effects["class"] == label]
        _effect_panel(axes, rows, terms, models)
        axes.set(title="Average effects" + ("" if label is None else f": P({label})"),
                 xlabel="change in the mean: per SD of a number, or per switch of level")
    panels[0].legend(fontsize="small", loc="best")
    figure.tight_layout()
    return figure


def _effect_panel(axes, rows: pd.DataFrame, terms: list[str], models: list[str]) -> None:
    step = 0.8 / max(len(models), 1)
    for k, model in enumerate(models):
        mine = rows[rows["model"] == model].set_index("term").reindex(terms)
        scale = mine["scale"].to_numpy(float)
        position = np.arange(len(terms))[::-1] + 0.4 - step * (k + 0.5)
        effect = mine["effect"].to_numpy(float) * scale
        low, high = mine["ci_low"].to_numpy(float) * scale, mine["ci_high"].to_numpy(float) * scale
        known = np.isfinite(low) & np.isfinite(high)
        color = COLORS[k % len(COLORS)]
        axes.plot(effect, position, "o", color=color, label=model, markersize=5)
        axes.hlines(position[known], low[known], high[known], color=color, linewidth=2)
    axes.axvline(0.0, color="#999", linewidth=0.8)
    axes.set_yticks(np.arange(len(terms))[::-1], terms)
    axes.grid(axis="x", alpha=0.3)


def interaction_plot(ranking: pd.DataFrame, network: str) -> Figure:
    """The strongest interactions and nonlinearities of a network, as shares of its variation."""
    top = ranking.head(MOST_TERMS)
    figure = Figure(figsize=(7.2, 0.38 * max(len(top), 1) + 1.6))
    axes = figure.add_subplot()
    position = np.arange(len(top))[::-1]
    colors = ["#1f9d55" if supported else "#b8c0cc" for supported in top["supported"]]
    axes.barh(position, 100 * top["strength"].to_numpy(float), color=colors)
    labels = [term_label(*row) for row in zip(top["term"], top["kind"], top["variables"])]
    axes.set_yticks(position, labels)
    axes.set(title=f"What {network} adds to a regression (green: proposed)",
             xlabel="share of the network's variation on the logit / link scale (%)")
    axes.grid(axis="x", alpha=0.3)
    figure.tight_layout()
    return figure


def proposal_plot(comparison: Comparison) -> Figure:
    """Held-out deviance against each network: the regression's and the proposal's, with
    their intervals and the margin that matters."""
    proposals = comparison.explanation.proposals
    verdicts = [v for v in comparison.verdicts if v.network in proposals]
    figure = Figure(figsize=(7.2, 1.1 * len(verdicts) + 1.9))
    axes = figure.add_subplot()
    labels = []
    for k, verdict in enumerate(verdicts):
        proposal = proposals[verdict.network]
        rows = [(f"{verdict.regression} - {verdict.network}", -verdict.loss_difference,
                 -verdict.ci_high, -verdict.ci_low, COLORS[1]),
                (f"{proposal.model} - {verdict.network}", proposal.loss_difference,
                 proposal.ci_low, proposal.ci_high, COLORS[2])]
        for j, (label, value, low, high, color) in enumerate(rows):
            y = -(2 * k + j)
            axes.plot([value], [y], "o", color=color)
            axes.hlines(y, low, high, color=color, linewidth=2)
            labels.append((y, label))
        axes.axvspan(-verdict.margin, verdict.margin, color="#e3e6ec", zorder=0)
    axes.axvline(0.0, color="#333", linewidth=0.8)
    axes.set_yticks([y for y, _ in labels], [label for _, label in labels])
    axes.set_xscale("symlog", linthresh=max(min((v.margin for v in verdicts), default=1e-3),
                                             1e-12))
    axes.set(title="Held-out deviance per observation, minus the network's (grey: margin)",
             xlabel="difference (left of 0: better than the network)")
    axes.grid(axis="x", alpha=0.3)
    figure.tight_layout()
    return figure


def explanation_figures(comparison: Comparison) -> dict[str, Figure]:
    """The explanation's plots, keyed by a title, in reading order (none without one)."""
    explanation = comparison.explanation
    if explanation is None:
        return {}
    result = {}
    if len(explanation.effects):
        result["Average effects"] = effect_plot(comparison)
    for network, ranking in explanation.rankings.items():
        if len(ranking):
            result[f"Interactions and nonlinearities of {network}"] = interaction_plot(
                ranking, network)
    if explanation.proposals:
        result["Proposed regression against the network"] = proposal_plot(comparison)
    return result


__all__ = ["effect_plot", "explanation_figures", "interaction_plot", "proposal_plot"]
