"""``degenet.fit``: one spec, one table, one Keras network trained by gradient descent."""

from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from degenet._keras import keras
from degenet.data.encoding import Encoding, encode
from degenet.errors import ConvergenceWarning, DegenetError
from degenet.exact import exactfit
from degenet.model.families import Family, Target, get_family, infer_family
from degenet.model.network import (build_network, fold_scaling, logits_model, predict_logits,
                             regression_weights, rescale_output)
from degenet.persistence import data_hash
from degenet.randomness import check_seed
from degenet.train.scaling import Scaling, fit_scaling
from degenet.model.specs import ModelSpec, parse_spec
from degenet.data.split import validation_split
from degenet.data.tables import read_table
from degenet.data.weights import check_sample_weight
from degenet.train.settings import (ProgressCallback, TrainResult, TrainSettings, learning_rate_for,
                              make_optimizer, train)


@dataclass(frozen=True)
class Prepared:
    """A table turned into a design: shared by every model of a comparison.

    Attributes
    ----------
    X : ndarray, shape (n_samples, n_features)
        The design in the data's own units, float64.
    target : Series
        The target column, rows aligned with ``X``.
    encoding : Encoding
    """

    X: np.ndarray
    target: pd.Series
    encoding: Encoding

    @property
    def terms(self) -> tuple[str, ...]:
        return self.encoding.terms


def prepare(data, target: str | None = None, *, features: list[str] | None = None,
            formula: str | None = None, coding: str = "treatment", missing: str = "error",
            delimiter: str | None = None, file_encoding: str | None = None,
            columns: list[str] | None = None) -> Prepared:
    """Read ``data`` and encode it for ``target``; errors name the column at fault.

    ``target`` may be omitted when ``formula`` names it (``"y ~ x1 + C(g)"``). ``features``
    or ``formula``, ``coding`` and ``missing`` are those of :func:`degenet.data.encoding.encode`;
    ``delimiter``, ``file_encoding`` and ``columns`` those of
    :func:`degenet.data.tables.read_table`.
    """
    if target is not None and (not isinstance(target, str) or not target):
        raise DegenetError(f"target must be a column name; received target={target!r}")
    frame = read_table(data, columns=columns, delimiter=delimiter, file_encoding=file_encoding)
    encoding, X, y = encode(frame, target, features=features, formula=formula, coding=coding,
                            missing=missing)
    return Prepared(X, y, encoding)


