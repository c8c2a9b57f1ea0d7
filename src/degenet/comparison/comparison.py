"""``degenet.compare``: several rungs of the ladder on one table, scored the same way.

Every model trains on the same rows and is scored on the same held-out rows by the one
implementation of each metric in :mod:`degenet.comparison.metrics`; an intercept-only baseline,
computed from the training rows, is always scored beside them. Each network is then set
against its family's regression (:mod:`degenet.comparison.verdict`).

Two designs:

* ``cv=None`` (default): one shuffled split, stratified for classes. The held-out rows are
  the validation rows, which early stopping also watches (as in Keras): both models get
  the same small benefit from choosing their best epoch on them.
* ``cv=K``: ``repeats`` times K shuffled (stratified) folds, seeded by
  ``derive(seed, "folds", repeat)``. Each fold's held-out rows are used only for scoring;
  early stopping watches a ``validation`` share of that fold's training rows.
"""

from __future__ import annotations

import inspect
import re
import time
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd
from sklearn.model_selection import KFold, StratifiedKFold

from degenet.errors import DegenetError
from degenet.exact.robust import check_cov_type
from degenet.model.families import Family, get_family, infer_family
from degenet.checks import is_integer, positive_int
from degenet.data.prepare import Prepared, prepare
from degenet.fitting import Fit, Task, choose_family, fit_prepared, settings_from
from degenet.comparison.metrics import baseline_eta, score, unit_deviance
from degenet.randomness import check_seed, derive
from degenet.model.specs import ModelSpec, parse_specs
from degenet.data.split import validation_split
from degenet.comparison.verdict import CONFIDENCE, TOLERANCE, Verdict, judge
from degenet.comparison.stream import compare_stream
from degenet.streaming import in_memory, streams

# (label, epochs done, max epochs); the label is the spec, plus " fold k/n" under cv.
CompareProgress = Callable[[str, int, int], None]

BASELINE = "baseline"


@dataclass(frozen=True)
class Fold:
    """One held-out part of the rows and every model's linear predictor on it.

    Attributes
    ----------
    number : int
        1-based, counting across repeats.
    repeat : int
        0-based repeat of the K folds.
    train_rows, test_rows : ndarray
        Positions in the prepared table; ``test_rows`` are only scored.
    eta : dict of str to ndarray
        ``(n_test,)`` or ``(n_test, n_classes)`` per model, and for ``"baseline"``.
    """

    number: int
    repeat: int
    train_rows: np.ndarray
    test_rows: np.ndarray
    eta: dict[str, np.ndarray]


