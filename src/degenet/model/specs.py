"""Model specs: the rungs of the ladder, written as short strings.

``linear``, ``logistic``, ``softmax`` and ``poisson`` are single-layer (degenerate)
networks: one Dense layer under the family's head, i.e. the regression itself.
``mlp`` puts the default hidden layers under the same head; ``mlp:64,32`` names them.
"""

from __future__ import annotations

from dataclasses import dataclass

from degenet.errors import DegenetError
from degenet.model.families import FAMILIES, Family

REGRESSIONS: dict[str, tuple[str, ...]] = {
    # spec -> the families it can stand for (logistic covers the multinomial logit too)
    "linear": ("gaussian",),
    "logistic": ("bernoulli", "categorical"),
    "softmax": ("categorical",),
    "poisson": ("poisson",),
}
DEFAULT_HIDDEN = (64, 32)


@dataclass(frozen=True)
class ModelSpec:
    """A parsed spec: its text, and the widths of its hidden layers (empty for a regression)."""

    text: str
    hidden: tuple[int, ...] = ()

    @property
    def is_regression(self) -> bool:
        return not self.hidden

    def family_for(self, inferred: Family, named: Family | None = None) -> Family:
        """The family this spec trains: the one it implies, else the named or inferred one."""
        if not self.is_regression:
            return named or inferred
        allowed = REGRESSIONS[self.text]
        if named is not None:
            if named.name not in allowed:
                raise DegenetError(
                    f"model {self.text!r} is a {' or '.join(allowed)} regression; it cannot "
                    f"train family={named.name!r} (use model={named.regression!r} or 'mlp')")
            return named
        if inferred.name in allowed:
            return inferred
        return FAMILIES[allowed[0]]


def parse_spec(spec: str | ModelSpec) -> ModelSpec:
    """Parse ``linear``, ``logistic``, ``softmax``, ``poisson``, ``mlp`` or ``mlp:64,32``."""
    if isinstance(spec, ModelSpec):
        return spec
    text = str(spec).strip().lower().replace(" ", "")
    if text in REGRESSIONS:
        return ModelSpec(text)
    if text == "mlp":
        return ModelSpec(text, DEFAULT_HIDDEN)
    if text.startswith("mlp:"):
        try:
            hidden = tuple(int(width) for width in text[4:].split(","))
        except ValueError:
            hidden = ()
        if hidden and all(width > 0 for width in hidden):
            return ModelSpec(text, hidden)
        raise DegenetError(
            f"model spec {spec!r} has bad hidden layer widths; write them as positive "
            "integers, e.g. 'mlp:64,32'")
    raise DegenetError(
        f"unknown model spec {spec!r}; choose one of: {', '.join(REGRESSIONS)}, mlp, "
        "or mlp:W1,W2,... (hidden layer widths)")


def parse_specs(specs: str | list) -> list[ModelSpec]:
    """A comma list (``linear,mlp``) or a list of specs; ``mlp:64,32`` keeps its commas."""
    if not isinstance(specs, (str, list, tuple)):
        raise DegenetError(f"models must be a comma list of specs ('linear,mlp') or a list of "
                           f"them; received models={specs!r}")
    if isinstance(specs, str):
        parts, items = [], specs.split(",")
        for item in items:
            if parts and item.strip().isdigit() and parts[-1].startswith("mlp:"):
                parts[-1] += "," + item.strip()
            else:
                parts.append(item.strip())
        specs = parts
    parsed = [parse_spec(spec) for spec in specs]
    if not parsed:
        raise DegenetError("no model specs given; e.g. models=['linear', 'mlp']")
    return parsed
