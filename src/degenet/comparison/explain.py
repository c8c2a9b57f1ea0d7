"""When the network wins, say why: effects, what the regression misses, and its proposal.

Three readings of a finished comparison, on its own rows and folds:

1. the average marginal effect of each input for every model
   (:mod:`degenet.comparison.effects`), so a network's effects sit beside the regression's;
2. for each network, the interactions and nonlinearities it uses, ranked
   (:mod:`degenet.comparison.interactions`), from its first fold's fit on that fold's
   held-out rows;
3. for each network the data prefers to its regression, the regression with the supported
   terms added (:mod:`degenet.comparison.proposal`), fitted fold by fold and judged against
   the network. Nothing is proposed when the network is not clearly better: then there is
   nothing the regression misses that matters.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from degenet.comparison.effects import effect_rows, effect_table, row_effects, two_valued
from degenet.comparison.interactions import rank_terms
from degenet.comparison.metrics import unit_deviance
from degenet.comparison.probe import inputs
from degenet.comparison.proposal import (FoldRows, Proposal, fit_proposal, judge_proposal,
                                         propose_formula)
from degenet.comparison.verdict import CONFIDENCE, TOLERANCE, Verdict
from degenet.data.carried import Carried
from degenet.data.prepare import Prepared
from degenet.data.schema import CATEGORICAL
from degenet.errors import DataWarning, DegenetError, warn
from degenet.fitted import Fit
from degenet.model.family import Family

PROPOSED = "proposed"


@dataclass(frozen=True)
class Explanation:
    """What the comparison's networks do, and the regressions they suggest.

    Attributes
    ----------
    effects : DataFrame
        One row per model, input (level) and class: ``model, term, class, kind, effect,
        ci_low, ci_high`` (see :mod:`degenet.comparison.effects`), and ``scale``: the
        input's standard deviation for a slope, its two values' gap or 1 for a switch, to
        set effects of inputs in different units on one axis.
    rankings : dict of str to DataFrame
        Per network, its interactions and nonlinearities, strongest first.
    proposals : dict of str to Proposal
        Per network with a proposal.
    fold_fits, eta : dict
        Per proposed model (:data:`PROPOSED`), its fit and held-out ``eta`` on each fold.
    families : dict of str to Family
    seconds : dict of str to float
        Per proposed model its fits' time; ``"effects"`` and ``"interactions"`` too.
    """

    effects: pd.DataFrame
    rankings: dict[str, pd.DataFrame] = field(default_factory=dict)
    proposals: dict[str, Proposal] = field(default_factory=dict)
    fold_fits: dict[str, tuple[Fit, ...]] = field(default_factory=dict)
    eta: dict[str, tuple[np.ndarray, ...]] = field(default_factory=dict)
    families: dict[str, Family] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    def merged(self, folds, fold_fits: dict, seconds: dict) -> tuple[list, dict, dict]:
        """A comparison's folds, fits and times with the proposed models added: each fold
        with their held-out ``eta``."""
        folds = [dataclasses.replace(fold, eta={**fold.eta, **{
            name: eta[k] for name, eta in self.eta.items()}}) for k, fold in enumerate(folds)]
        return (folds, {**fold_fits, **self.fold_fits},
                {**seconds, **{name: self.seconds[name] for name in self.fold_fits}})

    def stand_note(self, name: str) -> str:
        """One line on how a proposed regression was scored: its exact fit, or under
        separation the exact solver's last iterate (:mod:`degenet.comparison.proposal`)."""
        separated = sum(f.exact.diagnostics.separation is not None for f in self.fold_fits[name])
        folds = len(self.fold_fits[name])
        where = f" in all {folds} folds" if folds > 1 else ""
        if not separated:
            return f"regression {name}: scored as the exact optimum{where}"
        return (f"regression {name}: scored as the exact solver's last iterate in {separated} "
                f"of {folds} folds (separation: the maximum-likelihood fit diverges)")

    def proposal_dict(self, network: str) -> dict | None:
        """The JSON of a network's proposal, or None when nothing is proposed."""
        proposal = self.proposals.get(network)
        return None if proposal is None else proposal.to_dict()


def used_rows(frame: pd.DataFrame, prepared: Prepared) -> pd.DataFrame:
    """The rows of ``frame`` the prepared design holds, in order, with a fresh index.

    All of them, or (``missing="drop"``) those the target's index names; a table whose
    index repeats labels was read by position (carried columns) or is matched by the
    columns its encoding read.
    """
    if len(prepared.target) == len(frame):
        return frame.reset_index(drop=True)
    carrying = prepared.carried.spec is not None or prepared.carried.groups is not None
    if frame.index.is_unique or carrying:
        labels = frame.index if frame.index.is_unique else pd.RangeIndex(len(frame))
        return frame.iloc[labels.get_indexer(prepared.target.index)].reset_index(drop=True)
    encoding = prepared.encoding
    read = [c for c in (*encoding.columns, *encoding.excluded, encoding.target)
            if c in frame.columns]
    return frame[frame[read].notna().all(axis=1).to_numpy()].reset_index(drop=True)