@dataclass(frozen=True)
class Comparison:
    """Models fitted on the same rows and scored on the same held-out rows.

    Attributes
    ----------
    target : str
    fits : dict of str to Fit
        Keyed by the model spec text, in the order given; under ``cv`` the fits of the
        first fold (every fold's fits are in ``fold_fits``).
    seconds : dict of str to float
        Wall time of each model's fits, all folds together.
    family : Family
        The first model's family; the baseline is of this family.
    y : dict of str to ndarray
        The encoded target ``(n_samples,)`` per family name.
    folds : tuple of Fold
        One for a single split; ``cv * repeats`` under cross-validation.
    scores : DataFrame
        Held-out metrics, one row per model with ``"baseline"`` first, averaged over folds.
    verdicts : tuple of Verdict
        Each network against its family's regression.
    """

    target: str
    fits: dict[str, Fit]
    seconds: dict[str, float]
    family: Family | None = None
    y: dict[str, np.ndarray] = field(default_factory=dict)
    folds: tuple[Fold, ...] = ()
    fold_fits: dict[str, tuple[Fit, ...]] = field(default_factory=dict)
    cv: int | None = None
    repeats: int = 1
    seed: int = 0
    scores: pd.DataFrame | None = None
    verdicts: tuple[Verdict, ...] = ()

    @property
    def table(self) -> pd.DataFrame:
        """One row per model: family, parameters, epochs, best epoch, losses, time."""
        rows = []
        for name, fitted in self.fits.items():
            history = fitted.history
            best = fitted.best_epoch
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

    @property
    def design(self) -> str:
        """``"one split"`` or ``"5-fold CV x 2"``: how the rows were held out."""
        if self.cv is None:
            return "one split"
        return f"{self.cv}-fold CV" + (f" x {self.repeats}" if self.repeats > 1 else "")

    def family_of(self, model: str) -> Family:
        """The family a model (or ``"baseline"``) was scored in."""
        return self.family if model == BASELINE else self.fits[model].family

    def held_out(self, model: str, repeat: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """``(y, eta)`` of ``model`` on every held-out row of one repeat, in row order.

        Under ``cv`` every row is held out once per repeat (out-of-fold predictions).
        """
        folds = [f for f in self.folds if f.repeat == repeat]
        if not folds or model not in folds[0].eta:
            raise DegenetError(
                f"no held-out predictions for model={model!r}, repeat={repeat!r}; models: "
                f"{', '.join(self.folds[0].eta) if self.folds else 'none'}")
        rows = np.concatenate([f.test_rows for f in folds])
        order = np.argsort(rows, kind="stable")
        eta = np.concatenate([f.eta[model] for f in folds])[order]
        return self.y[self.family_of(model).name][rows[order]], eta


def default_models(family: Family) -> list[str]:
    """The family's regression and the default network."""
    return [family.regression, "mlp"]


def compare(data, target: str | None = None, *, models: str | list | None = None,
            family: str | Family | None = None, seed: int = 0, cv: int | None = None,
            repeats: int = 1, solver: str = "gd", confidence: float = CONFIDENCE,
            tolerance: float = TOLERANCE, progress: CompareProgress | None = None,
            cov_type: str = "nonrobust", stream=None, **options) -> Comparison:
    """Fit several models on the same rows, score them alike and judge the networks.

    Parameters
    ----------
    models : str or list, optional
        Specs such as ``["linear", "mlp"]`` or ``"logistic,mlp:64,32"``; default: the
        regression of the target's family and ``mlp``.
    cv : int, optional
        K for K-fold cross-validation (stratified for classes); default one split.
    repeats : int
        How many times the K folds are drawn afresh (only with ``cv``).
    solver : {'gd', 'exact'}
        How the regressions are fitted: gradient descent like the networks, or their exact
        optimum (the regression at its best). Networks always train by gradient descent.
    confidence, tolerance : float
        The verdict's interval level, and the smallest difference that matters as a share
        of the regression's deviance (see :mod:`degenet.comparison.verdict`).
    cov_type : str
        The regressions' std errors (:func:`degenet.fit`'s ``cov_type``; ``groups`` is an
        option of the table).
    stream : bool or StreamSettings, optional
        A Parquet dataset is streamed as :func:`degenet.fit` streams it
        (:mod:`degenet.comparison.stream`); one split only.
    **options
        Those of :func:`degenet.fitting.prepare` (``features``, ...) and the
        :class:`~degenet.train.settings.TrainSettings` fields.
    """
    check_cov_type(cov_type, options.get("groups"))
    if streams(data, stream):  # every model on one streamed split (comparison/stream.py)
        held = compare_stream(data, target, models=models, family=family, seed=seed, cv=cv,
                              repeats=repeats, solver=solver, progress=progress,
                              cov_type=cov_type, stream=stream, options=options)
        return _judged(held.target, {n: [f] for n, f in held.fits.items()}, held.seconds,
                       held.first, held.y, [Fold(1, 0, held.train_rows, held.rows, held.eta)],
                       held.families, held.specs, cv=None, repeats=1, seed=held.seed,
                       judging=(confidence, tolerance))
    data = in_memory(data)
    reading = set(inspect.signature(prepare).parameters) - {"data", "target"}
    prepared = prepare(data, target, **{k: v for k, v in options.items() if k in reading})
    settings = settings_from({k: v for k, v in options.items() if k not in reading})
    seed = check_seed(seed)
    _check_design(cv, repeats, len(prepared.target))
    inferred = get_family(family) if family is not None else infer_family(prepared.target)
    specs = parse_specs(models if models is not None else default_models(inferred))
    names = [spec.text for spec in specs]
    if len(set(names)) != len(names):
        raise DegenetError(f"model specs repeat: {', '.join(names)}; give each once")
    families = [choose_family(spec, prepared.target, family) for spec in specs]
    encoded = {f.name: f.encode_target(prepared.target) for f in families}
    first = families[0]
    plan = _plan(encoded[first.name].y, first.is_classifier, settings.validation, seed, cv,
                 repeats)
    run = _Run(prepared=prepared, settings=settings, seed=seed, progress=progress,
               n_folds=len(plan), solver=solver, cov_type=cov_type)
    folds, fold_fits, seconds = [], {name: [] for name in names}, dict.fromkeys(names, 0.0)
    with _once_per_kind(len(plan)):
        for number, (repeat, train, val, test) in enumerate(plan, start=1):
            offset = prepared.offset
            eta = {BASELINE: baseline_eta(
                first, encoded[first.name].y[train], len(test), encoded[first.name].n_classes,
                offset=None if offset is None else offset[train],
                test_offset=None if offset is None else offset[test])}
            for spec, chosen in zip(specs, families):
                fitted, took = run.fit(spec, chosen, encoded[chosen.name], train, val, number)
                fold_fits[spec.text].append(fitted)
                seconds[spec.text] += took
                eta[spec.text] = held_out_eta(fitted, prepared.X[test],
                                              None if offset is None else offset[test])
            folds.append(Fold(number=number, repeat=repeat, train_rows=train, test_rows=test,
                              eta=eta))
    y = {name: target_.y for name, target_ in encoded.items()}
    return _judged(prepared.encoding.target, fold_fits, seconds, first, y, folds,
                   dict(zip(names, families)), specs, cv=cv, repeats=repeats, seed=seed,
                   judging=(confidence, tolerance))


def _judged(target, fold_fits, seconds, first, y, folds, families, specs, *, cv, repeats,
            seed, judging) -> Comparison:
    """The comparison of the models' held-out predictions: scores, then verdicts."""
    scores = score_table(folds, y, first, families)
    verdicts = tuple(_verdicts(folds, y, families, specs, scores, seed, *judging))
    return Comparison(target=target, fits={n: f[0] for n, f in fold_fits.items()},
                      seconds=seconds, family=first, y=y, folds=tuple(folds),
                      fold_fits={n: tuple(f) for n, f in fold_fits.items()}, cv=cv,
                      repeats=repeats if cv else 1, seed=seed, scores=scores,
                      verdicts=verdicts)


def _check_design(cv, repeats, n_samples: int) -> None:
    if cv is not None and (not is_integer(cv) or not 2 <= cv <= n_samples):
        raise DegenetError(
            f"cv must be a whole number of folds from 2 to the {n_samples} rows (e.g. cv=5), "
            f"or None for one split; received cv={cv!r}")
    positive_int("repeats", repeats)
    if repeats > 1 and cv is None:
        raise DegenetError(f"repeats={repeats} needs cv (e.g. cv=5); one split is not repeated")


@contextmanager
def _once_per_kind(n_folds: int):
    """Under cv, each kind of warning once per model, saying in how many folds it arose.

    Ten folds that each stop short of convergence are one finding, not ten; the first
    fold's message is kept with its figures. One split passes warnings through untouched.
    """
    if n_folds == 1:
        yield
        return
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    groups: dict[tuple, list] = {}
    for warning in caught:
        head, sep, tail = str(warning.message).partition("': ")
        key = (warning.category, head + sep + re.sub(r"\d[\d.e+-]*", "#", tail))
        groups.setdefault(key, []).append(warning)
    for (category, _), items in groups.items():
        note = (f" (in {len(items)} of {n_folds} folds; the figures are the first's)"
                if len(items) > 1 else "")
        warnings.warn(f"{items[0].message}{note}", category, stacklevel=4)


def _plan(y: np.ndarray, stratify: bool, validation: float, seed: int, cv: int | None,
          repeats: int) -> list[tuple[int, np.ndarray, np.ndarray, np.ndarray]]:
    """``(repeat, train, val, test)`` row indices for each fold; ``val`` is early stopping's.

    With one split, ``test`` is ``val``. With folds, ``val`` is a ``validation`` share of
    the fold's training rows, so the test rows are only ever scored.
    """
    if cv is None:
        train, val = validation_split(y, validation=validation, stratify=stratify, seed=seed)
        return [(0, train, val, val)]
    plan = []
    for repeat in range(repeats):
        folds = _splitter(y, stratify, cv, derive(seed, "folds", repeat))
        for k, (outer, test) in enumerate(folds.split(np.zeros(len(y)), y)):
            inner_train, inner_val = validation_split(
                y[outer], validation=validation, stratify=stratify,
                seed=derive(seed, "folds", 1000 + repeat * cv + k))
            plan.append((repeat, outer[inner_train], outer[inner_val], np.sort(test)))
    return plan


def _splitter(y: np.ndarray, stratify: bool, cv: int, random_state: int):
    if stratify and np.bincount(y.astype(np.int64)).min(initial=cv) >= cv:
        return StratifiedKFold(cv, shuffle=True, random_state=random_state)
    return KFold(cv, shuffle=True, random_state=random_state)  # a class too small to stratify


@dataclass(frozen=True)
class _Run:
    """What every fit of one comparison shares; reports progress per fit and fold."""

    prepared: Prepared
    settings: object
    seed: int
    progress: CompareProgress | None
    n_folds: int
    solver: str = "gd"
    cov_type: str = "nonrobust"

    def fit(self, spec: ModelSpec, family: Family, encoded, train, val, number: int):
        label = spec.text if self.n_folds == 1 else f"{spec.text} fold {number}/{self.n_folds}"
        report = (lambda done, total: self.progress(label, done, total)) if self.progress else None
        start = time.perf_counter()
        task = Task(spec=spec, family=family, target=encoded, train_rows=train, val_rows=val,
                    settings=self.settings, seed=self.seed,
                    intercept=self.prepared.encoding.intercept,
                    solver=self.solver if spec.is_regression else "gd",
                    cov_type=self.cov_type)
        fitted = fit_prepared(self.prepared, task, progress=report)
        if self.progress:  # early stopping ends before max_epochs: mark the fit done
            done = max(fitted.epochs, 1)
            self.progress(label, done, done)
        return fitted, time.perf_counter() - start


def held_out_eta(fitted: Fit, X: np.ndarray, offset: np.ndarray | None = None) -> np.ndarray:
    """The fit's linear predictor on design rows ``X`` (and their ``offset``): ``(n,)`` or
    ``(n, n_classes)``."""
    return np.asarray(fitted.design_eta(X, offset), dtype=np.float64)


def score_table(folds: list[Fold], y: dict[str, np.ndarray], family: Family,
                families: dict[str, Family]) -> pd.DataFrame:
    """Held-out metrics per model, ``"baseline"`` first, the mean over folds.

    Under cross-validation each metric is computed on each fold's held-out rows and
    averaged; ``<metric>_sd`` columns give its standard deviation across folds.
    """
    every = {BASELINE: family, **families}
    rows = [{"model": name, "fold": fold.number, "family": every[name].name,
             **score(every[name], y[every[name].name][fold.test_rows], fold.eta[name])}
            for fold in folds for name in every]
    frame = pd.DataFrame(rows)
    metrics = [c for c in frame.columns if c not in ("model", "fold", "family")]
    grouped = frame.groupby("model", sort=False)
    table = grouped[["family"]].first().join(grouped[metrics].mean())
    if len(folds) > 1:
        table = table.join(grouped[metrics].std(ddof=1).add_suffix("_sd"))
    table.insert(1, "held_out_rows", [sum(len(f.test_rows) for f in folds)] * len(table))
    return table


def _verdicts(folds, y, families, specs, scores, seed, confidence, tolerance):
    """Each network against the first regression of its family, paired fold by fold."""
    for spec in specs:
        if spec.is_regression:
            continue
        network = families[spec.text]
        regression = next((s.text for s in specs if s.is_regression
                            and families[s.text] is network), None)
        if regression is None:
            continue
        target = y[network.name]
        differences = [unit_deviance(network, target[f.test_rows], f.eta[spec.text])
                       - unit_deviance(network, target[f.test_rows], f.eta[regression])
                       for f in folds]
        n_train = float(np.mean([len(f.train_rows) for f in folds]))
        yield judge(spec.text, regression, differences, scores.loc[spec.text, "deviance"],
                    scores.loc[regression, "deviance"], seed=seed, n_train=n_train,
                    confidence=confidence, tolerance=tolerance)


__all__ = ["BASELINE", "Comparison", "Fold", "compare", "default_models", "held_out_eta",
           "score_table"]
