"""Separation of classes by the predictors: where the maximum likelihood estimate does not exist.

Separation (bernoulli, categorical) is found by linear programming, after Konis (2007),
"Linear programming algorithms for detecting separated data in binary logistic regression
models" (DPhil thesis, Oxford; R package ``safeBinaryRegression``): the maximum
likelihood estimate is infinite exactly when some direction ``b != 0`` of the
coefficients never increases any row's loss, i.e. when every row's margin is >= 0:

* bernoulli: ``s_i a_i' b >= 0`` with ``s_i = +1`` for the positive class, ``-1`` else;
* categorical: ``a_i' (b_{y_i} - b_k) >= 0`` for every other class ``k`` (``b_0 = 0``).

We maximize the total margin in the box ``|b| <= 1`` (HiGHS via ``scipy.optimize.linprog``).
A positive optimum means separation; rows with a positive margin are predicted perfectly
along ``b``, and the terms with ``b_j != 0`` are the variables that separate. It is
complete when a second LP finds a direction with every margin > 0. The LP runs on the
standardized design when it has at most ``MAX_LP_CELLS`` cells; above that, fitted
probabilities within 1e-12 of 0 or 1 are reported as possible separation instead.

Two cheaper tests come first (the LPs took 7-26 s each on scikit-learn's digits):
:func:`one_column_separation`, before Newton starts, finds a single column that divides one
class from the others (a rare level seen with one outcome, the usual case in practice), and
a Newton iterate that separates every row proves complete separation
(:mod:`degenet.exact.stopping`). Each LP is stopped after ``MAX_LP_SECONDS``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize, sparse

from degenet.exact.design import column_stats
from degenet.exact.solution import Solution
from degenet.exact.stopping import SEPARATION, TIME
from degenet.model.family import Family

MAX_LP_CELLS = 2_000_000
MARGIN = 1e-7  # margins in standardized units above this count as > 0 (HiGHS tolerance 1e-7)
# Each linear program stops after this many seconds (HiGHS's time_limit); its answer is
# then the fallback: no term list, or "possible" separation.
MAX_LP_SECONDS = 2.0
# The one-column test reads the design once per class: run when n * p * classes is at most
# this (0.1 s here); larger data rely on the separating-iterate test and the LP's fallback.
ONE_COLUMN_MAX_CELLS = 20_000_000


@dataclass(frozen=True)
class Separation:
    """Separated training data.

    Attributes
    ----------
    kind : str
        ``"complete"``, ``"quasi-complete"`` or ``"possible"`` (not checked by LP).
    terms : tuple of str
        The terms along whose direction the likelihood keeps rising.
    n_separated : int
        Rows predicted perfectly along that direction.
    classes : tuple
        Categorical: the classes whose coefficients diverge.
    """

    kind: str
    terms: tuple
    n_separated: int
    classes: tuple = ()

    def message(self) -> str:
        where = f" by {', '.join(map(repr, self.terms))}" if self.terms else ""
        classes = (f" (classes {', '.join(map(repr, self.classes))})" if self.classes else "")
        return (f"{self.kind} separation: {self.n_separated} training row(s) are predicted "
                f"perfectly{where}{classes}; the maximum likelihood estimate does not exist "
                "(coefficients grow without bound), so p-values and intervals are withheld")


def find_separation(family: Family, X: np.ndarray, y: np.ndarray, terms, *,
                    intercept: bool = True, classes=None, solution: Solution | None = None,
                    seconds: float = MAX_LP_SECONDS) -> Separation | None:
    """The separation of ``y`` by the columns of ``X``, or None (see the module's text).

    ``seconds``: the time limit of each linear program.
    """
    if solution is not None and (solution.stopped == TIME
                                 or _interior_optimum(family, X, solution)):
        return None  # stopped by its time cap: nothing known, nor looked for (no time left)
    n, p = X.shape
    n_classes = len(classes) if classes is not None else int(y.max()) + 1
    cells = n * (p + 1) * max(1, n_classes - 1)
    proved = solution is not None and solution.stopped == SEPARATION
    if cells > MAX_LP_CELLS:
        if proved:
            return Separation(kind="complete", terms=(), n_separated=n)
        return _extreme_fit(family, X, solution) if solution is not None else None
    margins, q = _margins(family, X, y, n_classes, intercept)
    b, total = (None, 0.0) if proved else _max_total_margin(margins, seconds)
    if not proved and (b is None or total <= MARGIN):
        return _extreme_fit(family, X, solution) if b is None and solution is not None else None
    # A separating Newton iterate proved it complete (degenet.exact.stopping).
    complete = proved or _complete(margins, seconds)
    rows = margins @ b if b is not None else None
    n_separated = n if complete else len(np.unique(np.nonzero(rows > MARGIN)[0] % n))
    b = _sparse_direction(margins, q, intercept, fallback=b, seconds=seconds)
    if b is None:  # proved by the iterate, and no direction found in time: no names
        return Separation(kind="complete", terms=(), n_separated=n)
    size = np.abs(b).reshape(q, -1, order="F")
    involved = tuple(str(terms[j]) for j in range(p) if size[j].max() > 1e-6)
    diverging = ()
    if family.contrasts and classes is not None:
        diverging = tuple(classes[k + 1] for k in range(size.shape[1]) if size[:, k].max() > 1e-6)
    return Separation(kind="complete" if complete else "quasi-complete", terms=involved,
                      n_separated=n_separated, classes=diverging)


def one_column_separation(family: Family, X: np.ndarray, y: np.ndarray, terms, *,
                          classes=None, sample_weight: np.ndarray | None = None
                          ) -> Separation | None:
    """A single column that divides one class from the others, or None: a test cheap
    enough to run before Newton (``O(n p)`` per class, on rows of positive weight).

    Class ``c`` is divided by column ``x`` when every row of ``c`` has ``x`` at least (or at
    most) every other row's: the direction ``b_c = +-(x - boundary)`` then never raises a
    row's loss. Strictly, for two classes, it is complete separation; else quasi-complete.
    Of several such columns, the one that puts the most rows strictly on their side is
    named. Skipped (None) above :data:`ONE_COLUMN_MAX_CELLS`.
    """
    n, p = X.shape
    n_classes = len(classes) if classes is not None else int(y.max()) + 1
    if not family.is_classifier or n * p * n_classes > ONE_COLUMN_MAX_CELLS:
        return None
    counted = slice(None) if sample_weight is None else np.asarray(sample_weight) > 0
    values, codes = np.asarray(X[counted]), y[counted].astype(np.int64)
    best = None
    for c in range(1 if n_classes == 2 else 0, n_classes):  # two classes: one split
        found = _divided(values, codes == c)
        if found is not None and (best is None or found[:2] > best[:2]):
            best = (*found, c)
    if best is None:
        return None
    strict, n_separated, j, c = best
    complete = strict and n_classes == 2
    diverging = ()
    if family.contrasts and classes is not None:
        diverging = (classes[c],) if c > 0 else tuple(classes[1:])
    return Separation(kind="complete" if complete else "quasi-complete", terms=(str(terms[j]),),
                      n_separated=len(codes) if complete else n_separated, classes=diverging)


def _divided(values: np.ndarray, inside: np.ndarray):
    """``(strict, rows strictly on their side, column)`` of the column that best divides the
    rows ``inside`` from the others, or None."""
    if inside.all() or not inside.any():
        return None
    low_a, high_a = _extremes(values, inside)
    low_b, high_b = _extremes(values, ~inside)
    above, below = low_a >= high_b, high_a <= low_b
    candidates = np.flatnonzero((above | below) & ~(above & below))  # both: a constant column
    if not len(candidates):
        return None
    scores = []
    for j in candidates:
        x = values[:, j]
        if above[j]:
            strict, count = low_a[j] > high_b[j], ((x > high_b[j]) & inside).sum() + (
                (x < low_a[j]) & ~inside).sum()
        else:
            strict, count = high_a[j] < low_b[j], ((x < low_b[j]) & inside).sum() + (
                (x > high_a[j]) & ~inside).sum()
        scores.append((bool(strict), int(count), -int(j)))  # ties: the first column
    strict, count, j = max(scores)
    return strict, count, -j


def _extremes(values, rows):
    """Column minima and maxima over the ``rows`` (a mask) of ``values``, without a copy."""
    where = rows[:, None]
    return (np.min(values, axis=0, where=where, initial=np.inf),
            np.max(values, axis=0, where=where, initial=-np.inf))


def _margins(family, X, y, n_classes, intercept):
    """The margin rows of the standardized design (``Family.separation_margins``), and
    the number of its columns."""
    mean, scale = column_stats(X, center=intercept)
    A = (np.asarray(X, dtype=np.float64) - mean) / scale
    if intercept:
        A = np.column_stack([A, np.ones(len(A))])
    return family.separation_margins(A, y, n_classes), A.shape[1]


def _linprog(cost, seconds, **problem):
    """HiGHS with a time limit; the result, or None when it did not finish optimal."""
    result = optimize.linprog(cost, method="highs", options={"time_limit": float(seconds)},
                              **problem)
    return result if result.status == 0 else None


def _max_total_margin(M, seconds):
    """``max 1' M b`` subject to ``M b >= 0`` and ``|b| <= 1``."""
    result = _linprog(-np.asarray(M.sum(axis=0)).ravel(), seconds, A_ub=-M,
                      b_ub=np.zeros(M.shape[0]), bounds=(-1, 1))
    if result is None:
        return None, 0.0
    return result.x, -result.fun


def _sparse_direction(M, q, intercept, fallback, seconds):
    """A separating direction with the fewest terms: ``min |b|_1`` (intercept free) subject
    to ``M b >= 0`` and ``1' M b >= 1``, with ``b = b+ - b-`` (the usual L1 linear program)."""
    m = M.shape[1]
    penalty = np.ones((q, m // q))
    if intercept:
        penalty[-1] = 0.0
    penalty = penalty.ravel(order="F")
    total = np.asarray(M.sum(axis=0)).ravel()
    M = sparse.csr_matrix(M)
    A_ub = sparse.vstack([sparse.hstack([-M, M]), sparse.csr_matrix(np.r_[-total, total][None])])
    b_ub = np.r_[np.zeros(M.shape[0]), -1.0]
    result = _linprog(np.r_[penalty, penalty], seconds, A_ub=A_ub, b_ub=b_ub, bounds=(0, None))
    if result is None:
        return fallback
    b = result.x[:m] - result.x[m:]
    return b / np.abs(b).max()


def _complete(M, seconds) -> bool:
    """Whether some ``b`` gives every margin >= t > 0: ``max t`` s.t. ``M b >= t``."""
    n, m = M.shape
    A_ub = sparse.hstack([-sparse.csr_matrix(M), sparse.csr_matrix(np.ones((n, 1)))])
    cost = np.zeros(m + 1)
    cost[-1] = -1.0
    result = _linprog(cost, seconds, A_ub=A_ub, b_ub=np.zeros(n),
                      bounds=[(-1, 1)] * m + [(0, 1)])
    return result is not None and -result.fun > MARGIN


def _interior_optimum(family, X, solution, bound: float = 15.0) -> bool:
    """Whether Newton stopped at a finite optimum, which rules separation out without an LP.

    Under separation the likelihood has no maximum: along a separating direction ``d`` the
    gradient's component is a sum of terms ``(d'x_i)(mu_i - y_i)`` of one sign, and Newton's
    decrement stays far above its 1e-10 tolerance (~sqrt(min fitted probability)) until
    the separated rows' fitted probabilities are within ~1e-20 of 0 or 1, i.e. |eta| > 40.
    A converged fit whose every fitted log-odds spread is below ``bound`` (probabilities
    within (3e-7, 1 - 3e-7)) therefore has no separation, and the costly LP is skipped.
    """
    if not solution.converged:
        return False
    if np.isfinite(solution.logit_spread):  # from Newton's last pass: no pass of our own
        return solution.logit_spread <= bound
    for start in range(0, len(X), 65536):
        logits = family.full_logits(_eta(X[start:start + 65536], solution))
        if (logits.max(axis=1) - logits.min(axis=1)).max() > bound:
            return False
    return True


def _extreme_fit(family, X, solution):
    """Possible separation on data too large for the LP: fitted probabilities at 0 or 1."""
    eta_max = 0.0 if np.isnan(solution.logit_gap) else solution.logit_gap
    for start in range(0, len(X) if np.isnan(solution.logit_gap) else 0, 65536):
        top = np.sort(family.full_logits(_eta(X[start:start + 65536], solution)), axis=1)
        gap = top[:, -1] - top[:, -2]  # the log-odds of the likeliest class against the next
        eta_max = max(eta_max, float(gap.max()))
    if eta_max < 27.6 and solution.converged:  # sigmoid(27.6) = 1 - 1e-12
        return None
    return Separation(kind="possible", terms=(), n_separated=0)


def _eta(X, solution: Solution) -> np.ndarray:
    """The solution's linear predictor on rows ``X``, ``(n, n_outputs)``, float64."""
    return np.asarray(X, dtype=np.float64) @ solution.beta + solution.alpha