@dataclass(frozen=True)
class Fit:
    """A trained model of the ladder and everything needed to read and reuse it.

    Attributes
    ----------
    spec : ModelSpec
    family : Family
    model : keras.Model
        Reads the encoded design in its own units and outputs the mean (probabilities for
        classes). Its ``eta`` layer gives the linear predictor; for a regression the
        ``eta`` kernel is beta and its bias alpha.
    encoding : Encoding
    scaling : Scaling
        The standardization used in training (already folded into the model's weights).
    classes : tuple or None
        Class labels; for bernoulli ``classes[1]`` is the positive class.
    settings : TrainSettings
    seed : int
    training : TrainResult
    train_rows, val_rows : ndarray
        Row indices of the split (positions in the prepared table).
    """

    spec: ModelSpec
    family: Family
    model: keras.Model
    encoding: Encoding
    scaling: Scaling
    classes: tuple | None
    settings: TrainSettings
    seed: int
    training: TrainResult
    train_rows: np.ndarray
    val_rows: np.ndarray
    intercept: bool = True
    reference: object = None
    data_sha256: str | None = None  # of the training design and target: see persistence
    solver: str = "gd"  # "gd" (gradient descent) or "exact" (the exact optimum's weights)
    exact: object = None  # degenet.exact.results.Regression of a single-layer fit

    def save(self, path) -> None:
        """Write this fit as a model folder (``.keras`` + JSON sidecar); see ``degenet.load``."""
        from degenet.persistence import save

        save(self, path)

    @property
    def history(self) -> pd.DataFrame:
        """Training and validation loss per epoch."""
        return self.training.history

    @property
    def val_loss(self) -> float:
        """The best validation loss: the one of the weights the model holds."""
        if self.solver == "exact":
            return self.exact.val_loss
        return self.training.val_loss

    @property
    def epochs(self) -> int:
        return self.training.epochs

    @property
    def terms(self) -> tuple[str, ...]:
        return self.encoding.terms

    @property
    def coefficients(self) -> pd.DataFrame:
        """The regression's coefficients in the data's units (single-layer models only).

        Indexed by term, ``intercept`` last; categorical fits have a ``(class, term)`` index
        with each class compared against :attr:`reference`. Columns ``estimate, std_error,
        statistic, p_value, ci_low, ci_high`` (95% intervals; see :meth:`coefficient_table`).
        """
        return self.coefficient_table()

    def coefficient_table(self, level: float = 0.95) -> pd.DataFrame:
        """The coefficients with intervals at confidence ``level``.

        ``estimate`` is the model's weights (gradient descent for ``solver="gd"``, the
        float64 optimum for ``"exact"``). Std errors come from the inverse Fisher
        information at the exact optimum on the training rows; statistics and intervals
        are centred on ``estimate``. p-values and intervals are NaN when they cannot be
        trusted (separation, no convergence): ``table.attrs["withheld"]`` says why.
        """
        if not self.spec.is_regression:
            raise DegenetError(
                f"model {self.spec.text!r} has hidden layers; only single-layer models "
                "(linear, logistic, softmax, poisson) have coefficients")
        beta, alpha = ((self.exact.beta, self.exact.alpha) if self.exact is not None
                       else regression_weights(self.model))
        frame = coefficient_frame(beta, alpha, self.terms, self.family, self.classes,
                                  self.reference, self.intercept)
        return exactfit.table(self.exact, frame, self.family, self.classes, self.reference,
                              level)

    def summary(self, level: float = 0.95) -> str:
        """A statsmodels-like text summary of a single-layer fit: header, table, notes."""
        from degenet.exact.summary import summary_text

        return summary_text(self, level)

    def linear_predictor(self, data) -> np.ndarray:
        """``eta`` for each row of ``data``: ``(n,)``, or ``(n, n_classes)`` for categorical."""
        X = self.encoding.transform(read_table(data))
        eta = predict_logits(self.model, X)
        return eta if self.family.name == "categorical" else eta[:, 0]

    def predict_proba(self, data) -> np.ndarray:
        """Class probabilities, shape ``(n_samples, n_classes)``, columns in ``classes`` order."""
        if not self.family.is_classifier:
            raise DegenetError(f"predict_proba needs a classifier; this is {self.family.name}")
        mu = self.family.mean(self.linear_predictor(data).astype(np.float64))
        return mu if mu.ndim == 2 else np.column_stack([1.0 - mu, mu])

    def predict(self, data) -> np.ndarray:
        """The mean for regression families, the most probable label for classifiers."""
        if self.family.is_classifier:
            return np.asarray(self.classes, dtype=object)[self.predict_proba(data).argmax(1)]
        return self.family.mean(self.linear_predictor(data).astype(np.float64))


def coefficient_frame(beta: np.ndarray, alpha: np.ndarray, terms, family: Family, classes,
                      reference=None, intercept: bool = True) -> pd.DataFrame:
    """A coefficient table (column ``estimate``) from beta ``(p, k)`` and alpha ``(k,)``."""
    names = list(terms) + (["intercept"] if intercept else [])
    stacked = np.vstack([beta, alpha[None, :]]) if intercept else beta
    if family.name != "categorical":
        return pd.DataFrame({"estimate": stacked[:, 0]}, index=pd.Index(names, name="term"))
    ref = classes.index(reference if reference is not None else classes[0])
    contrasts = stacked - stacked[:, [ref]]  # softmax is shift-invariant: only differences count
    keep = [k for k in range(len(classes)) if k != ref]
    index = pd.MultiIndex.from_product([[classes[k] for k in keep], names],
                                       names=["class", "term"])
    return pd.DataFrame({"estimate": contrasts[:, keep].T.ravel()}, index=index)


def settings_from(options: dict) -> TrainSettings:
    """TrainSettings from keyword arguments; unknown names get a clear error."""
    known = TrainSettings.__dataclass_fields__
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise DegenetError(
            f"unknown training option(s) {', '.join(unknown)}; known: {', '.join(known)}")
    return TrainSettings(**options)


