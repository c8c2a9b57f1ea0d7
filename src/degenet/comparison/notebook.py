"""A comparison at a glance in a notebook: the verdicts, the proposed regressions, the
effects and missed terms, the held-out scores, training."""

from __future__ import annotations

import pandas as pd

from degenet import display


def comparison_html(comparison) -> str:
    """The verdict badges and sentences first, then the scores and the training table."""
    parts = [display.facts([("target", comparison.target), ("design", comparison.design),
                            ("seed", comparison.seed)])]
    parts += [verdict.html_block() for verdict in comparison.verdicts]
    parts += _explanation_html(comparison.explanation)
    if comparison.scores is not None:
        parts += [display.heading(f"held-out scores ({comparison.design}; deviance per "
                                  "observation, lower is better)"),
                  display.table(comparison.scores)]
    parts += [display.heading("training"), display.table(comparison.table)]
    models = ", ".join(comparison.fits)
    return display.card(f"degenet comparison: {models}", *parts)


PROPOSED = {"regression": "prefer the proposed regression", "network": "prefer the network",
            "either": "the proposed regression, if the gap is acceptable"}
MOST_RANKED = 5


def _explanation_html(explanation) -> list[str]:
    """The proposals' badges and sentences, the average effects (one column per model) and
    each network's strongest terms; the report has the intervals and the plots."""
    if explanation is None:
        return []
    parts = []
    for proposal in explanation.proposals.values():
        parts += [f'<div style="margin:0.3em 0">'
                  f'{display.badge(PROPOSED[proposal.prefer], proposal.prefer)}</div>',
                  display.paragraph(proposal.sentence)]
    effects = explanation.effects
    if len(effects):
        label = [term if pd.isna(of_class) else f"{term} -> P({of_class})"
                 for term, of_class in zip(effects["term"], effects["class"])]
        wide = effects.assign(input=label).pivot_table(
            index="input", columns="model", values="effect", sort=False)
        parts += [display.heading("average effect of each input on the mean (per unit, or "
                                  "of the switch)"),
                  display.table(wide[list(dict.fromkeys(effects["model"]))], spec=".3g")]
    for network, ranking in explanation.rankings.items():
        if len(ranking):
            top = ranking.head(MOST_RANKED)
            shown = pd.DataFrame({"% of variation": 100 * top["strength"].to_numpy(),
                                  "H": top["h"].to_numpy(),
                                  "proposed": ["yes" if s else "" for s in top["supported"]]},
                                 index=pd.Index(top["term"], name="term"))
            parts += [display.heading(f"what the regression misses: terms {network} uses"),
                      display.table(shown, spec=".2g")]
    return parts


def comparison_line(comparison) -> str:
    """One line for ``repr``: the models, the design and what each verdict prefers."""
    verdicts = "; ".join(f"{v.network} vs {v.regression}: prefer {v.prefer}"
                         for v in comparison.verdicts) or "no verdict"
    return (f"<Comparison of {', '.join(comparison.fits)} on {comparison.target!r} "
            f"({comparison.design}): {verdicts}>")
