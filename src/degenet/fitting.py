"""``degenet.fit``: one spec, one table, one Keras network; a single-layer one read as a regression.

The pipeline, step by step (each a function below): check the request, standardize the
design and the target, build the network, solve the single-layer model exactly on the
training rows, train by gradient descent towards that optimum (or take it), fold the scaling
back into the weights, and read a single-layer model as a regression.

The exact solve of a gradient-descent fit (its check, and the optimum it trains towards) is
capped in time (:data:`degenet.exact.check.CHECK_SECONDS`) and stopped early on separated
classes; a capped one gives no optimum to train to: training then stops on the validation
loss, and the table withholds its p-values, saying why. ``check=False`` skips it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from degenet.data.magnitudes import check_target_magnitude
from degenet.data.prepare import Prepared, data_hash, prepare
from degenet.data.scaling import Scaling, fit_scaling
from degenet.data.split import validation_split
from degenet.data.weights import check_sample_weight
from degenet.errors import DegenetError
from degenet.exact.check import CHECK_SECONDS, Checked, check
from degenet.exact.diagnostics import emit
from degenet.exact.robust import check_cov_type
from degenet.exact.results import (Fitted, RegressionResults, fold_dropped,
                                   mean_loss, read_regression)
from degenet.exact.rows import take_rows
from degenet.exact.solve import check_offset
from degenet.exact.stopping import TIME, TimeCap
from degenet.model.families import Family, Target, get_family, infer_family, warn_if_codes
from degenet.model.network import (build_network, fold_scaling, logits_model,
                                   regression_weights, rescale_output, set_regression_weights)
from degenet.model.specs import ModelSpec, parse_spec
from degenet.fitted import Fit
from degenet.checks import check_flag, check_progress
from degenet.optimum import training_optimum
from degenet.randomness import check_seed
from degenet.train import ProgressCallback, TrainResult, TrainSettings, train
from degenet.train.health import baseline_loss, check_training, warn_if_unfinished
from degenet.train.settings import Optimum, make_optimizer, model_defaults, validation_for
from degenet.streaming import StreamSettings, fit_stream, in_memory, refuse, streams
from degenet.pipeline import (SOLVERS, check_solver, choose_family, settings_from,  # noqa: F401
                              start_bias, warn_off_optimum)


@dataclass(frozen=True)
class Task:
    """One model of the ladder to fit on a prepared table and split.

    Attributes
    ----------
    spec : ModelSpec
    family : Family
    target : Target
        The encoded target, rows aligned with the prepared design.
    train_rows, val_rows : ndarray of int
        The split, as positions in the prepared table.
    settings : TrainSettings
    seed : int
    intercept : bool
    reference : optional
        A softmax fit's reference class.
    solver : {'gd', 'exact'}
    sample_weight : ndarray, shape (n_samples,), optional
    cov_type : str
        The covariance of the inference (:mod:`degenet.exact.robust`); clusters come from
        the prepared table's groups.
    check : bool
        Check a single-layer gradient-descent fit against the exact optimum (and train
        towards it).
    """

    spec: ModelSpec
    family: Family
    target: Target
    train_rows: np.ndarray
    val_rows: np.ndarray
    settings: TrainSettings
    seed: int
    intercept: bool = True
    reference: object = None
    solver: str = "gd"
    sample_weight: np.ndarray | None = None
    cov_type: str = "nonrobust"
    check: bool = True


def fit(data, target: str | None = None, *, model: str | ModelSpec | None = None,
        family: str | Family | None = None, features: list[str] | None = None,
        formula: str | None = None, coding: str = "treatment", missing: str = "error",
        delimiter: str | None = None, file_encoding: str | None = None,
        columns: list[str] | None = None,
        seed: int = 0, intercept: bool = True, reference=None, solver: str = "gd",
        sample_weight: np.ndarray | None = None, offset=None, exposure=None,
        cov_type: str = "nonrobust", groups=None, check: bool = True,
        allow_high_cardinality: bool = False, stream=None,
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
        ``gd`` trains by gradient descent; a single-layer model trains towards its exact
        optimum, solved first (:mod:`degenet.optimum`), and is checked against it
        (``fit.exact``; a ConvergenceWarning when it is not within 1 std error). ``exact``
        puts the exact optimum (Newton / least squares, float64) into the model's weights,
        with no training, on every row unless ``validation`` asks for a split; single-layer
        models only. Either way the coefficient table is the exact optimum's.
    sample_weight : ndarray, shape (n_samples,), optional
        Non-negative row weights of the loss (frequencies in the inference).
    offset, exposure : str or ndarray, optional
        A column name, or one value per row of the table: a known term added to each row's
        linear predictor with coefficient 1 (``exposure``: its log, e.g. a Poisson rate
        per unit of time at risk), in the network and the exact solver alike. New data to
        predict must carry the column. Not for the categorical family.
    cov_type : {'nonrobust', 'HC0', 'HC1', 'HC2', 'HC3', 'cluster'}
        The covariance of the std errors (:mod:`degenet.exact.robust`): the inverse Fisher
        information, White's heteroskedasticity-consistent ones, or clustered by ``groups``.
    groups : str or ndarray, optional
        ``cov_type="cluster"``: the column (or one label per row) naming each row's cluster.
    check : bool
        ``solver='gd'`` on a single-layer model: solve it exactly first, train towards that
        optimum and check the network against it (the default; the coefficient table and
        std errors are the optimum's). The solve is capped in time and stops early on
        separated classes: a capped one withholds its p-values, and training then stops on
        the validation loss. ``False`` skips it, for users who want only the network: there
        is no optimum to train towards, so training stops on the validation loss (as for an
        MLP), and the coefficients are the network's weights, without std errors.
        ``solver='exact'`` always solves, without a cap.
    allow_high_cardinality : bool
        Fit a text column with about one level per row (an identifier); by default it is
        refused, naming the column.
    progress : callable, optional
        ``progress(epochs_done, max_epochs)``, called as gradient descent runs.
    stream : bool or StreamSettings, optional
        A Parquet dataset (a file, a folder or a glob) is streamed, never read whole, when
        an in-memory fit would exceed a quarter of the machine's memory, or when this
        process is one of several (:mod:`degenet.streaming`); ``True`` streams it anyway,
        ``False`` never, and a :class:`~degenet.streaming.StreamSettings` streams it with
        those settings.
    **training
        :class:`~degenet.train.TrainSettings` fields: ``max_epochs``, ``batch_size``,
        ``optimizer``, ``learning_rate``, ``patience``, ``min_delta``, ``plateau_factor``,
        ``validation`` (None: 0.2 for ``gd``, 0 for ``exact``; 0: no validation rows).
    """
    check_cov_type(cov_type, groups)
    check_flag("intercept", intercept)
    check_progress(progress)
    settings = validation_for(settings_from(training), solver=solver)
    if streams(data, stream, None if features is None or target is None
               else [*features, target]):
        refuse(sample_weight=sample_weight, offset=offset, exposure=exposure, groups=groups,
               cov_type=cov_type, delimiter=delimiter, file_encoding=file_encoding,
               columns=columns)
        return fit_stream(data, target, model=model, family=family, features=features,
                          formula=formula, coding=coding, missing=missing, seed=seed,
                          intercept=intercept, reference=reference, solver=solver,
                          settings=stream if isinstance(stream, StreamSettings)
                          else StreamSettings(), progress=progress, **training)
    data = in_memory(data)
    prepared = prepare(data, target, features=features, formula=formula, coding=coding,
                       missing=missing, delimiter=delimiter, file_encoding=file_encoding,
                       columns=columns, offset=offset, exposure=exposure, groups=groups,
                       allow_high_cardinality=allow_high_cardinality)
    seed = check_seed(seed)
    spec = parse_spec(model) if model is not None else None
    if spec is None:
        inferred = get_family(family) if family is not None else infer_family(prepared.target)
        spec = parse_spec(inferred.regression)
    check_solver(solver, spec)
    chosen = choose_family(spec, prepared.target, family)
    if family is None and (model is None or not spec.is_regression):
        warn_if_codes(prepared.target, chosen)
    encoded = chosen.encode_target(prepared.target)
    train_rows, val_rows = validation_split(
        encoded.y, validation=settings.validation, stratify=chosen.is_classifier, seed=seed)
    task = Task(spec=spec, family=chosen, target=encoded, train_rows=train_rows,
                val_rows=val_rows, settings=settings, seed=seed,
                intercept=intercept and prepared.encoding.intercept, reference=reference,
                solver=solver, sample_weight=sample_weight, cov_type=cov_type,
                check=check)
    return fit_prepared(prepared, task, progress=progress)