def explain(table: pd.DataFrame, folds, fold_fits: dict[str, tuple[Fit, ...]],
            verdicts: tuple[Verdict, ...], y: dict[str, np.ndarray], *, null_loss: float,
            seed: int, carried: Carried = Carried(), progress=None,
            confidence: float = CONFIDENCE, tolerance: float = TOLERANCE) -> Explanation:
    """The three readings (see the module's text) of a comparison's fits.

    Parameters
    ----------
    table : DataFrame
        The comparison's rows (:func:`used_rows`), aligned with its design.
    folds : sequence of Fold
        Each with ``test_rows`` and ``eta`` (by model).
    fold_fits : dict of str to tuple of Fit
        Every model's fit on each fold.
    y : dict of str to ndarray
        The encoded target per family name.
    null_loss : float
        The baseline's held-out deviance per observation: a proposal's margin is
        ``tolerance`` times it (:mod:`degenet.comparison.proposal`).
    carried : Carried
        The rows' offset and groups: effects add the offset, a proposal carries both.
    """
    start = time.perf_counter()
    rankings = {v.network: rank_terms(fold_fits[v.network][0],
                                      table.iloc[folds[0].test_rows], seed=seed)
                for v in verdicts}
    seconds = {"interactions": time.perf_counter() - start}
    found = {}
    for verdict in verdicts:
        if verdict.prefer == "network":  # else the regression misses nothing that matters
            name = PROPOSED if len(verdicts) == 1 else f"{PROPOSED} for {verdict.network}"
            found[name] = _propose(table, folds, fold_fits, verdict, rankings[verdict.network],
                                   y, name=name, seed=seed, progress=progress,
                                   margin=(null_loss, tolerance), carried=carried)
    found = {name: result for name, result in found.items() if result is not None}
    start = time.perf_counter()
    effects = _effects(table, folds, {**fold_fits, **{n: r[1] for n, r in found.items()}},
                       confidence, carried.offset)
    seconds["effects"] = time.perf_counter() - start
    return Explanation(effects=effects, rankings=rankings,
                       proposals={r[0].network: r[0] for r in found.values()},
                       fold_fits={name: r[1] for name, r in found.items()},
                       eta={name: r[2] for name, r in found.items()},
                       families={name: r[1][0].family for name, r in found.items()},
                       seconds={**seconds, **{name: r[3] for name, r in found.items()}})


def _propose(table, folds, fold_fits, verdict: Verdict, ranking: pd.DataFrame, y, *,
             name: str, seed: int, progress, margin: tuple[float, float], carried: Carried):
    """``(proposal, fits, eta, seconds)`` of a network's proposed regression; None when the
    ranking supports no term, or the formula cannot be fitted (a warning says why)."""
    regression = fold_fits[verdict.regression]
    formula, added = propose_formula(regression[0].encoding, ranking)
    if not added:
        return None
    rows = [FoldRows(train=_whole(f, fold.test_rows), val=f.val_rows[:0], test=fold.test_rows)
            for f, fold in zip(regression, folds)]
    try:
        fits, eta, seconds = fit_proposal(table, formula, regression[0], rows, name=name,
                                          carried=carried, progress=progress)
    except DegenetError as error:  # an exotic column name or level: say so, go on
        warn(f"the proposed regression {formula!r} could not be fitted: {error}", DataWarning)
        return None
    proposal = _judged(verdict, name, formula, added, fits, eta, folds, y, seed, margin)
    return proposal, fits, eta, seconds


def _whole(fitted: Fit, test_rows: np.ndarray) -> np.ndarray:
    """The rows an exact fit may train on: the regression's training and validation rows,
    unless the validation rows are the held-out ones (one split), as the exact regression of
    :mod:`degenet.comparison.runs` does."""
    if np.intersect1d(fitted.val_rows, test_rows).size:
        return fitted.train_rows
    return np.union1d(fitted.train_rows, fitted.val_rows)


def _judged(verdict: Verdict, name, formula, added, fits, eta, folds, y, seed, margin
            ) -> Proposal:
    family = fits[0].family
    target = y[family.name]
    proposal = [unit_deviance(family, target[f.test_rows], e) for f, e in zip(folds, eta)]
    network = [unit_deviance(family, target[f.test_rows], f.eta[verdict.network])
               for f in folds]
    return judge_proposal(
        verdict, model=name, formula=formula, added=added,
        differences=[p - n for p, n in zip(proposal, network)],
        proposal_loss=float(np.mean([p.mean() for p in proposal])),
        network_loss=float(np.mean([n.mean() for n in network])),
        n_coefficients=len(fits[0].coefficients), seed=seed,
        n_train=float(np.mean([len(f.train_rows) for f in fits])), null_loss=margin[0],
        tolerance=margin[1])


def _effects(table: pd.DataFrame, folds, fold_fits: dict[str, tuple[Fit, ...]],
             confidence: float, offset: np.ndarray | None) -> pd.DataFrame:
    """Every model's effects, fold by fold, and their intervals."""
    first = next(iter(fold_fits.values()))[0]
    switches = two_valued(table, inputs(first))
    rows = []
    for model, fits in fold_fits.items():
        per_fold = [row_effects(fitted, table.iloc[fold.test_rows], switches,
                                None if offset is None else offset[fold.test_rows])
                    for fitted, fold in zip(fits, folds)]
        n_train = float(np.mean([len(f.train_rows) for f in fits]))
        rows += effect_rows(model, list(fits), per_fold, n_train=n_train,
                            confidence=confidence)
    effects = effect_table(rows)
    # For plotting on one axis: a slope per SD of its input, a switch of two values whole.
    scale = {c.name: (switches[c.name][1] - switches[c.name][0] if c.name in switches
                      else float(np.std(table[c.name].to_numpy(dtype=np.float64))))
             for c in inputs(first) if c.kind != CATEGORICAL}
    effects["scale"] = [scale.get(term, 1.0) for term in effects["term"]]
    return effects


__all__ = ["PROPOSED", "Explanation", "explain", "used_rows"]
