"""A comparison at a glance in a notebook: the verdicts, the held-out scores, training."""

from __future__ import annotations

from degenet import display


def comparison_html(comparison) -> str:
    """The verdict badges and sentences first, then the scores and the training table."""
    parts = [display.facts([("target", comparison.target), ("design", comparison.design),
                            ("seed", comparison.seed)])]
    parts += [verdict.html_block() for verdict in comparison.verdicts]
    if comparison.scores is not None:
        parts += [display.heading(f"held-out scores ({comparison.design}; deviance per "
                                  "observation, lower is better)"),
                  display.table(comparison.scores)]
    parts += [display.heading("training"), display.table(comparison.table)]
    models = ", ".join(comparison.fits)
    return display.card(f"degenet comparison: {models}", *parts)


def comparison_line(comparison) -> str:
    """One line for ``repr``: the models, the design and what each verdict prefers."""
    verdicts = "; ".join(f"{v.network} vs {v.regression}: prefer {v.prefer}"
                         for v in comparison.verdicts) or "no verdict"
    return (f"<Comparison of {', '.join(comparison.fits)} on {comparison.target!r} "
            f"({comparison.design}): {verdicts}>")
