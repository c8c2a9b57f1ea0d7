"""``degenet.compare`` on a streamed dataset: every model on the same rows, scored alike.

The models train on one streamed table (:mod:`degenet.streaming`): the same encoding pass,
the same hashed split. One more pass over the validation rows gives each model's linear
predictor and the target there (per family), gathered from every process in rank order;
:func:`degenet.comparison.comparison.compare` then scores them and judges the networks as
for a table in memory (one split: cross-validation needs the table in memory).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from degenet.comparison.metrics import baseline_eta
from degenet.comparison.runs import held_out_eta, stand_in
from degenet.data.dataset import HashedRows
from degenet.data.blocks import Coder, Source
from degenet.errors import DegenetError
from degenet.model.families import Family, get_family, infer_family
from degenet.model.specs import parse_specs
from degenet.parallel.cluster import Cluster
from degenet.pipeline import choose_family, settings_from
from degenet.train.settings import validation_for
from degenet.randomness import check_seed
from degenet.spelling import option
from degenet.streaming import (StreamSettings, StreamTable, fit_table, no_stream, open_table,
                               refuse, target_summary)

BASELINE = "baseline"


@dataclass(frozen=True)
class HeldOut:
    """Models fitted on a streamed table, and their predictions on its validation rows.

    Attributes
    ----------
    target : str
    fits : dict
        Spec text -> Fit, in the order given.
    seconds : dict
    first : Family
    families : dict
        Spec text -> Family.
    y : dict
        Family name -> the encoded target on every validation row ``(n_val,)``.
    eta : dict
        Spec text (and ``"baseline"``) -> linear predictor on those rows.
    stands : dict
        Spec text -> how the model is scored (:func:`degenet.comparison.runs.stand_in`).
    train_rows : HashedRows
    specs : list of ModelSpec
    seed : int
    """

    target: str
    fits: dict
    seconds: dict
    first: Family
    families: dict
    y: dict
    eta: dict
    stands: dict
    train_rows: HashedRows
    specs: list
    seed: int

    @property
    def rows(self) -> np.ndarray:
        """The held-out rows' positions in ``y`` and ``eta``: ``0 .. n_val - 1``."""
        return np.arange(len(self.y[self.first.name]))


TABLE = ("features", "formula", "coding", "missing")
REFUSED = ("offset", "exposure", "groups", "delimiter", "file_encoding", "columns")


def compare_stream(data, target, *, models, family, seed: int, cv, repeats: int, solver: str,
                   progress, cov_type: str, stream, options: dict) -> HeldOut:
    """Fit ``models`` on the streamed ``data`` and predict its validation rows.

    ``options`` are :func:`degenet.compare`'s: the table's (``features``, ``formula``,
    ``coding``, ``missing``) and the training settings; the others are refused.
    """
    if cv not in (None, 1) or repeats != 1:
        raise DegenetError(f"{option('cv', cv)} needs the table in memory; a streamed dataset "
                           f"is compared on one split ({option('cv', 1)}, or pass "
                           f"{no_stream()} if it fits)")
    refuse(cov_type=cov_type, **{k: options[k] for k in REFUSED if k in options})
    seed = check_seed(seed)
    reading = {k: options[k] for k in TABLE if k in options}
    train_settings = validation_for(settings_from({k: v for k, v in options.items()
                                                  if k not in TABLE + REFUSED}), solver="gd")
    if train_settings.validation == 0:
        raise DegenetError(f"{option('validation', 0)} leaves one split no rows to score the "
                           "models on; hold some out")
    settings = stream if isinstance(stream, StreamSettings) else StreamSettings()
    features, formula = reading.get("features"), reading.get("formula")
    coding, missing = reading.get("coding", "treatment"), reading.get("missing", "error")
    table = open_table(data, target, features=features, formula=formula, coding=coding,
                       missing=missing, seed=seed, validation=train_settings.validation,
                       settings=settings)
    inferred = get_family(family) if family is not None else infer_family(table.stats.target)
    specs = parse_specs(models if models is not None else [inferred.regression, "mlp"])
    names = [spec.text for spec in specs]
    if len(set(names)) != len(names):
        raise DegenetError(f"model specs repeat: {', '.join(names)}; give each once")
    families = {spec.text: choose_family(spec, table.stats.target, family) for spec in specs}
    classes = {f.name: f.encode_target(table.stats.target).classes for f in families.values()}
    fits, seconds = {}, {}
    for spec in specs:
        chosen = families[spec.text]
        report = ((lambda done, total, label=spec.text: progress(label, done, total))
                  if progress else None)
        start = time.perf_counter()
        fits[spec.text] = fit_table(table, spec, chosen, classes[chosen.name], train_settings,
                                    seed=seed, solver=solver if spec.is_regression else "gd",
                                    progress=report)
        seconds[spec.text] = time.perf_counter() - start
    first = families[specs[0].text]
    stands = {text: stand_in(fitted) for text, fitted in fits.items()}
    y, eta = _held_out(table, fits, families, classes, stands)
    values, counts = target_summary(table.stats, classes[first.name])
    n_classes = None if classes[first.name] is None else len(classes[first.name])
    eta[BASELINE] = baseline_eta(first, values, len(y[first.name]), n_classes, weight=counts)
    return HeldOut(target=table.encoding.target, fits=fits, seconds=seconds, first=first,
                   families=families, y=y, eta=eta, stands=stands,
                   train_rows=HashedRows(table.stats.n_train, seed, table.plan.validation,
                                         False), specs=specs, seed=seed)


def _held_out(table: StreamTable, fits: dict, families: dict, classes: dict, stands: dict):
    """The validation rows' target per family and every model's ``eta`` there: one pass per
    family, gathered from every process in rank order."""
    y, eta = {}, {}
    for name in dict.fromkeys(f.name for f in families.values()):
        models = [text for text, f in families.items() if f.name == name]
        coder = Coder(table.plan, table.encoding, classes[name], table.stats.dtype)
        parts = [(block[:, -1].astype(np.float64),
                  [held_out_eta(fits[m], block[:, :-1], stands[m]) for m in models])
                 for _, block in Source(coder, table.groups).blocks() if len(block)]
        y[name] = _gathered(table.cluster, np.concatenate([p[0] for p in parts]) if parts
                            else np.zeros(0))
        for j, model in enumerate(models):
            local = (np.concatenate([p[1][j] for p in parts]) if parts
                     else np.zeros((0,) + fits[model].design_eta(
                         np.zeros((1, table.encoding.n_features))).shape[1:]))
            eta[model] = _gathered(table.cluster, local)
    return y, eta


def _gathered(cluster: Cluster, local: np.ndarray) -> np.ndarray:
    """Every process's ``local`` rows, in rank order (an all-reduce of slotted copies)."""
    if cluster.world == 1:
        return local
    sizes = cluster.allgather(int(len(local)))
    width = int(np.prod(local.shape[1:], dtype=np.int64))
    slots = np.zeros((cluster.world, max(sizes), width))
    slots[cluster.rank, :len(local)] = local.reshape(len(local), width)
    every = cluster.allreduce(slots)
    rows = np.concatenate([every[r, :sizes[r]] for r in range(cluster.world)])
    return rows.reshape(-1, *local.shape[1:])