def fit_prepared(prepared: Prepared, task: Task, *,
                 progress: ProgressCallback | None = None) -> Fit:
    """Fit ``task`` on an already prepared table and split (see the module's steps)."""
    check_solver(task.solver, task.spec)
    weight = _checked(prepared, task)
    X, family, encoded = prepared.X, task.family, task.target
    if not family.is_classifier:  # the design's columns were checked as it was built
        check_target_magnitude(encoded.y, prepared.encoding.target)
    # The exact optimum is written into the network as it is: no scaling to fold back.
    scaling = (fit_scaling(X, rows=task.train_rows, center=task.intercept)
               if task.solver == "gd" else Scaling.identity(X.shape[1]))
    center, scale, y, offset, bias = (_standardized(prepared, task, weight)
                                      if task.solver == "gd" else (None,) * 5)
    net = build_network(task.spec, family, n_features=X.shape[1], seed=task.seed,
                        intercept=task.intercept, n_outputs=family.n_outputs(encoded.n_classes),
                        bias=bias, offset=prepared.offset is not None)
    checked = task.spec.is_regression and (task.check or task.solver == "exact")
    exact = _solve_exact(prepared, task, weight) if checked else None
    optimum = (None if exact is None or task.solver == "exact"
               else training_optimum(exact.solution, task.family, scaling, (center, scale),
                                     intercept=task.intercept,
                                     separated=exact.diagnostics.separation is not None))
    settings = model_defaults(task.settings, regression=task.spec.is_regression,
                              optimum=optimum is not None)
    task = dataclasses.replace(task, settings=validation_for(settings, solver=task.solver))
    training = None
    if task.solver == "exact":
        set_regression_weights(net, exact.solution.beta, exact.solution.alpha)
    else:
        training = _train(net, X, y, task, scaling, weight, progress, scale, offset=offset,
                          optimum=optimum)
        fold_scaling(net, scaling)
        rescale_output(net, center, scale)
    net.compile(optimizer=make_optimizer(task.settings), loss=family.keras_loss)
    regression = (_read_regression(net, prepared, task, exact, weight, training)
                  if exact is not None else None)
    return Fit(spec=task.spec, family=family, model=net, encoding=prepared.encoding,
               scaling=scaling, classes=encoded.classes, settings=task.settings,
               seed=task.seed, train_rows=task.train_rows, val_rows=task.val_rows,
               intercept=task.intercept, reference=task.reference,
               data_sha256=data_hash(X, encoded.y, weight, prepared.offset),
               solver=task.solver,
               training=training, exact=regression, offset=prepared.carried.spec)


