"""The regression it should have been: the network's supported terms, added to a formula.

From a network's ranking (:mod:`degenet.comparison.interactions`) degenet writes a formula:
the regression's own terms, each supported interaction ``a:b``, and for each supported
nonlinearity of ``x`` a natural cubic spline ``cr(x, df=4, constraints='center')`` in place
of the straight ``x``. That formula is fitted as one more degenerate network on the rows
the exact regression trains on (each fold's training rows, its validation share too: an
exact fit needs no early stopping), and scored on the same held-out rows. It is fitted at its
exact optimum (least squares, or Newton in float64; ``solver="exact"``), the weights put
into the Keras model: a proposal is a statistician's model, read at its maximum
likelihood, as statsmodels would fit the formula; and it is cheap (a Newton solve takes a
fraction of the epochs gradient descent needs). Under separation no maximum exists and the
solver's last iterate is scored, as the notes say: the comparison's regression is then its
early-stopped fit (:mod:`degenet.comparison.runs`), but gradient descent on a separated
proposal runs for hundreds of epochs while its logits grow (66 s of the demo's 100,000 rows,
twice the comparison's own time), and the last iterate classifies the held-out rows as the
network does. ``degenet fit --formula F
--solver exact`` fits the formula's model (on every row); without ``--solver`` it is
trained by gradient descent towards that optimum.

Sign convention: ``loss_difference = proposed regression deviance - network deviance`` per
held-out observation; **negative means the regression is better**. The interval is the
verdict's (a paired bootstrap over the held-out rows with one split, the corrected
resampled t over folds).

The question is the analyst's next one: can a regression I can read do as well? So the
readable model is preferred unless the network is better by a difference that matters, and
what matters is measured on the scale of what there is to explain: ``margin = tolerance *
null deviance`` (the intercept-only baseline's), one percentage point of the deviance
explained by default. ``prefer`` is ``"regression"`` (the proposed one) when the whole
interval lies below ``+margin``, ``"network"`` when it lies above, ``"either"`` when it
straddles it. (The verdict's margin, 1% of the regression's own deviance, answers another
question, whether the network is worth it at all; against a proposal that already recovers
nearly all of the network's gain it would turn on differences as small as calibration noise:
on the post's separable colours the proposed regression classifies every held-out row as
the network does, and its deviance differs only by how far its logits grew.)
"""

from __future__ import annotations

import dataclasses
import time
import warnings
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from formulaic import Formula

from degenet.comparison.interactions import formula_name
from degenet.comparison.verdict import (TOLERANCE, Verdict, bootstrap_interval,
                                        corrected_t_interval)
from degenet.data.carried import Carried
from degenet.data.encoding import Encoding
from degenet.data.prepare import prepare
from degenet.errors import DegenetError, warn
from degenet.fitting import Fit, Task, fit_prepared
from degenet.jsonvalues import plain
from degenet.model.specs import parse_spec

SIGN = ("loss_difference = proposed regression deviance - network deviance per held-out "
        "observation; negative means the regression is better")


