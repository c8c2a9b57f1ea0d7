"""``degenet.compare``: several rungs of the ladder on one table and one split."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

import pandas as pd

from degenet.errors import DegenetError
from degenet.families import Family, get_family, infer_family
from degenet.fitting import Fit, Prepared, choose_family, fit_prepared, prepare, settings_from
from degenet.randomness import check_seed
from degenet.specs import ModelSpec, parse_specs
from degenet.split import validation_split

# (model spec text, epochs done, max epochs)
CompareProgress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Comparison:
    """Models fitted on the same rows and the same validation split.

    Attributes
    ----------
    target : str
    fits : dict of str to Fit
        Keyed by the model spec text, in the order given.
    seconds : dict of str to float
        Wall time of each fit.
    """

    target: str
    fits: dict[str, Fit]
    seconds: dict[str, float]

    @property
    def table(self) -> pd.DataFrame:
        """One row per model: family, parameters, epochs, best epoch, losses, time."""
        rows = []
        for name, fitted in self.fits.items():
            history = fitted.history
            best = fitted.training.best_epoch
            rows.append({
                "model": name,
                "family": fitted.family.name,
                "parameters": int(fitted.model.count_params()),
                "epochs": fitted.epochs,
                "best_epoch": best,
                "loss": float(history["loss"].iloc[best - 1]) if best else float("nan"),
                "val_loss": fitted.val_loss,
                "seconds": self.seconds[name],
            })
        return pd.DataFrame(rows).set_index("model")

    @property
    def best(self) -> str:
        """The model with the lowest validation loss (among those of the first's family)."""
        family = next(iter(self.fits.values())).family
        losses = {name: f.val_loss for name, f in self.fits.items() if f.family is family}
        return min(losses, key=losses.get)


def default_models(family: Family) -> list[str]:
    """The family's regression and the default network."""
    return [family.regression, "mlp"]


def compare(data, target: str, *, models: str | list | None = None,
            family: str | Family | None = None, features: list[str] | None = None,
            seed: int = 0, progress: CompareProgress | None = None, **training) -> Comparison:
    """Fit several models on one shared split and put them side by side.

    Parameters
    ----------
    models : str or list, optional
        Specs such as ``["linear", "mlp"]`` or ``"logistic,mlp:64,32"``; default: the
        regression of the target's family and ``mlp``.
    Other parameters are those of :func:`degenet.fit`.
    """
    prepared = prepare(data, target, features=features)
    seed = check_seed(seed)
    settings = settings_from(training)
    inferred = get_family(family) if family is not None else infer_family(prepared.target)
    specs = parse_specs(models if models is not None else default_models(inferred))
    names = [spec.text for spec in specs]
    if len(set(names)) != len(names):
        raise DegenetError(f"model specs repeat: {', '.join(names)}; give each once")
    families = [choose_family(spec, prepared.target, family) for spec in specs]
    # One split for all: stratified on the classes when the first model is a classifier.
    first = families[0].encode_target(prepared.target)
    train_rows, val_rows = validation_split(
        first.y, validation=settings.validation, stratify=families[0].is_classifier, seed=seed)
    fits, seconds = {}, {}
    for spec, chosen in zip(specs, families):
        fits[spec.text], seconds[spec.text] = _timed_fit(
            prepared, spec, chosen, train_rows, val_rows, settings, seed, progress)
    return Comparison(prepared.encoding.target, fits, seconds)


def _timed_fit(prepared: Prepared, spec: ModelSpec, family: Family, train_rows, val_rows,
               settings, seed, progress):
    report = (lambda done, total: progress(spec.text, done, total)) if progress else None
    start = time.perf_counter()
    fitted = fit_prepared(prepared, spec, family, family.encode_target(prepared.target),
                          train_rows, val_rows, settings, seed=seed, progress=report)
    return fitted, time.perf_counter() - start


__all__ = ["Comparison", "compare", "default_models"]