def _standardized(prepared: Prepared, task: Task, weight: np.ndarray | None) -> tuple:
    """What gradient descent trains on: the target's ``(center, scale)``, the standardized
    target and offset, and the bias's start (the intercept-only optimum). The exact
    solver needs none of them: its optimum is written into the network as it is."""
    family, target = task.family, task.target
    # Rows of weight zero have no say, not even in the target's scaling or the start.
    counted = (task.train_rows if weight is None
               else task.train_rows[weight[task.train_rows] > 0])
    center, scale = family.target_scaling(target.y[counted], task.intercept)
    y = (target.y - center) / scale
    # Training sees the target standardized: the offset is scaled with it.
    offset = None if prepared.offset is None else prepared.offset / scale
    bias = start_bias(family, y[counted], target.n_classes,
                      None if offset is None else offset[counted])
    return center, scale, y, offset, bias


def _checked(prepared: Prepared, task: Task) -> np.ndarray | None:
    """The checked sample weights; the reference class must be a class of the target."""
    weight = check_sample_weight(task.sample_weight, len(prepared.X),
                                 dropped_rows=prepared.encoding.dropped_rows)
    check_offset(task.family, prepared.offset, len(prepared.X))
    classes = task.target.classes
    if task.reference is not None and (classes is None or task.reference not in classes):
        raise DegenetError(
            f"reference class {task.reference!r} is not a class of the target; classes are: "
            f"{', '.join(map(repr, classes or ()))}")
    return weight