@dataclass(frozen=True)
class Proposal:
    """The proposed regression of one network, scored against it on the same held-out rows.

    Attributes
    ----------
    network, regression : str
        The network's spec and the regression's (the family's single-layer model).
    model : str
        Its name among the comparison's models (``"proposed"``).
    formula : str
        The formula ``degenet fit --formula`` reproduces it with.
    added_terms : tuple of str
        The terms added to the regression's own, as formulaic writes them.
    loss_difference, ci_low, ci_high : float
        Proposed minus network deviance per held-out observation, and its interval.
    prefer : {'regression', 'network', 'either'}
    proposal_loss, network_loss, margin, confidence : float
    method : str
    n_coefficients : int
    """

    network: str
    regression: str
    model: str
    formula: str
    added_terms: tuple[str, ...]
    loss_difference: float
    ci_low: float
    ci_high: float
    prefer: str
    proposal_loss: float
    network_loss: float
    margin: float
    confidence: float
    method: str
    n_coefficients: int

    @property
    def sentence(self) -> str:
        """What to do, in one sentence."""
        level, readable = f"{self.confidence:.0%} CI", f"{self.n_coefficients} coefficients"
        interval = f"{level} {self.ci_low:+.3g} to {self.ci_high:+.3g}"
        regression = f"regression `{self.formula}`"
        if self.prefer == "regression" and self.loss_difference <= 0:
            return (f"The {regression} does as well as the network {self.network} or better "
                    f"(held-out deviance per observation {self.loss_difference:+.3g}, "
                    f"{interval}, below the margin {self.margin:.3g} that matters): prefer "
                    f"it, {readable} you can read.")
        if self.prefer == "regression":
            return (f"The {regression} is within {self.loss_difference:.3g} of the network "
                    f"{self.network} ({interval}, below the margin {self.margin:.3g} that "
                    f"matters): prefer it, {readable} you can read.")
        if self.prefer == "network":
            return (f"The proposed {regression} still trails the network {self.network} by "
                    f"{self.loss_difference:.3g} ({interval}): the network sees more than "
                    "these terms.")
        return (f"The proposed {regression} and the network {self.network} differ by "
                f"{self.loss_difference:+.3g} in held-out deviance per observation ({interval}), "
                f"which may or may not exceed the margin {self.margin:.3g}: the regression is "
                "the readable choice if that is acceptable.")

    def to_dict(self) -> dict:
        fields = {key: plain(value) for key, value in asdict(self).items()}
        return {**fields, "added_terms": list(self.added_terms), "sentence": self.sentence,
                "sign": SIGN}


def propose_formula(encoding: Encoding, ranking: pd.DataFrame) -> tuple[str, tuple[str, ...]]:
    """The formula of the regression's terms plus the ranking's supported ones.

    Returns ``(formula, added_terms)``; ``added_terms`` is empty when nothing is supported.
    A spline replaces the straight term of its input; it is only proposed for an input the
    regression has as a plain term.
    """
    terms, intercept = base_terms(encoding)
    present = {frozenset(term.split(":")) for term in terms}
    added = []
    for row in ranking[ranking["supported"]].itertuples():
        if row.kind == "nonlinearity":
            plain_term = formula_name(row.variables[0])
            if plain_term not in terms:
                continue
            terms[terms.index(plain_term)] = row.term
        elif frozenset(row.term.split(":")) in present:
            continue
        else:
            terms.append(row.term)
        added.append(row.term)
    rhs = " + ".join(terms) + ("" if intercept else " - 1")
    return f"{formula_name(encoding.target)} ~ {rhs}", tuple(added)


def base_terms(encoding: Encoding) -> tuple[list[str], bool]:
    """The regression's own right-hand side as formula terms, and whether it has an intercept."""
    if encoding.formula is None:
        return [formula_name(column) for column in encoding.columns], encoding.intercept
    parsed = Formula(encoding.formula)
    rhs = parsed.rhs if hasattr(parsed, "rhs") else parsed
    terms = [":".join(_factor(factor) for factor in term.factors) for term in rhs
             if str(term) not in ("1", "0")]
    return terms, encoding.intercept


def _factor(factor) -> str:
    expr = str(factor.expr)
    return formula_name(expr) if factor.eval_method.value == "lookup" else expr


@dataclass(frozen=True)
class FoldRows:
    """One fold's rows: the exact fit's training rows (``val`` empty) and the held-out ones."""

    train: np.ndarray
    val: np.ndarray
    test: np.ndarray


