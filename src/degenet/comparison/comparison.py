"""``degenet.compare``: several rungs of the ladder on one table, scored the same way.

Every model trains on the same rows and is scored on the same held-out rows by the one
implementation of each metric in :mod:`degenet.comparison.metrics`; an intercept-only baseline,
computed from the training rows, is always scored beside them. Each network is then set
against its family's regression (:mod:`degenet.comparison.verdict`).

Two designs (:mod:`degenet.comparison.design`; by default the table's size chooses):

* one shuffled split, stratified for classes. The held-out rows are the validation rows,
  which early stopping also watches (as in Keras): both models get the same small benefit
  from choosing their best epoch on them.
* ``cv=K``: ``repeats`` times K shuffled (stratified) folds, seeded by
  ``derive(seed, "folds", repeat)``. Each fold's held-out rows are used only for scoring;
  early stopping watches a ``validation`` share of that fold's training rows.

The regression in a verdict is at its optimum (:mod:`degenet.comparison.runs`); the scores
and the verdict use the same predictions, and ``Comparison.notes`` says what they were.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from degenet.comparison.design import Design, choose_design, plan
from degenet.comparison.explain import Explanation, explain as explain_networks, used_rows
from degenet.comparison.notebook import comparison_html, comparison_line
from degenet.comparison.metrics import baseline_eta, score, unit_deviance
from degenet.comparison.runs import (CompareProgress, Run, held_out_eta, stand_in,
                                     stand_note)
from degenet.comparison.verdict import CONFIDENCE, TOLERANCE, Verdict, judge
from degenet.comparison.stream import compare_stream
from degenet.data.prepare import prepare
from degenet.data.tables import read_table
from degenet.errors import DegenetError, warn, warning_classes
from degenet.exact.robust import check_cov_type
from degenet.fitting import Fit, choose_family, settings_from
from degenet.model.families import Family, get_family, infer_family, warn_if_codes
from degenet.model.specs import parse_specs
from degenet.randomness import check_seed
from degenet.spelling import option
from degenet.streaming import in_memory, streams
from degenet.train.settings import validation_for

BASELINE = "baseline"
_READING = {"columns", "delimiter", "file_encoding"}  # read_table's; the rest are prepare's


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
    stands : dict of str to str
        How each model was scored (:func:`degenet.comparison.runs.stand_in`).
    """

    number: int
    repeat: int
    train_rows: np.ndarray
    test_rows: np.ndarray
    eta: dict[str, np.ndarray]
    stands: dict[str, str] = field(default_factory=dict)


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
    notes : tuple of str
        The design degenet chose, and what stood for each regression.
    explanation : Explanation or None
        Effects, interactions, proposed regressions (models too: ``"proposed"``).
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
    notes: tuple[str, ...] = ()
    explanation: Explanation | None = None

    def __repr__(self) -> str:
        return comparison_line(self)

    def _repr_html_(self) -> str:
        return comparison_html(self)

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
        losses = {name: f.val_loss for name, f in self.fits.items()
                  if f.family is family and np.isfinite(f.val_loss)}
        return min(losses, key=losses.get) if losses else next(iter(self.fits))

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
            cov_type: str = "nonrobust", explain: bool = True, stream=None,
            **options) -> Comparison:
    """Fit several models on the same rows, score them alike and judge the networks.

    Parameters
    ----------
    models : str or list, optional
        Specs such as ``["linear", "mlp"]`` or ``"logistic,mlp:64,32"``; default: the
        regression of the target's family and ``mlp``.
    cv : int, optional
        K for K-fold cross-validation (stratified for classes), or 1 for one split. Default:
        one split from 5,000 rows up, 5 folds drawn twice below (said in ``notes``; see
        :mod:`degenet.comparison.design`).
    repeats : int
        How many times the K folds are drawn afresh (only with folds).
    solver : {'gd', 'exact'}
        How the regressions are fitted: gradient descent like the networks, or their exact
        optimum (the regression at its best). Networks always train by gradient descent.
    confidence, tolerance : float
        The verdict's interval level, and the smallest difference that matters as a share
        of the regression's deviance (see :mod:`degenet.comparison.verdict`).
    cov_type : str
        The regressions' std errors (:func:`degenet.fit`'s ``cov_type``; ``groups`` is an
        option of the table).
    explain : bool
        Also read what the networks do (:mod:`degenet.comparison.explain`); a streamed
        comparison is not explained (the explanation reads the table in memory).
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
                       held.first, held.y,
                       [Fold(1, 0, held.train_rows, held.rows, held.eta, held.stands)],
                       held.families, held.specs, design=Design(None, 1), seed=held.seed,
                       judging=(confidence, tolerance))
    data = in_memory(data)
    reading = set(inspect.signature(prepare).parameters) - {"data", "target"}
    frame = read_table(data, **{k: v for k, v in options.items() if k in _READING})
    prepared = prepare(frame, target, **{k: v for k, v in options.items()
                                         if k in reading - _READING})
    settings = settings_from({k: v for k, v in options.items() if k not in reading})
    seed = check_seed(seed)
    design = choose_design(cv, repeats, len(prepared.target))
    inferred = get_family(family) if family is not None else infer_family(prepared.target)
    specs = parse_specs(models if models is not None else default_models(inferred))
    names = [spec.text for spec in specs]
    if len(set(names)) != len(names):
        raise DegenetError(f"model specs repeat: {', '.join(names)}; give each once")
    families = [choose_family(spec, prepared.target, family) for spec in specs]
    if family is None and (models is None or not all(s.is_regression for s in specs)):
        warn_if_codes(prepared.target, families[0])
    encoded = {f.name: f.encode_target(prepared.target) for f in families}
    first = families[0]
    validation = validation_for(settings, solver="gd").validation
    if design.cv is None and validation == 0:
        raise DegenetError(f"{option('validation', 0)} leaves one split no rows to score the "
                           f"models on; hold some out, or use folds ({option('cv', 5)})")
    parts = plan(encoded[first.name].y, first.is_classifier, validation, seed, design)
    run = Run(prepared=prepared, settings=dataclasses.replace(settings, validation=validation),
              seed=seed, progress=progress, n_folds=len(parts), solver=solver, cov_type=cov_type)
    folds, fold_fits, seconds = [], {name: [] for name in names}, dict.fromkeys(names, 0.0)
    offset = prepared.offset
    with _once_per_kind(len(parts)):
        for number, part in enumerate(parts, start=1):
            eta = {BASELINE: baseline_eta(
                first, encoded[first.name].y[part.train], len(part.test),
                encoded[first.name].n_classes,
                offset=None if offset is None else offset[part.train],
                test_offset=None if offset is None else offset[part.test])}
            stands = {}
            for spec, chosen in zip(specs, families):
                fitted, took = run.fit(spec, chosen, encoded[chosen.name], part, number)
                fold_fits[spec.text].append(fitted)
                seconds[spec.text] += took
                stands[spec.text] = stand_in(fitted)
                eta[spec.text] = held_out_eta(fitted, prepared.X[part.test], stands[spec.text],
                                              None if offset is None else offset[part.test])
            folds.append(Fold(number=number, repeat=part.repeat, train_rows=part.train,
                              test_rows=part.test, eta=eta, stands=stands))
    y = {name: target_.y for name, target_ in encoded.items()}

    def explaining(folds, fold_fits, verdicts, scores) -> Explanation:
        with _once_per_kind(len(parts)):
            return explain_networks(
                used_rows(frame, prepared), folds, fold_fits, verdicts, y, seed=seed,
                carried=prepared.carried, null_loss=scores.loc[BASELINE, "deviance"],
                progress=progress, confidence=confidence, tolerance=tolerance)

    return _judged(prepared.encoding.target, fold_fits, seconds, first, y, folds,
                   dict(zip(names, families)), specs, design=design, seed=seed,
                   judging=(confidence, tolerance), explain=explaining if explain else None)


def _judged(target, fold_fits, seconds, first, y, folds, families, specs, *, design: Design,
            seed, judging, explain=None) -> Comparison:
    """The comparison of the models' held-out predictions: scores, then verdicts; then, with
    ``explain(folds, fold_fits, verdicts, scores)``, the networks' explanation, whose
    proposed regressions join the scores."""
    scores = score_table(folds, y, first, families)
    verdicts = tuple(_verdicts(folds, y, families, specs, scores, seed, *judging))
    notes = ([design.note] if design.note else []) + [
        stand_note(spec.text, [f.stands[spec.text] for f in folds])
        for spec in specs if spec.is_regression]
    explanation = None
    if explain is not None:  # the proposals become models of the comparison, scored like the others
        explanation = explain(folds, fold_fits, verdicts, scores)
        folds, fold_fits, seconds = explanation.merged(folds, fold_fits, seconds)
        notes += [explanation.stand_note(name) for name in explanation.fold_fits]
        scores = score_table(folds, y, first, {**families, **explanation.families})
    return Comparison(target=target, fits={n: f[0] for n, f in fold_fits.items()},
                      seconds=seconds, family=first, y=y, folds=tuple(folds),
                      fold_fits={n: tuple(f) for n, f in fold_fits.items()}, cv=design.cv,
                      repeats=design.repeats, seed=seed, scores=scores,
                      verdicts=verdicts, notes=tuple(notes), explanation=explanation)


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
        if not issubclass(category, warning_classes()):  # another library's notice: once
            warnings.warn_explicit(items[0].message, category, items[0].filename,
                                   items[0].lineno)
            continue
        note = (f" ({len(items)} times over the {n_folds} folds; the figures are the first's)"
                if len(items) > 1 else "")
        warn(f"{items[0].message}{note}", category)


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
                    confidence=confidence, tolerance=tolerance,
                    regression_fit=stand_note(regression, [f.stands[regression] for f in folds]))


__all__ = ["BASELINE", "Comparison", "Fold", "compare", "default_models", "score_table"]
