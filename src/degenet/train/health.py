"""Was training worth anything? Divergence and uselessness caught for every model.

A single-layer model is checked against its exact optimum (:mod:`degenet.exact.results`);
a network has none, so after every run of gradient descent, regression or network:

* **diverged**: a training or validation loss became non-finite, or the training loss
  rose above :data:`BLOWUP` times the intercept-only model's (where training starts: the
  output bias starts at that model's optimum), a loss no sane step size reaches;
* **useless** (networks): training stopped early and the best validation loss is no
  better (by :data:`GAIN`, 1%) than the intercept-only model's on the same validation rows
  (fitted on the training rows); a network that ran out of epochs still improving is told
  to train longer instead (:func:`warn_if_unfinished`).

Either gets a :class:`~degenet.errors.ConvergenceWarning` (``--strict`` makes it exit
status 3) naming a learning rate to try. How it is chosen, without a search (a search
would cost several trainings): the default for the model (:func:`learning_rate_for`:
0.01 for a regression, 0.003 for a network, chosen on the benchmarks in
``bench/defaults.md``) when the user's was larger; a tenth of the rate used otherwise.
"""

from __future__ import annotations

import numpy as np

from degenet.errors import ConvergenceWarning, warn
from degenet.model.family import Family
from degenet.spelling import option
from degenet.train.settings import TrainResult, TrainSettings, learning_rate_for

BLOWUP = 10.0
# A network's validation loss must beat the baseline's by more than this share of it: on
# mlp:8 at learning_rate=1 (corpus data) the dead network's 4.126 against 4.171 is noise.
GAIN = 0.01


def baseline_loss(family: Family, y: np.ndarray, *, train_rows: np.ndarray,
                  rows: np.ndarray, weight: np.ndarray | None, n_classes: int | None) -> float:
    """The mean loss on ``rows`` of the intercept-only model fitted on ``train_rows``.

    ``y`` is the target as training sees it; ``weight`` the rows' weights (None: equal).
    """
    w = np.ones(len(y)) if weight is None else np.asarray(weight, dtype=np.float64)
    if len(rows) == 0 or w[rows].sum() <= 0 or w[train_rows].sum() <= 0:
        return float("nan")
    constant = family.optimal_constant(y[train_rows], w[train_rows], n_classes)
    constant = np.clip(np.nan_to_num(constant, neginf=-30.0, posinf=30.0), -30.0, 30.0)
    eta = family.squeeze(np.tile(constant, (len(rows), 1)))
    return float(np.average(family.loss_np(y[rows], eta), weights=w[rows]))


def check_training(model: str, result: TrainResult, settings: TrainSettings, *,
                   regression: bool, start_loss: float, baseline_val_loss: float,
                   validated: bool = True) -> str | None:
    """Warn when training diverged or (a network) learned nothing; return the finding.

    ``start_loss`` and ``baseline_val_loss`` are the intercept-only model's training and
    validation losses, in the units of ``result``'s history; ``validated``: whether there
    were validation rows (without, the history's validation losses are NaN and only the
    training loss is judged). A regression that learned nothing is not reported here: its
    exact optimum says whether there was anything to learn.
    """
    loss = result.history["loss"].to_numpy(dtype=np.float64)
    val_loss = result.history["val_loss"].to_numpy(dtype=np.float64)
    # Out of epochs while still improving: "raise max_epochs" (warn_if_unfinished) is the
    # finding, not "learned nothing".
    finished = result.stopped_early or result.watched == "optimum"
    worst = loss.max(initial=-np.inf)
    against = (f" (best validation loss {result.val_loss:.6g}; the intercept-only "
               f"baseline's {baseline_val_loss:.6g})" if np.isfinite(baseline_val_loss) else "")
    if not (np.isfinite(loss).all() and (np.isfinite(val_loss).all() or not validated)):
        finding = "diverged: the training loss became infinite or NaN" + against
    elif np.isfinite(start_loss) and start_loss > 0 and worst > BLOWUP * start_loss:
        finding = (f"diverged: the training loss rose to {worst / start_loss:.3g} times the "
                   f"intercept-only model's{against}")
    elif not regression and validated and np.isfinite(baseline_val_loss) and finished \
            and result.val_loss >= baseline_val_loss - GAIN * abs(baseline_val_loss):
        finding = (f"learned nothing: its best validation loss {result.val_loss:.6g} is no "
                   f"better than the intercept-only baseline's {baseline_val_loss:.6g}")
    else:
        return None
    warn(f"model {model!r} {finding}, at {option('learning_rate', settings.learning_rate)}. "
         f"Try {option('learning_rate', sane_rate(settings, regression=regression))}; if that "
         "does not help, the features may not predict the target.", ConvergenceWarning)
    return finding


def sane_rate(settings: TrainSettings, *, regression: bool) -> float:
    """The learning rate to suggest (see the module's docstring)."""
    default = learning_rate_for(TrainSettings(optimizer=settings.optimizer),
                                regression=regression).learning_rate
    used = settings.learning_rate if settings.learning_rate is not None else default
    return default if used > default else float(f"{used / 10:.3g}")


def warn_if_unfinished(model: str, result: TrainResult, settings: TrainSettings) -> None:
    """Training never finite, or out of epochs while still improving (a convex model short
    of its optimum is the exact check's to report, with its distance)."""
    watched = "training loss" if result.watched == "loss" else "validation loss"
    if result.best_epoch == 0:
        warn(
            f"model {model!r}: the {watched} was never finite (training diverged); the "
            f"initial weights are kept. Lower {option('learning_rate', settings.learning_rate)}.",
            ConvergenceWarning)
    elif not result.stopped_early and result.watched != "optimum":
        warn(
            f"model {model!r}: training reached {option('max_epochs', settings.max_epochs)} "
            f"with the {watched} still improving at epoch {result.best_epoch} "
            f"({result.best_watched:.6g}); raise it "
            f"({option('max_epochs', 2 * settings.max_epochs)}).",
            ConvergenceWarning)
