"""Robust (sandwich) and clustered covariances of a single-layer fit.

Notation: ``n`` rows (the sum of the frequency weights ``w``), ``k`` estimated parameters,
``g_i`` the derivative of row ``i``'s loss in its linear predictor and ``c_i`` the second
derivative (the family's ``gradient`` and ``curvature``), ``x_i`` the row of the design
(intercept included). The bread is ``B = H^-1`` with ``H = sum w_i c_i x_i x_i'`` (the
Fisher information: ``2 X'X`` for squared error, ``X'WX`` for the others) and the meat
``S = sum w_i u_i g_i^2 x_i x_i'``; the covariance is ``B S B``. For the gaussian family
this is ``(X'X)^-1 sum e_i^2 x_i x_i' (X'X)^-1``: the scale cancels.

As statsmodels defines them (``RegressionResults.cov_HC0..3`` and
``sandwich_covariance.cov_cluster`` of statsmodels 0.15; White 1980, MacKinnon & White 1985):

* ``HC0``: ``u_i = 1``.
* ``HC1``: HC0 times ``n / (n - k)``.
* ``HC2``: ``u_i = 1 / (1 - h_i)``, ``h_i = c_i x_i' H^-1 x_i`` the leverage, the diagonal of
  the weighted hat matrix ``W^1/2 X (X'WX)^-1 X' W^1/2`` (statsmodels'
  ``GLMResults.get_hat_matrix_diag``; for least squares the usual hat matrix).
* ``HC3``: ``u_i = 1 / (1 - h_i)^2``.
* ``cluster``: ``S = sum_g s_g s_g'`` with ``s_g = sum_{i in g} w_i g_i x_i``, times
  ``G / (G - 1) * (n - 1) / (n - k)`` for ``G`` clusters (statsmodels' default
  ``use_correction=True``; Stata's ``regress, vce(cluster)`` uses the same factor).

statsmodels computes HC1-HC3 this way for OLS only: its GLM and discrete-choice results
(0.15) silently return HC0 for ``cov_type="HC1" | "HC2" | "HC3"``. degenet applies the
definitions above to every family (the same as R's ``sandwich::vcovHC``): HC1-HC3 of a
logistic or Poisson fit are the ones its definition gives, not HC0 again. Weights count as
frequencies: a row of weight 2 is two rows (each with its own leverage ``h_i``). The
categorical family has one linear predictor per free class, so a row has no scalar
leverage: it takes HC0, HC1 and cluster.

Everything is computed in the standardized coordinates of the exact solver
(:class:`~degenet.exact.design.Design`) and mapped back through the Jacobian of the
standardization, as the model-based covariance is: on longley (condition number ~1e9 in the
raw units) statsmodels' own HC2, HC3 and cluster std errors keep 8 digits, these 12.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import linalg

from degenet.errors import DataWarning, DegenetError, warn
from degenet.exact.design import Design, column_stats, r_factor
from degenet.exact.least_squares import CHOLESKY_MAX_CONDITION
from degenet.exact.linalg import equilibrated_condition, spd_solve
from degenet.exact.solution import Solution, covariance_to_original
from degenet.model.family import Family

COV_TYPES = ("nonrobust", "HC0", "HC1", "HC2", "HC3", "cluster")


@dataclass(frozen=True)
class Covariance:
    """The covariance inference uses, and where it comes from.

    Attributes
    ----------
    cov_type : {'nonrobust', 'HC0', 'HC1', 'HC2', 'HC3', 'cluster'}
    matrix : ndarray, shape (n_params, n_params), or None
        In the solver's parameter order and the data's units (NaN for dropped terms); None
        for ``nonrobust``: the inverse Fisher information times the dispersion.
    n_groups : int or None
        Clusters (``cluster``).
    groups : str or None
        The column that named the clusters (None when given as an array).
    """

    cov_type: str = "nonrobust"
    matrix: np.ndarray | None = None
    n_groups: int | None = None
    groups: str | None = None

    def of(self, solution: Solution) -> np.ndarray:
        """The covariance matrix, in the solver's parameter order."""
        return solution.covariance if self.matrix is None else self.matrix

    def t_df(self, family: Family, solution: Solution) -> float | None:
        """Degrees of freedom of the t statistics (gaussian), None for z statistics.

        ``n - k`` (nonrobust and HC), ``G - 1`` for clusters: statsmodels' ``use_t=True``
        with its default ``df_correction``, and Stata's ``regress``.
        """
        if not family.scale_estimated:
            return None
        return float(self.n_groups - 1) if self.cov_type == "cluster" else solution.df_residual

    def note(self) -> str:
        """Where the std errors come from, for the summary's notes."""
        if self.cov_type == "nonrobust":
            return "from the inverse Fisher information at the exact optimum"
        if self.cov_type == "cluster":
            source = f"column {self.groups!r}" if self.groups else "groups="
            return (f"clustered by {self.n_groups} groups ({source}; sandwich with "
                    "G/(G-1) (n-1)/(n-k), as statsmodels)")
        return f"robust {self.cov_type} (sandwich, as statsmodels defines it for OLS)"

    def to_dict(self) -> dict:
        return {"cov_type": self.cov_type, "n_groups": self.n_groups, "groups": self.groups}