def choose_family(spec: ModelSpec, target: pd.Series, family: str | Family | None) -> Family:
    named = get_family(family) if family is not None else None
    return spec.family_for(infer_family(target), named)


def fit(data, target: str | None = None, *, model: str | ModelSpec | None = None,
        family: str | Family | None = None, features: list[str] | None = None,
        formula: str | None = None, coding: str = "treatment", missing: str = "error",
        delimiter: str | None = None, file_encoding: str | None = None,
        columns: list[str] | None = None,
        seed: int = 0, intercept: bool = True, reference=None, solver: str = "gd",
        sample_weight: np.ndarray | None = None,
        progress: ProgressCallback | None = None, **training) -> Fit:
    """Fit one model of the ladder to a table.

    Parameters
    ----------
    data : path, DataFrame or ndarray
        The table (CSV or Parquet path, or a DataFrame).
    target : str, optional
        The column to predict; may be omitted when ``formula`` names it.
    features : list of str, optional
        The predictor columns; default every column but the target.
    formula : str, optional
        A Wilkinson formula instead of ``features``: ``"color ~ age + C(relationship)"``.
        A formula without intercept (``- 1``) fits without one.
    coding : {'treatment', 'effect', 'sum'}
        Coding of categorical predictors (reference: the first level in sorted order).
    missing : {'error', 'drop'}
        Rows with missing values: an error naming the columns, or dropped with a warning.
    delimiter, file_encoding : str, optional
        CSV reader options; detected by default.
    columns : list of str, optional
        Names for the columns of a numpy array.
    model : str, optional
        ``linear``, ``logistic``, ``softmax``, ``poisson``, ``mlp`` or ``mlp:64,32``.
        Default: the regression of the target's family.
    family : str, optional
        ``gaussian``, ``bernoulli``, ``categorical`` or ``poisson``; default inferred.
    seed : int
        Seeds the split, the initial weights and the shuffling; recorded in the fit.
    intercept : bool
        Fit an intercept (the ``eta`` layer's bias); without one the columns are scaled,
        not centred.
    reference : optional
        Categorical fits: the class the others' coefficients are compared against;
        default the first class in sorted order.
    solver : {'gd', 'exact'}
        ``gd`` trains by gradient descent; a single-layer model is then checked against
        the exact optimum (``fit.exact``; a ConvergenceWarning when it is not within 1 std
        error). ``exact`` puts the exact optimum (Newton / least squares, float64) into
        the model's weights, with no training; single-layer models only.
    sample_weight : ndarray, shape (n_samples,), optional
        Non-negative row weights of the loss (frequencies in the inference).
    **training
        :class:`~degenet.train.settings.TrainSettings` fields: ``max_epochs``, ``batch_size``,
        ``optimizer``, ``learning_rate``, ``patience``, ``min_delta``, ``validation``.
    """
    prepared = prepare(data, target, features=features, formula=formula, coding=coding,
                       missing=missing, delimiter=delimiter, file_encoding=file_encoding,
                       columns=columns)
    intercept = intercept and prepared.encoding.intercept
    seed = check_seed(seed)
    settings = settings_from(training)
    spec = parse_spec(model) if model is not None else None
    if spec is None:
        inferred = get_family(family) if family is not None else infer_family(prepared.target)
        spec = parse_spec(inferred.regression)
    exactfit.check_solver(solver, spec)
    chosen = choose_family(spec, prepared.target, family)
    encoded = chosen.encode_target(prepared.target)
    train_rows, val_rows = validation_split(
        encoded.y, validation=settings.validation, stratify=chosen.is_classifier, seed=seed)
    return fit_prepared(prepared, spec, chosen, encoded, train_rows, val_rows, settings,
                        seed=seed, intercept=intercept, reference=reference, progress=progress,
                        solver=solver, sample_weight=sample_weight)