def _solve_exact(prepared: Prepared, task: Task, weight: np.ndarray | None) -> Checked:
    """The single-layer model's exact optimum on the training rows (read in place, not
    copied), capped in time for gradient descent; diagnostics emitted."""
    rows = task.train_rows
    X = take_rows(prepared.X, rows)

    def picked(values):  # every row (solver="exact"): the values themselves, not a copy
        return values if values is None or X is prepared.X else values[rows]

    exact = check(task.family, X, picked(task.target.y), prepared.terms,
                  intercept=task.intercept, classes=task.target.classes,
                  sample_weight=picked(weight), offset=picked(prepared.offset),
                  cap=TimeCap(CHECK_SECONDS) if task.solver == "gd" else None)
    emit(exact.diagnostics, task.spec.text)
    return exact


def _train(net, X, y, task: Task, scaling: Scaling, weight, progress, scale: float,
           *, offset: np.ndarray | None = None, optimum: Optimum | None = None
           ) -> TrainResult:
    """Gradient descent on the standardized problem, the best weights left in ``net``;
    losses in the target's units (``scale``: the target's standardization)."""
    result = train(logits_model(net), task.family, X, y, task.settings,
                   train_rows=task.train_rows, val_rows=task.val_rows, scaling=scaling,
                   seed=task.seed, progress=progress, sample_weight=weight, offset=offset,
                   optimum=optimum)
    if progress:
        progress(result.epochs, result.epochs)  # done: early stopping shortens the bar
    result = result.in_target_units(scale)
    if _check_health(result, y, task, weight, scale) is None:
        warn_if_unfinished(task.spec.text, result, task.settings)
    return result


def _check_health(result: TrainResult, y: np.ndarray, task: Task, weight, scale: float
                  ) -> str | None:
    """Divergence and no gain over the intercept-only model (see :mod:`degenet.train.health`;
    a regression learning nothing is judged against its exact optimum instead). ``y`` is
    standardized by ``scale``; the baselines are taken back to the target's units."""
    def baseline(rows):
        return scale**2 * baseline_loss(task.family, y, train_rows=task.train_rows, rows=rows,
                                        weight=weight, n_classes=task.target.n_classes)

    return check_training(task.spec.text, result, task.settings,
                          regression=task.spec.is_regression,
                          start_loss=baseline(task.train_rows),
                          baseline_val_loss=baseline(task.val_rows),
                          validated=len(task.val_rows) > 0)


def _read_regression(net, prepared: Prepared, task: Task, exact: Checked, weight,
                     training: TrainResult | None) -> RegressionResults:
    """Read the single-layer model as a regression; for ``gd``, warn when it is off the optimum.

    Dropped (collinear) columns: their gradient-descent weights are moved onto the columns
    they are made of (same predictions on the training rows) and the model is updated, so
    its weights, estimates and std errors all refer to one parametrization.
    """
    solution, family = exact.solution, task.family
    if task.solver == "exact":
        beta, alpha = solution.beta, solution.alpha
    else:
        beta, alpha = regression_weights(net)
        if solution.dropped:
            set_regression_weights(net, *fold_dropped(beta, alpha, solution))
            beta, alpha = regression_weights(net)
    fitted = Fitted(model=task.spec.text, target=prepared.encoding.target, family=family,
                    terms=prepared.terms, classes=task.target.classes,
                    reference=task.reference, intercept=task.intercept, solver=task.solver,
                    optimizer=task.settings.optimizer,
                    epochs=0 if training is None else training.epochs)
    X, y, train_rows, val_rows = prepared.X, task.target.y, task.train_rows, task.val_rows
    offset, groups = prepared.offset, prepared.carried.groups
    regression = read_regression(
        fitted, take_rows(X, train_rows), y[train_rows], beta, alpha, solution,
        exact.diagnostics, seconds=exact.seconds,
        sample_weight=None if weight is None else weight[train_rows],
        val_loss=mean_loss(family, take_rows(X, val_rows), y[val_rows], beta, alpha,
                           None if weight is None else weight[val_rows],
                           None if offset is None else offset[val_rows]),
        offset=None if offset is None else offset[train_rows], cov_type=task.cov_type,
        groups=None if groups is None or task.cov_type != "cluster" else groups[train_rows],
        groups_name=prepared.carried.group_column)
    if (not regression.at_optimum and exact.diagnostics.separation is None
            and solution.stopped != TIME):
        warn_off_optimum(task.spec, regression, task.settings)
    return regression
