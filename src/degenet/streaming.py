"""``degenet.fit`` on a Parquet dataset larger than memory: the same steps, streamed.

A dataset (a file, a folder or a glob: :mod:`degenet.data.dataset`) is streamed when an
in-memory fit would need more than the memory budget, when ``stream=True`` asks for it, or
when this process is one of several (:mod:`degenet.parallel`). The steps are those of
:mod:`degenet.fitting`, each reading the rows as a stream:

1. one pass learns the encoding (:mod:`degenet.data.stream`: the same
   :class:`~degenet.data.encoding.Encoding` as in memory), the standardization and the
   target's distinct values, which the family infers itself from as in memory;
2. the validation rows are those whose hashed position falls below the share (not a
   stratified shuffle: the split must not depend on the order of files or processes);
3. a single-layer model's exact optimum by passes (:mod:`degenet.exact.stream`);
4. gradient descent fed by the stream (:mod:`degenet.train.stream`), the network's
   weights, scaling and target units as in memory;
5. a single-layer model read as a regression by one more pass
   (:mod:`degenet.exact.stream_results`).

Each process reads its own shards of the row groups; every result is the same on every
process. Not streamed: formulas, sample weights, offsets and exposure, robust and
clustered covariances (each gets an error naming what to do instead).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

import numpy as np

from degenet.data.dataset import (HashedRows, balanced_shares, fingerprint, is_dataset,
                                  needs_streaming, open_dataset, process_shards, read_whole)
from degenet.data.encoding import Encoding
from degenet.data.scaling import Scaling, usable_scale
from degenet.data.blocks import Coder, Source
from degenet.data.stream import StreamPlan, StreamStats, encode_stream, level_key, plan_stream
from degenet.errors import DegenetError
from degenet.exact.diagnostics import emit
from degenet.exact.newton import WARM_START_ROWS, WARM_START_STRIDE
from degenet.exact.results import Fitted, fold_dropped
from degenet.exact.stream import StreamProblem, solve_least_squares, stacked
from degenet.exact.stream_newton import solve_newton
from degenet.exact.stream_results import read_stream, stream_diagnostics
from degenet.fitted import Fit
from degenet.model.families import Family, get_family, infer_family
from degenet.model.network import (build_network, fold_scaling, logits_model,
                                   regression_weights, rescale_output, set_regression_weights)
from degenet.model.specs import ModelSpec, parse_spec
from degenet.parallel.cluster import Cluster
from degenet.parallel.environment import detect
from degenet.parallel.runtime import current
from degenet.pipeline import (check_solver, choose_family, settings_from, start_bias,
                              warn_off_optimum)
from degenet.train.health import warn_if_unfinished
from degenet.randomness import check_seed, derive
from degenet.spelling import option
from degenet.train.settings import (TrainSettings, batch_size_for, make_optimizer,
                                    model_defaults, validation_for)
from degenet.train.stream import Shards, Standardize, train_stream


@dataclass(frozen=True)
class StreamSettings:
    """How a dataset is streamed; ``stream=StreamSettings(...)`` streams it.

    Attributes
    ----------
    shards : int, optional
        Gradient descent's batches are dealt over this many shards of the row groups
        (default: the number of processes). A run on 1 process and one on N take the same
        steps when both use the same shards.
    memory_budget : int, optional
        Bytes: a dataset whose in-memory fit would need more is streamed (default: a
        quarter of the machine's memory).
    """

    shards: int | None = None
    memory_budget: int | None = None


def stream_option(stream: bool | None, shards: int | None):
    """``stream=`` from the command line's flags: the flag, or settings with ``--shards``."""
    if shards is not None and stream is False:
        raise DegenetError("--shards applies to a streamed dataset; it cannot go with "
                           "--no-stream")
    return stream if shards is None else StreamSettings(shards=shards)


def streams(data, stream, columns: list[str] | None = None) -> bool:
    """Whether :func:`degenet.fit` streams ``data`` (see the module's text)."""
    if stream is False:
        return False
    if not is_dataset(data):
        if stream:
            raise DegenetError(f"stream=True needs a Parquet dataset (a .parquet file, a "
                               f"folder or a glob); received {type(data).__name__} {data!r:.60}")
        return False
    if stream is True or isinstance(stream, StreamSettings) or detect() is not None:
        return True
    try:
        dataset = open_dataset(data)
    except DegenetError:
        return False  # the in-memory reader names what is wrong
    budget = stream.memory_budget if isinstance(stream, StreamSettings) else None
    return needs_streaming(dataset, columns or dataset.columns, budget)


def in_memory(data):
    """``data`` as the in-memory reader takes it: a dataset folder or glob read whole, in
    position order; anything else as it is."""
    if is_dataset(data) and not os.path.isfile(os.fspath(data)):
        return read_whole(open_dataset(data))
    return data


@dataclass(frozen=True)
class StreamTable:
    """A streamed table, encoded, and this process's part of it.

    Attributes
    ----------
    plan : StreamPlan
    encoding : Encoding
    stats : StreamStats
    shards : tuple of tuple of RowGroup
        Every shard's row groups (balanced by rows).
    local : tuple of int
        The shards this process reads.
    cluster : Cluster
    fingerprint : str
    """

    dataset: object
    plan: StreamPlan
    encoding: Encoding
    stats: StreamStats
    shards: tuple
    local: tuple
    cluster: Cluster
    fingerprint: str

    @property
    def groups(self) -> tuple:
        """This process's row groups, in position order."""
        return tuple(sorted((g for s in self.local for g in self.shards[s]),
                            key=lambda g: g.start))

    def shard_rows(self) -> np.ndarray:
        """Training rows of every shard, from the encoding pass's counts."""
        rows = self.stats.group_rows
        return np.array([sum(rows.get(g.start, [0, 0])[0] for g in share)
                         for share in self.shards], dtype=np.int64)


def open_table(data, target, *, features=None, formula=None, coding="treatment",
               missing="error", seed: int = 0, validation: float = 0.2,
               settings: StreamSettings = StreamSettings(), cluster: Cluster | None = None
               ) -> StreamTable:
    """The dataset ``data`` encoded by one pass over its rows (every process's share)."""
    cluster = cluster or current()
    dataset = open_dataset(data)
    plan = plan_stream(dataset, target, features=features, formula=formula, coding=coding,
                       missing=missing, seed=seed, validation=validation)
    n_shards = settings.shards or cluster.world
    if n_shards < 1 or n_shards % cluster.world:
        raise DegenetError(f"shards={n_shards} must be a positive multiple of the number of "
                           f"processes ({cluster.world})")
    shards = balanced_shares(dataset.row_groups, n_shards)
    local = process_shards(n_shards, cluster.rank, cluster.world)
    groups = tuple(sorted((g for s in local for g in shards[s]), key=lambda g: g.start))
    encoding, stats = encode_stream(dataset, plan, groups, cluster.allgather)
    return StreamTable(dataset=dataset, plan=plan, encoding=encoding, stats=stats,
                       shards=shards, local=local, cluster=cluster,
                       fingerprint=fingerprint(dataset))


def no_stream() -> str:
    """How the caller says "do not stream": ``stream=False``, or the command's flag."""
    return "--no-stream" if option("stream").startswith("--") else "stream=False"


def refuse(**options) -> None:
    """An error for each option a streamed fit does not take, naming what to do instead."""
    for name, value in options.items():
        if value is not None and not (name == "cov_type" and value == "nonrobust"):
            raise DegenetError(
                f"{option(name)} is not available for a streamed dataset; fit it in memory "
                f"({no_stream()}, if it fits) or leave the option out")


def fit_stream(data, target: str | None = None, *, model=None, family=None, features=None,
               formula=None, coding: str = "treatment", missing: str = "error", seed: int = 0,
               intercept: bool = True, reference=None, solver: str = "gd",
               settings: StreamSettings = StreamSettings(), progress=None, **training) -> Fit:
    """:func:`degenet.fit` of a streamed dataset (its arguments; see the module's text)."""
    seed = check_seed(seed)
    train_settings = validation_for(settings_from(training), solver=solver)
    table = open_table(data, target, features=features, formula=formula, coding=coding,
                       missing=missing, seed=seed, validation=train_settings.validation,
                       settings=settings)
    spec = parse_spec(model) if model is not None else None
    if spec is None:
        inferred = get_family(family) if family is not None else infer_family(table.stats.target)
        spec = parse_spec(inferred.regression)
    check_solver(solver, spec)
    chosen = choose_family(spec, table.stats.target, family)
    classes = chosen.encode_target(table.stats.target).classes
    if reference is not None and (classes is None or reference not in classes):
        raise DegenetError(
            f"reference class {reference!r} is not a class of the target; classes are: "
            f"{', '.join(map(repr, classes or ()))}")
    return fit_table(table, spec, chosen, classes, train_settings, seed=seed,
                     intercept=intercept, reference=reference, solver=solver,
                     progress=progress)


def target_summary(stats: StreamStats, classes: tuple | None) -> tuple[np.ndarray, np.ndarray]:
    """The training rows' target as values and frequencies: each class's code and count, or
    the mean with the number of rows (what the intercept-only optimum depends on)."""
    if classes is not None:
        return (np.arange(len(classes), dtype=np.float64),
                np.array([stats.target_counts.get(level_key(c), 0) for c in classes],
                         dtype=np.float64))
    count, mean, _ = stats.target_moments
    return np.array([mean]), np.array([float(count)])


def standardization(stats: StreamStats, intercept: bool, *, exact: bool) -> Scaling:
    """The design's means and scales over the training rows: gradient descent's
    (``fit_scaling``: the standard deviation) or the exact solver's (without an intercept,
    not centred and the root mean square, as ``column_stats``)."""
    mean = stats.mean if intercept else np.zeros_like(stats.mean)
    spread = np.sqrt(stats.m2 / max(stats.n_train, 1))
    if exact and not intercept:
        spread = np.sqrt(spread**2 + stats.mean**2)
    return Scaling(mean, usable_scale(spread, mean))


def fit_table(table: StreamTable, spec: ModelSpec, family: Family, classes: tuple | None,
              settings: TrainSettings, *, seed: int, intercept: bool = True, reference=None,
              solver: str = "gd", progress=None) -> Fit:
    """Fit one model of the ladder on a streamed table (the steps of :mod:`degenet.fitting`)."""
    check_solver(solver, spec)
    settings = model_defaults(settings, regression=spec.is_regression)
    stats, n_classes = table.stats, len(classes) if classes else None
    source = Source(Coder(table.plan, table.encoding, classes, stats.dtype), table.groups)
    values, counts = target_summary(stats, classes)
    scaling = standardization(stats, intercept, exact=False)
    count, mean, m2 = stats.target_moments
    spread = np.sqrt(m2 / max(count, 1))
    # Two values with the training rows' mean and spread: the family's own standardization.
    center, scale = family.target_scaling(np.array([mean - spread, mean + spread]), intercept)
    net = build_network(spec, family, n_features=table.encoding.n_features, seed=seed,
                        intercept=intercept, n_outputs=family.n_outputs(n_classes),
                        bias=start_bias(family, (values - center) / scale, n_classes,
                                        weight=counts))
    exact = (solve_table(table, source, family, intercept, n_classes, values, counts)
             if spec.is_regression else None)
    training = None
    if solver == "exact":
        set_regression_weights(net, exact.solution.beta, exact.solution.alpha)
    else:
        training = _train(table, source, net, family, settings, scaling, (center, scale),
                          seed=seed, progress=progress)
        warn_if_unfinished(spec.text, training, settings)
        fold_scaling(net, scaling)
        rescale_output(net, center, scale)
    net.compile(optimizer=make_optimizer(settings), loss=family.keras_loss)
    regression = None
    if exact is not None:
        emit(exact.diagnostics, spec.text)
        regression = _read(table, source, net, spec, family, classes, reference, intercept,
                           solver, settings, exact, training, values, counts)
    return Fit(spec=spec, family=family, model=net, encoding=table.encoding, scaling=scaling,
               classes=classes, settings=settings, seed=seed,
               train_rows=HashedRows(stats.n_train, seed, table.plan.validation, False),
               val_rows=HashedRows(stats.n_val, seed, table.plan.validation, True),
               intercept=intercept, reference=reference, data_sha256=table.fingerprint,
               solver=solver, training=training, exact=regression)


@dataclass(frozen=True)
class _Exact:
    """The streamed exact optimum, its diagnostics, passes and seconds."""

    solved: object
    diagnostics: object
    seconds: float

    @property
    def solution(self):
        return self.solved.solution


def solve_table(table: StreamTable, source: Source, family: Family, intercept: bool,
                n_classes: int | None, values: np.ndarray, counts: np.ndarray) -> _Exact:
    """The exact optimum by passes over every process's training rows."""
    cluster, stats = table.cluster, table.stats
    n_outputs = family.n_outputs(n_classes)
    source = solver_source(source, family, n_outputs)
    standard = standardization(stats, intercept, exact=True)
    every = set(table.dataset.row_groups[::WARM_START_STRIDE])
    sample = tuple(g for g in table.groups if g in every)
    share = sum(g.n_rows for g in every) / max(table.dataset.n_rows, 1)
    problem = StreamProblem(
        family=family, each=source.each, allreduce=cluster.allreduce, mean=standard.mean,
        scale=standard.scale, intercept=intercept, n_outputs=n_outputs,
        start=family.optimal_constant(values, counts, n_outputs),
        subsample=((lambda fn: source.each(fn, groups=sample))
                   if stats.n_train >= WARM_START_ROWS else None),
        subsample_share=share,
        stack=lambda R: stacked(R, cluster.rank, cluster.world, cluster.allreduce))
    started = time.perf_counter()
    solved = (solve_least_squares(problem) if family.exact_solver == "least_squares"
              else solve_newton(problem))
    seconds = time.perf_counter() - started
    diagnostics = stream_diagnostics(family, solved, table.encoding.terms, intercept)
    return _Exact(solved=solved, diagnostics=diagnostics, seconds=seconds)


def solver_source(source: Source, family: Family, n_outputs: int) -> Source:
    """The blocks the exact solver reads: column-major for Newton on one output, whose
    passes centre and weight each column (``stream_newton._single``), and which then skips
    each record batch's transpose; row-major for least squares' and softmax's products."""
    single = family.exact_solver != "least_squares" and family.n_free(n_outputs) == 1
    return source.column_major() if single else source


def _train(table: StreamTable, source: Source, net, family: Family, settings: TrainSettings,
           scaling: Scaling, target: tuple, *, seed: int, progress):
    """Gradient descent on the stream; the best weights left in ``net``, losses in the
    target's units."""
    shards = table.shards
    n_shards = len(shards)

    def blocks(shard: int, epoch: int):
        groups = shards[shard]
        order = np.random.default_rng([derive(seed, "shuffle"), epoch, shard]).permutation(
            len(groups))
        return source.blocks([groups[i] for i in order])

    batch = batch_size_for(settings, table.stats.n_train)
    batch = n_shards * -(-batch // n_shards)  # a whole number of rows from every shard
    result = train_stream(
        logits_model(net), family, Shards(rows=table.shard_rows(), local=table.local,
                                          blocks=blocks),
        settings, batch_size=batch, standardize=Standardize(scaling.mean, scaling.scale, *target),
        seed=seed, cluster=table.cluster, progress=progress)
    if progress:
        progress(result.epochs, result.epochs)  # done: early stopping shortens the bar
    return result.in_target_units(target[1])


def _read(table, source, net, spec, family, classes, reference, intercept, solver, settings,
          exact: _Exact, training, values, counts):
    """The regression's reading (one more pass); a gradient-descent fit off the optimum
    warns, as in memory."""
    solution = exact.solution
    if solver == "exact":
        beta, alpha = solution.beta, solution.alpha
    else:
        beta, alpha = regression_weights(net)
        if solution.dropped:
            set_regression_weights(net, *fold_dropped(beta, alpha, solution))
            beta, alpha = regression_weights(net)
    fitted = Fitted(model=spec.text, target=table.encoding.target, family=family,
                    terms=table.encoding.terms, classes=classes, reference=reference,
                    intercept=intercept, solver=solver, optimizer=settings.optimizer,
                    epochs=0 if training is None else training.epochs)
    n_outputs = solution.alpha.shape[0]
    null = (family.optimal_constant(values, counts, n_outputs) if intercept
            else np.zeros(n_outputs))
    regression = read_stream(fitted, lambda fn, part: source.each(fn, part=part), beta, alpha,
                             exact.solved, exact.diagnostics, null=null,
                             allreduce=table.cluster.allreduce, seconds=exact.seconds)
    if solver == "gd" and not regression.at_optimum and solution.converged:
        warn_off_optimum(spec, regression, settings)
    return regression
