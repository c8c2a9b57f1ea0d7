"""The post's experiment: balloons bought by people, four models, and what theory expects.

The generator (:func:`degenet.datasets.balloons`) mixes two linear branches, one per
relationship status, each with probability 1/2. Children and age are independent,
uniform on [-0.5, 0.5] (variance 1/12), so the best linear fit averages the branches:

    children: (partnered_children + 0.8) / 2        age: (-0.2 + 0.5) / 2 = 0.15
    relationship and intercept: 0 (both branches have mean 0)
    MSE: E[(d_c * children + d_a * age)^2] = (d_c^2 + d_a^2) / 12,
         with d_c = (partnered_children - 0.8) / 2 and d_a = -0.35, the half-gaps.

For ``color`` only the direction of the logistic coefficients is identified by the
branches' boundaries (0.8, 0.2) and (0.5, 0.5); the post compares the children/age ratio
with the averaged boundary 0.65 / 0.35.
"""

from __future__ import annotations

from dataclasses import dataclass

from degenet.comparison.comparison import CompareProgress, Comparison, compare
from degenet.datasets import balloons

FEATURES = ["relationship", "children", "age"]
MODELS = {"num_balloons": ["linear", "mlp"], "color": ["logistic", "mlp"]}

# The figures the post printed (its listing's run; its data used partnered_children = 0.1).
POST = {
    ("num_balloons", "linear"): {"val_loss": 0.0207, "relationship": -0.00324172,
                                 "children": 0.43457505, "age": 0.1423042,
                                 "intercept": 0.00032589},
    ("num_balloons", "mlp"): {"val_loss": 1.1776e-04},
    ("color", "logistic"): {"val_loss": 0.1969, "relationship": 0.02176554,
                            "children": 14.170614, "age": 8.668548, "intercept": 0.02175274},
    ("color", "mlp"): {"val_loss": 0.0098},
}


@dataclass(frozen=True)
class Finding:
    """One figure of the run set against what it should be."""

    name: str
    value: float
    expected: float
    tolerance: float
    source: str  # "theory" or "post"

    @property
    def agrees(self) -> bool:
        return abs(self.value - self.expected) <= self.tolerance


@dataclass(frozen=True)
class Demo:
    """The run: its settings, the two comparisons (keyed by target) and its findings."""

    n: int
    seed: int
    partnered_children: float
    comparisons: dict[str, Comparison]

    @property
    def findings(self) -> list[Finding]:
        return findings(self)


def theory(partnered_children: float = 1.0) -> dict[str, float]:
    """The best linear fit of ``num_balloons`` and its MSE; the logistic's direction."""
    gap_children, gap_age = (partnered_children - 0.8) / 2, (-0.2 - 0.5) / 2
    return {"children": (partnered_children + 0.8) / 2, "age": 0.15, "relationship": 0.0,
            "intercept": 0.0, "mse": (gap_children**2 + gap_age**2) / 12,
            "color_ratio": 0.65 / 0.35}


def run_demo(n: int = 100_000, *, seed: int = 0, partnered_children: float = 1.0,
             progress: CompareProgress | None = None, **training) -> Demo:
    """Generate the post's data and fit its four models (two per target, shared splits)."""
    data = balloons(n, seed=seed, partnered_children=partnered_children)
    comparisons = {
        target: compare(data, target, models=models, features=FEATURES, seed=seed,
                        progress=_labelled(progress, target), **training)
        for target, models in MODELS.items()}
    return Demo(n=n, seed=seed, partnered_children=partnered_children, comparisons=comparisons)


def _labelled(progress: CompareProgress | None, target: str) -> CompareProgress | None:
    """Progress labels that say the target too: both targets have an ``mlp``."""
    if progress is None:
        return None
    return lambda model, done, total: progress(f"{target} {model}", done, total)


def findings(demo: Demo) -> list[Finding]:
    """What the run found against theory (and against the post's printed figures)."""
    expect = theory(demo.partnered_children)
    linear = demo.comparisons["num_balloons"].fits["linear"]
    beta = linear.coefficients["estimate"]
    logistic = demo.comparisons["color"].fits["logistic"].coefficients["estimate"]
    result = [Finding(name=f"linear {term}", value=float(beta[term]), expected=expect[term],
                      tolerance=0.05, source="theory")
              for term in ("children", "age", "relationship", "intercept")]
    result.append(Finding(name="linear val MSE", value=linear.val_loss, expected=expect["mse"],
                          tolerance=0.1 * expect["mse"], source="theory"))
    result.append(Finding(name="logistic children/age",
                          value=float(logistic["children"] / logistic["age"]),
                          expected=expect["color_ratio"], tolerance=0.45, source="theory"))
    return result


def network_gains(demo: Demo) -> dict[str, tuple[float, float]]:
    """Validation loss of the regression and of the network, per target."""
    return {target: (comparison.fits[MODELS[target][0]].val_loss,
                     comparison.fits["mlp"].val_loss)
            for target, comparison in demo.comparisons.items()}
