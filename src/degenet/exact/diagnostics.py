"""Honest warnings: separation, collinear columns, a large condition number.

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
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy import optimize, sparse

from degenet.exact.design import column_stats
from degenet.errors import DataWarning
from degenet.model.families import Family
from degenet.exact.solution import Solution

MAX_LP_CELLS = 2_000_000
MARGIN = 1e-7  # margins in standardized units above this count as > 0 (HiGHS tolerance 1e-7)
LARGE_CONDITION = 1e3  # of the standardized design, as statsmodels' note for the raw one


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


@dataclass(frozen=True)
class Diagnostics:
    """What the reader of a regression must know. ``notes`` are the lines of the summary."""

    separation: Separation | None
    dropped_terms: tuple
    condition_number: float
    notes: tuple

    @property
    def withhold(self) -> str | None:
        """Why p-values are withheld, or None."""
        return self.separation.message() if self.separation is not None else None


def diagnose(family: Family, solution: Solution, X: np.ndarray, y: np.ndarray, terms,
             *, intercept: bool = True, classes=None) -> Diagnostics:
    """Look for separation, collinear columns and ill-conditioning; nothing is emitted."""
    separation = None
    if family.is_classifier:
        separation = find_separation(family, X, y, terms, intercept=intercept, classes=classes,
                                     solution=solution)
    notes = [collinear_note(solution, terms, j) for j in range(len(solution.dropped))]
    if separation is not None:
        notes.append(separation.message() + ".")
    if solution.condition_number > LARGE_CONDITION:
        notes.append(
            f"The condition number of the standardized design is {solution.condition_number:.3g} "
            f"(> {LARGE_CONDITION:g}): strong multicollinearity; the estimates are exact for "
            "these data but sensitive to small changes in them.")
    if not solution.converged:
        notes.append(f"The exact solver did not converge in {solution.n_iter} iterations.")
    dropped = tuple(terms[j] for j in solution.dropped)
    return Diagnostics(separation, dropped, solution.condition_number, tuple(notes))


def emit(diagnostics: Diagnostics, model: str, stacklevel: int = 2) -> None:
    """Each diagnostic as a :class:`DataWarning` naming the model."""
    for note in diagnostics.notes:
        if "did not converge" not in note:  # the solver warned already
            warnings.warn(f"model {model!r}: {note}", DataWarning, stacklevel=stacklevel + 1)


def collinear_note(solution: Solution, terms, j: int) -> str:
    """``'x3' = 0.5 * 'x1' + 2 * 'x2' - 1`` on the training rows, and what was done."""
    column, relation = solution.dropped[j], solution.relations[:, j]
    parts = [f"{relation[i]:+.6g} * {terms[i]!r}" for i in range(len(terms))
             if abs(relation[i]) > 1e-10 * np.abs(relation).max()]
    if abs(relation[-1]) > 1e-10 * max(1.0, np.abs(relation).max()):
        parts.append(f"{relation[-1]:+.6g}")
    combination = " ".join(parts).lstrip("+") or "0"
    return (f"Column {terms[column]!r} is exactly collinear with the others "
            f"({terms[column]!r} = {combination} on the training rows): it was dropped; its "
            "coefficient is fixed at 0 and its std error is NaN.")


def find_separation(family: Family, X: np.ndarray, y: np.ndarray, terms, *,
                    intercept: bool = True, classes=None, solution: Solution | None = None
                    ) -> Separation | None:
    """The separation of ``y`` by the columns of ``X``, or None (see the module's text)."""
    if solution is not None and _interior_optimum(family, X, solution):
        return None
    n, p = X.shape
    n_classes = len(classes) if classes is not None else int(y.max()) + 1
    cells = n * (p + 1) * max(1, n_classes - 1)
    if cells > MAX_LP_CELLS:
        return _extreme_fit(family, X, solution) if solution is not None else None
    mean, scale = column_stats(X, center=intercept)
    A = (np.asarray(X, dtype=np.float64) - mean) / scale
    if intercept:
        A = np.column_stack([A, np.ones(n)])
    margins = _margin_matrix(family, A, y, n_classes)
    b, total = _max_total_margin(margins)
    if b is None or total <= MARGIN:
        return None
    rows = margins @ b
    n_separated = len(np.unique(np.nonzero(rows > MARGIN)[0] % n))
    kind = "complete" if _complete(margins) else "quasi-complete"
    n_separated = n if kind == "complete" else n_separated
    q = A.shape[1]
    b = _sparse_direction(margins, q, intercept, fallback=b)
    size = np.abs(b).reshape(q, -1, order="F")
    involved = tuple(str(terms[j]) for j in range(p) if size[j].max() > 1e-6)
    diverging = ()
    if family.name == "categorical" and classes is not None:
        diverging = tuple(classes[k + 1] for k in range(size.shape[1]) if size[:, k].max() > 1e-6)
    return Separation(kind, involved, n_separated, diverging)


def _margin_matrix(family, A, y, n_classes):
    """Rows ``M`` with the margins ``M b`` (see the module's text); sparse for categorical."""
    if family.name != "categorical":
        return A * (2.0 * y - 1.0)[:, None]
    codes = y.astype(np.int64)
    blocks = []
    for k in range(n_classes):
        # row i: a_i' b_{y_i} - a_i' b_k, with b_0 = 0; rows with y_i = k give 0: skipped
        rows = codes != k
        pieces = [sparse.csr_matrix(A[rows] * ((codes[rows] == c) - float(k == c))[:, None])
                  for c in range(1, n_classes)]
        blocks.append(sparse.hstack(pieces))
    return sparse.vstack(blocks).tocsr()


def _max_total_margin(M):
    """``max 1' M b`` subject to ``M b >= 0`` and ``|b| <= 1``."""
    result = optimize.linprog(-np.asarray(M.sum(axis=0)).ravel(), A_ub=-M,
                              b_ub=np.zeros(M.shape[0]), bounds=(-1, 1), method="highs")
    if result.status != 0:
        return None, 0.0
    return result.x, -result.fun


def _sparse_direction(M, q, intercept, fallback):
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
    result = optimize.linprog(np.r_[penalty, penalty], A_ub=A_ub, b_ub=b_ub,
                              bounds=(0, None), method="highs")
    if result.status != 0:
        return fallback
    b = result.x[:m] - result.x[m:]
    return b / np.abs(b).max()


def _complete(M) -> bool:
    """Whether some ``b`` gives every margin >= t > 0: ``max t`` s.t. ``M b >= t``."""
    n, m = M.shape
    A_ub = sparse.hstack([-sparse.csr_matrix(M), sparse.csr_matrix(np.ones((n, 1)))])
    cost = np.zeros(m + 1)
    cost[-1] = -1.0
    result = optimize.linprog(cost, A_ub=A_ub, b_ub=np.zeros(n),
                              bounds=[(-1, 1)] * m + [(0, 1)], method="highs")
    return result.status == 0 and -result.fun > MARGIN


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
    for start in range(0, len(X), 65536):
        eta = np.asarray(X[start:start + 65536], dtype=np.float64) @ solution.beta + solution.alpha
        spread = eta.max(axis=1) - eta.min(axis=1) if family.name == "categorical" else eta
        if np.abs(spread).max() > bound:
            return False
    return True


def _extreme_fit(family, X, solution):
    """Possible separation on data too large for the LP: fitted probabilities at 0 or 1."""
    eta_max = 0.0
    for start in range(0, len(X), 65536):
        eta = np.asarray(X[start:start + 65536], dtype=np.float64) @ solution.beta + solution.alpha
        if family.name == "categorical":
            eta = eta - eta.max(axis=1, keepdims=True)
            eta = -np.sort(eta, axis=1)[:, -2:-1]  # the gap between the top two classes
        eta_max = max(eta_max, float(np.abs(eta).max()))
    if eta_max < 27.6 and solution.converged:  # sigmoid(27.6) = 1 - 1e-12
        return None
    return Separation("possible", (), 0)