def fit_prepared(prepared: Prepared, spec: ModelSpec, family: Family, encoded: Target,
                 train_rows: np.ndarray, val_rows: np.ndarray, settings: TrainSettings, *,
                 seed: int, intercept: bool = True, reference=None,
                 progress: ProgressCallback | None = None, solver: str = "gd",
                 sample_weight: np.ndarray | None = None) -> Fit:
    """Train ``spec`` on an already prepared table and split."""
    settings = learning_rate_for(settings, regression=spec.is_regression)
    weight = check_sample_weight(sample_weight, len(prepared.X),
                                 dropped_rows=prepared.encoding.dropped_rows)
    if reference is not None and (encoded.classes is None or reference not in encoded.classes):
        raise DegenetError(
            f"reference class {reference!r} is not a class of the target; classes are: "
            f"{', '.join(map(repr, encoded.classes or ()))}")
    X = prepared.X
    scaling = fit_scaling(X[train_rows], center=intercept)
    n_classes = len(encoded.classes) if encoded.classes else None
    # Rows of weight zero have no say, not even in the target's scaling or the start.
    counted = train_rows if weight is None else train_rows[weight[train_rows] > 0]
    center, scale = family.target_scaling(encoded.y[counted], intercept)
    y = (encoded.y - center) / scale
    net = build_network(spec, family, n_features=X.shape[1], seed=seed, intercept=intercept,
                        n_outputs=family.n_outputs(n_classes),
                        bias=_start_bias(family, y[counted], n_classes))
    exactfit.check_solver(solver, spec)
    if spec.is_regression:
        solution, diagnostics, seconds = exactfit.solve_training_rows(
            family, X[train_rows], encoded.y[train_rows], intercept=intercept,
            classes=encoded.classes, terms=prepared.terms, model=spec.text,
            sample_weight=None if weight is None else weight[train_rows])
    if solver == "exact":
        result = exactfit.exact_training_result(seconds)
        exactfit.set_weights(net, solution.beta, solution.alpha)
    else:
        result = train(logits_model(net), family, X, y, settings, train_rows=train_rows,
                       val_rows=val_rows, scaling=scaling, seed=seed, progress=progress,
                       sample_weight=weight)
        if progress:
            progress(result.epochs, result.epochs)  # done: early stopping shortens the bar
        result = _in_target_units(result, scale)
        _warn_if_unfinished(spec, result, settings)
        fold_scaling(net, scaling)
        rescale_output(net, center, scale)
    net.compile(optimizer=make_optimizer(settings), loss=family.keras_loss)
    exact = None
    if spec.is_regression:
        exact = exactfit.regression_of(net, family, X, encoded.y, train_rows, val_rows,
                                       solution, diagnostics, solver=solver, sample_weight=weight,
                                       intercept=intercept, model=spec.text)
    return Fit(spec, family, net, prepared.encoding, scaling, encoded.classes, settings, seed,
               result, train_rows, val_rows, intercept, reference,
               data_sha256=data_hash(X, encoded.y, weight), solver=solver, exact=exact)


def _start_bias(family: Family, y: np.ndarray, n_classes: int | None) -> np.ndarray:
    """The ``eta`` bias starts at the intercept-only optimum (finite: an empty class would
    give log 0), so training spends no epochs learning the base rate."""
    constant = family.optimal_constant(y, np.ones(len(y)), n_classes)
    return np.clip(np.nan_to_num(constant, neginf=-30.0, posinf=30.0), -30.0, 30.0)


def _in_target_units(result: TrainResult, scale: float) -> TrainResult:
    """Losses of a standardized gaussian target, back in the target's squared units."""
    if scale == 1.0:
        return result
    history = result.history.assign(loss=result.history["loss"] * scale**2,
                                    val_loss=result.history["val_loss"] * scale**2)
    return dataclasses.replace(result, history=history)


def _warn_if_unfinished(spec: ModelSpec, result: TrainResult, settings: TrainSettings) -> None:
    if result.best_epoch == 0:
        warnings.warn(
            f"model {spec.text!r}: the validation loss was never finite (training diverged); "
            f"the initial weights are kept. Lower learning_rate={settings.learning_rate:g}.",
            ConvergenceWarning, stacklevel=3)
    elif not result.stopped_early:
        warnings.warn(
            f"model {spec.text!r}: training reached max_epochs={settings.max_epochs} with the "
            f"validation loss still improving at epoch {result.best_epoch} "
            f"(val_loss {result.val_loss:.6g}); raise max_epochs.",
            ConvergenceWarning, stacklevel=3)