def check_cov_type(cov_type, groups) -> None:
    """``cov_type`` is one of :data:`COV_TYPES`; ``groups`` is given exactly for clusters."""
    if cov_type not in COV_TYPES:
        raise DegenetError(f"unknown cov_type {cov_type!r}; choose one of: "
                           f"{', '.join(COV_TYPES)}")
    if cov_type == "cluster" and groups is None:
        raise DegenetError("cov_type='cluster' needs groups= (a column name, or one label "
                           "per row)")
    if cov_type != "cluster" and groups is not None:
        raise DegenetError(f"groups= is for cov_type='cluster'; received cov_type={cov_type!r}")


def robust_covariance(family: Family, solution: Solution, X: np.ndarray, y: np.ndarray, *,
                      cov_type: str, intercept: bool, weight: np.ndarray | None = None,
                      offset: np.ndarray | None = None, groups: np.ndarray | None = None,
                      groups_name: str | None = None) -> Covariance:
    """The covariance of ``cov_type`` at the exact ``solution`` on rows ``X, y``.

    Parameters
    ----------
    X : ndarray, shape (n_samples, n_features)
    y : ndarray, shape (n_samples,)
    weight, offset : ndarray, shape (n_samples,), optional
    groups : ndarray of int, shape (n_samples,), optional
        Cluster codes (``cluster`` only).
    """
    check_cov_type(cov_type, groups)
    if cov_type == "nonrobust":
        return Covariance()
    n_outputs = solution.alpha.shape[0]
    if cov_type in ("HC2", "HC3") and family.n_free(n_outputs) > 1:
        raise DegenetError(f"cov_type={cov_type!r} needs a leverage per row; the {family.name} "
                           "family has a linear predictor per class: use HC0, HC1 or cluster")
    weight = np.ones(len(y)) if weight is None else np.asarray(weight, dtype=np.float64)
    eta = np.asarray(X, dtype=np.float64) @ solution.beta + solution.alpha
    if offset is not None:
        eta += offset[:, None]
    eta = family.squeeze(eta)
    gradient = family.free(family.gradient(y, eta))  # (n, k)
    curvature = family.curvature(eta)  # (n, k, k)
    design, inverse = _bread(solution, X, weight, curvature, intercept)
    meat, n_groups = _meat(design, inverse, weight, gradient, curvature, cov_type, groups)
    matrix = inverse @ meat @ inverse * _correction(solution, weight, cov_type, n_groups)
    return Covariance(cov_type=cov_type,
                      matrix=covariance_to_original(design, matrix, X.shape[1]),
                      n_groups=n_groups, groups=groups_name)