def fit_proposal(table: pd.DataFrame, formula: str, regression: Fit, folds: list[FoldRows], *,
                 name: str, carried: Carried = Carried(), progress=None
                 ) -> tuple[tuple[Fit, ...], tuple[np.ndarray, ...], float]:
    """Fit ``formula`` like ``regression`` on each fold; its held-out ``eta`` per fold.

    ``table`` holds exactly the comparison's rows, in its order, so the folds' row positions
    mean the same rows; ``carried`` their offset and groups, which the proposal takes as the
    regression did. Returns ``(fits, eta, seconds)``. Its warnings (separation, ...) say
    they are about the proposed regression.
    """
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fits, eta = _fit_folds(table, formula, regression, folds, name, carried, progress)
    for warning in caught:
        warn(f"proposed regression `{formula}`: {warning.message}", warning.category)
    return fits, eta, time.perf_counter() - start


def _fit_folds(table, formula, regression, folds, name, carried, progress):
    prepared = prepare(table, formula=formula, **_carried(carried))
    encoded = regression.family.encode_target(prepared.target)
    if len(prepared.X) != len(table):
        raise DegenetError(f"the proposed formula {formula!r} kept {len(prepared.X)} of the "
                           f"{len(table)} rows; it cannot be scored on the same rows")
    fits, eta = [], []
    for number, rows in enumerate(folds, start=1):
        task = Task(spec=parse_spec(regression.spec.text), family=regression.family,
                    target=encoded, train_rows=rows.train, val_rows=rows.val,
                    settings=dataclasses.replace(regression.settings, validation=0.0),
                    seed=regression.seed,
                    intercept=prepared.encoding.intercept, solver="exact",
                    cov_type=regression.exact.cov_type)
        fitted = fit_prepared(prepared, task)
        if progress:  # one solve, no epochs: the bar fills at once
            progress(name if len(folds) == 1 else f"{name} fold {number}/{len(folds)}", 1, 1)
        fits.append(fitted)
        offset = None if prepared.offset is None else prepared.offset[rows.test]
        eta.append(np.asarray(fitted.design_eta(prepared.X[rows.test], offset), dtype=float))
    return tuple(fits), tuple(eta)


def _carried(carried: Carried) -> dict:
    """``prepare``'s options that give the proposal the regression's offset and groups:
    the same columns, or the rows' values (already the log of an exposure)."""
    options = {}
    if carried.spec is not None:
        column = carried.spec.column
        options[carried.spec.argument if column else "offset"] = column or carried.offset
    if carried.groups is not None:
        options["groups"] = carried.group_column or carried.groups
    return options


def judge_proposal(verdict: Verdict, *, model: str, formula: str, added: tuple[str, ...],
                   differences: list[np.ndarray], proposal_loss: float, network_loss: float,
                   null_loss: float, n_coefficients: int, seed: int, n_train: float,
                   tolerance: float = TOLERANCE) -> Proposal:
    """The proposal against the network, with the verdict's interval method; the margin is
    ``tolerance * null_loss`` (see the module's text)."""
    if len(differences) == 1:
        low, high = bootstrap_interval(differences[0], seed=seed, confidence=verdict.confidence)
        estimate = float(np.mean(differences[0]))
    else:
        means = np.array([np.mean(d) for d in differences])
        n_test = sum(len(d) for d in differences) / len(differences)
        low, high = corrected_t_interval(means, n_train=n_train, n_test=n_test,
                                         confidence=verdict.confidence)
        estimate = float(means.mean())
    margin = float(tolerance * abs(null_loss))
    prefer = "regression" if high < margin else "network" if low > margin else "either"
    return Proposal(network=verdict.network, regression=verdict.regression, model=model,
                    formula=formula, added_terms=tuple(added), loss_difference=estimate,
                    ci_low=low, ci_high=high, prefer=prefer,
                    proposal_loss=float(proposal_loss), network_loss=float(network_loss),
                    margin=margin, confidence=verdict.confidence, method=verdict.method,
                    n_coefficients=int(n_coefficients))


__all__ = ["FoldRows", "Proposal", "SIGN", "base_terms", "fit_proposal", "judge_proposal",
           "propose_formula"]