def _bread(solution, X, weight, curvature, intercept):
    """The standardized design and ``H^-1`` in its coordinates.

    ``H`` is well-conditioned on the centred, scaled design; where it is not (beyond
    :data:`CHOLESKY_MAX_CONDITION`), a single output's ``H^-1`` comes from the QR factor
    of ``W^1/2 A`` on the uncentred design, as the exact solver's covariance does.
    """
    kept = np.setdiff1d(np.arange(X.shape[1]), np.asarray(solution.dropped, dtype=np.int64))
    mean, scale = column_stats(X, center=intercept)
    design = Design(X, mean, scale, kept, intercept)
    k, q = curvature.shape[1], design.n_columns
    H = np.zeros((k * q, k * q))
    for rows, A in design.blocks():
        for i in range(k):
            for j in range(k):
                c = weight[rows] * curvature[rows, i, j]
                H[i * q:(i + 1) * q, j * q:(j + 1) * q] += (A * c[:, None]).T @ A
    if k == 1 and equilibrated_condition(H) > CHOLESKY_MAX_CONDITION:
        design = design.uncentered()
        R = r_factor(design, weight * curvature[:, 0, 0])
        R_inverse = linalg.solve_triangular(R, np.eye(len(R)))
        return design, R_inverse @ R_inverse.T
    return design, spd_solve(H, np.eye(len(H)))[0]


def _meat(design, inverse, weight, gradient, curvature, cov_type, groups):
    """``S`` in the design's coordinates, and the number of clusters (or None)."""
    k, q = gradient.shape[1], design.n_columns
    meat = np.zeros((k * q, k * q))
    n_groups = None
    if cov_type == "cluster":
        counted = np.unique(groups[weight > 0])
        n_groups = len(counted)
        if n_groups < 2:
            raise DegenetError(f"cov_type='cluster' needs at least 2 groups; the rows used "
                               f"have {n_groups}")
        sums = np.zeros((int(groups.max()) + 1, k * q))
    leverage_one = False
    for rows, A in design.blocks():
        w, g = weight[rows], gradient[rows]
        if cov_type == "cluster":
            scores = (g[:, :, None] * A[:, None, :]).reshape(len(A), k * q) * w[:, None]
            np.add.at(sums, groups[rows], scores)
            continue
        if k > 1:
            scores = (g[:, :, None] * A[:, None, :]).reshape(len(A), k * q)
            meat += (scores * w[:, None]).T @ scores
            continue
        u = np.ones(len(A))
        if cov_type in ("HC2", "HC3"):
            h = curvature[rows, 0, 0] * np.einsum("ij,ij->i", A @ inverse, A)
            leverage_one |= bool(np.any((h >= 1.0 - 1e-12) & (w > 0)))
            with np.errstate(divide="ignore"):
                u = 1.0 / (1.0 - h) ** (1 if cov_type == "HC2" else 2)
        meat += (A * (w * u * g[:, 0] ** 2)[:, None]).T @ A
    if cov_type == "cluster":
        meat = sums.T @ sums
    if leverage_one:
        warn(f"cov_type={cov_type!r}: a row has leverage 1 (the fit passes through "
                      "it exactly), so its weight 1/(1-h) is infinite and the std errors are "
                      "undefined (NaN); use HC0 or HC1", DataWarning)
        meat = np.full_like(meat, np.nan)
    return meat, n_groups


def _correction(solution, weight, cov_type, n_groups) -> float:
    """``n / (n - k)`` (HC1), ``G / (G - 1) (n - 1) / (n - k)`` (cluster), else 1."""
    n, df = float(weight.sum()), solution.df_residual
    if cov_type not in ("HC1", "cluster"):
        return 1.0
    if df <= 0:
        return float("nan")
    if cov_type == "HC1":
        return n / df
    return n_groups / (n_groups - 1) * (n - 1) / df
