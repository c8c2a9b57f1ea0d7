"""The exact optimum of a single-layer model, in float64, on any number of rows.

Each family names its method (``Family.exact_solver``):

* ``least_squares`` (gaussian): Householder QR of the standardized design, never the
  normal equations on an ill-conditioned design. Large designs are read in row blocks; when
  the measured condition number of the standardized ``A'A`` is small (<= 1e6) the normal
  equations plus iterative refinement are as accurate and half the work, otherwise a
  blocked QR (TSQR) pass gives ``R`` directly.
* ``newton`` (bernoulli, poisson, categorical): Newton's method (IRLS for these canonical
  links) with a backtracking line search, stopped on the Newton decrement.

Every pass over the data goes through :class:`degenet.design.Design`, which converts and
standardizes one block of rows at a time: ``X`` is never copied whole in float64 and no
``n x n`` matrix is formed. A Newton iteration costs one pass for ``A'WA`` and ``A'(mu - y)``
and one light pass for ``A d``; the line search itself needs no pass.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy import linalg

from degenet.design import (BLOCK_ROWS, Design, add_gram, add_product, column_stats,
                            equilibrated_condition, gram, r_factor, symmetric)
from degenet.errors import ConvergenceWarning, DegenetError
from degenet.families import Family, get_family
from degenet.least_squares import CHOLESKY_MAX_CONDITION, least_squares
from degenet.solution import (Solution, covariance_to_original, estimates_to_original,
                              find_collinear, relations_of)

# cond(A'A) at most this: A is surely of full rank, no QR pass is needed to find its rank.
FULL_RANK_MAX_CONDITION = 1e10


def solve(family: str | Family, X: np.ndarray, y: np.ndarray, *, intercept: bool = True,
          sample_weight: np.ndarray | None = None, n_classes: int | None = None,
          tol: float = 1e-10, max_iter: int = 100, block_rows: int = BLOCK_ROWS) -> Solution:
    """The exact optimum of the family's loss for a single-layer model ``eta = X beta + alpha``.

    Parameters
    ----------
    family : str or Family
    X : ndarray, shape (n_samples, n_features)
        Any float dtype (float32 is fine); read in blocks of ``block_rows``, never copied.
    y : ndarray, shape (n_samples,)
        As ``Family.encode_target`` gives it (0/1, class codes, counts, numbers).
    intercept : bool
    sample_weight : ndarray, shape (n_samples,), optional
        Non-negative; they weight the loss (and count as frequencies in inference).
    n_classes : int, optional
        Categorical only; default ``max(y) + 1``.
    tol : float
        Newton: stop when the Newton decrement ``sqrt(g' H^-1 g)`` of the mean loss is at
        most ``tol`` (then ``loss - optimum ~ tol^2 / 2``).
    max_iter : int
    block_rows : int
        Rows per block of a pass over ``X`` (memory: ``block_rows * n_features`` float64).

    Returns
    -------
    Solution
        The optimum in the units of ``X``, with the covariance inference needs.

    Notes
    -----
    Exactly collinear columns are dropped (``Solution.dropped``: coefficient 0, std error
    NaN) with the relation that makes them redundant. Separation is not checked here
    (Newton's iterates then grow until the loss stops falling); see
    :func:`degenet.diagnostics.find_separation`.
    """
    family = get_family(family)
    X, y, weight, n_classes = _check_inputs(family, X, y, sample_weight, n_classes)
    _check_settings(tol, max_iter, block_rows)
    mean, scale = column_stats(X, center=intercept, block_rows=block_rows)
    _check_finite_columns(mean, scale)
    design = Design(X, mean, scale, np.arange(X.shape[1]), intercept, block_rows)
    if family.exact_solver == "least_squares":
        return least_squares(design, y, weight, family)
    return _newton(family, design, y, weight, n_classes, tol, max_iter)


def _check_inputs(family, X, y, sample_weight, n_classes):
    X = np.asarray(X)
    if X.ndim != 2 or not np.issubdtype(X.dtype, np.number):
        raise DegenetError(f"X must be a 2-D numeric array; received shape {X.shape}, "
                           f"dtype {X.dtype}")
    y = np.asarray(y, dtype=np.float64).ravel()
    if len(y) != len(X):
        raise DegenetError(f"y has {len(y)} rows but X has {len(X)}; they must match")
    if not np.isfinite(y).all():
        raise DegenetError(f"y holds {y[~np.isfinite(y)][0]:g}; it needs finite numbers")
    weight = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, float)
    if weight.shape != y.shape or not np.isfinite(weight).all() or (weight < 0).any() \
            or weight.sum() <= 0:
        raise DegenetError(f"sample_weight must be {len(y)} finite non-negative numbers, "
                           f"not all zero; received shape {weight.shape}")
    if family.name == "bernoulli" and not np.isin(y, (0.0, 1.0)).all():
        raise DegenetError(f"bernoulli y must be 0 or 1; received {y[~np.isin(y, (0, 1))][0]:g}")
    if family.name == "poisson" and (y < 0).any():
        raise DegenetError(f"poisson y must be counts >= 0; received {y[y < 0][0]:g}")
    present = np.unique(y[weight > 0])
    if family.is_classifier and len(present) < 2:
        raise DegenetError(f"{family.name} y has a single class ({present[0]:g}) among the rows "
                           "with positive weight; a classifier needs at least 2 classes")
    if family.name == "poisson" and not (y[weight > 0] > 0).any():
        raise DegenetError("poisson y is 0 on every row with positive weight; nothing to fit")
    if family.name == "categorical":
        n_classes = int(y.max()) + 1 if n_classes is None else int(n_classes)
        if (y != np.round(y)).any() or y.min() < 0 or y.max() >= n_classes or n_classes < 2:
            raise DegenetError(f"categorical y must hold class codes 0..{n_classes - 1} "
                               f"(n_classes={n_classes}); received values "
                               f"{', '.join(f'{v:g}' for v in np.unique(y)[:5])}")
    return X, y, weight, n_classes


def _check_settings(tol, max_iter, block_rows):
    if not (isinstance(tol, (int, float)) and tol > 0):
        raise DegenetError(f"tol must be a positive number; received tol={tol!r}")
    for name, value in (("max_iter", max_iter), ("block_rows", block_rows)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise DegenetError(f"{name} must be a positive integer; received {name}={value!r}")


def _check_finite_columns(mean, scale):
    bad = np.where(~(np.isfinite(mean) & np.isfinite(scale)))[0]
    if len(bad):
        raise DegenetError(f"column {int(bad[0])} of X holds infinite or missing values; "
                           "it needs finite numbers")


def _first_step(family, G, b, weight, n_classes, start):
    """Gradient and Hessian at a constant ``eta = start``, from ``A'WA`` and ``A'W[Y, 1]``.

    At a constant linear predictor every row has the same curvature, so the first Newton
    step needs no pass over the data beyond the Gram pass.
    """
    total = weight.sum()
    ones = b[:, -1]
    if family.name == "categorical":
        mu = family.mean(start[None, :])[0][1:]
        curvature = np.diag(mu) - np.outer(mu, mu)
        g = (ones[:, None] * mu[None, :] - b[:, :-1]) / total
        return g, np.kron(curvature, G) / total
    mu, h = family.mean(start), family.hessian_weight(start)[0]
    return ((mu[0] * ones - b[:, 0]) / total)[:, None], h * G / total


def _curvature(family, design, y, weight, theta):
    """Gradient ``(q, k)``, Hessian ``(q k, q k)`` of the mean loss, and ``eta``: one pass.

    ``eta = A theta`` is recomputed exactly here, in float64, so the cheaper ``A d`` of
    the line search (in X's own precision) never accumulates into it.
    """
    categorical = family.name == "categorical"
    k, q = theta.shape[1], design.n_columns
    d = design.column_scale
    scaled = d[:, None] * theta  # A theta = B (D theta): the scaling stays off the blocks
    eta = np.zeros((design.n_samples, k + int(categorical)))
    g, H = np.zeros((q, k)), np.zeros((q * k, q * k), order="F")
    for rows, B in design.raw_blocks():
        eta[rows, int(categorical):] = B @ scaled
        w, e = weight[rows], eta[rows]
        if categorical:
            mu = family.mean(e)[:, 1:]
            g += B.T @ (family.gradient(y[rows], e)[:, 1:] * w[:, None])
            for i in range(k):
                for j in range(i, k):
                    c = w * mu[:, i] * ((i == j) - mu[:, j])
                    H[i * q:(i + 1) * q, j * q:(j + 1) * q] = add_product(
                        np.asfortranarray(H[i * q:(i + 1) * q, j * q:(j + 1) * q]),
                        B * c[:, None], B)
            continue
        g[:, 0] += B.T @ (family.gradient(y[rows], e[:, 0]) * w)
        B *= np.sqrt(family.hessian_weight(e[:, 0]) * w)[:, None]  # in place: rebuilt next pass
        H = add_gram(H, B)
    D = np.tile(d, k)
    total = weight.sum()
    return d[:, None] * g / total, D[:, None] * symmetric(H) * D[None, :] / total, eta


def spd_solve(H: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, str]:
    """``H^-1 g`` for a symmetric positive (semi)definite ``H``, and the method used.

    Cholesky after scaling ``H`` to unit diagonal, when LAPACK's condition estimate
    (``pocon``) says it is safe (cond < 1e12); else a pseudo-inverse by ``eigh`` that
    ignores directions of curvature below 1e-12 of the largest (quasi-separation).
    """
    diagonal = np.diag(H).copy()
    s = 1.0 / np.sqrt(np.where(diagonal > 0, diagonal, 1.0))
    Hs = H * s[:, None] * s[None, :]
    try:
        factor = linalg.cho_factor(Hs, check_finite=False)
        rcond = linalg.lapack.dpocon(factor[0], np.abs(Hs).sum(axis=0).max())[0]
        if rcond > 1e-12:
            return s[:, None] * linalg.cho_solve(factor, s[:, None] * g), "cholesky"
    except linalg.LinAlgError:
        pass
    values, vectors = linalg.eigh(Hs)
    keep = values > values[-1] * 1e-12
    inverse = (vectors[:, keep] / values[keep]) @ vectors[:, keep].T
    return s[:, None] * (inverse @ (s[:, None] * g)), "eigh"


def _newton(family, design, y, weight, n_classes, tol, max_iter):
    n_features, categorical = design.X.shape[1], family.name == "categorical"
    if categorical:
        targets = np.eye(n_classes)[y.astype(np.int64)][:, 1:]
    else:
        targets = y[:, None]
    G, b = gram(design, weight, np.column_stack([targets, np.ones(len(y))]))
    design, G, b, dropped, relations, condition = _drop_collinear(design, weight, G, b)
    k, q = targets.shape[1], design.n_columns
    start = (family.optimal_constant(y, weight, n_classes) if design.intercept
             else np.zeros(n_classes if categorical else 1))
    start = np.where(np.isfinite(start), start, -30.0)  # a class absent from these rows
    theta = np.zeros((q, k))
    if design.intercept:
        theta[-1] = start[1:] if categorical else start
    eta = np.tile(start, (len(y), 1))
    loss = _mean_loss(family, y, weight, eta)
    g, H = _first_step(family, G, b, weight, n_classes, start)
    converged, fresh = False, True
    for n_iter in range(1, max_iter + 1):
        if n_iter > 1:
            g, H, eta = _curvature(family, design, y, weight, theta)
            loss, fresh = _mean_loss(family, y, weight, eta), True
        d = -spd_solve(H, g.reshape(-1, 1, order="F"))[0].reshape(q, k, order="F")
        decrement2 = max(-float(np.sum(g * d)), 0.0)
        # Stop on the Newton decrement (Boyd & Vandenberghe 9.5.1): lambda^2 / 2 estimates
        # the loss's distance to the optimum and, unlike the gradient, is affine invariant.
        if np.sqrt(decrement2) <= tol:
            converged = True
            break
        Ad = design.matmul_fast(d)
        step, new_loss = _line_search(family, y, weight, eta, Ad, loss, -decrement2)
        if step == 0.0:  # no decrease left to find: at the floor of rounding error
            converged = decrement2 <= 1e-14 * (1.0 + abs(loss))
            break
        theta += step * d
        eta[:, int(categorical):] += step * Ad
        loss, fresh = new_loss, False
    if not fresh:
        g, H, eta = _curvature(family, design, y, weight, theta)
        loss = _mean_loss(family, y, weight, eta)
    return _newton_solution(family, design, theta, H, g, eta, loss, n_iter, converged, weight,
                            dropped, relations, condition, n_features, categorical, max_iter)


def _covariance(family, design, H, eta, weight, n_features, categorical):
    """The inverse Fisher information ``(A'WA)^-1`` in the data's units, and the method.

    Well-conditioned: invert ``H`` and map it back. Else (bernoulli, poisson) the final
    ``W`` is known, so a QR pass of ``W^1/2 A`` on the uncentred design gives the accurate
    ``R^-1 R^-T`` (see ``Design.uncentered``). Categorical keeps the mapped inverse.
    """
    inverse, method = spd_solve(H * weight.sum(), np.eye(len(H)))
    if categorical or equilibrated_condition(H) <= CHOLESKY_MAX_CONDITION:
        return covariance_to_original(design, inverse, n_features), method
    uncentered = design.uncentered()
    R = r_factor(uncentered, weight * family.hessian_weight(eta[:, 0]))
    R_inverse = linalg.solve_triangular(R, np.eye(len(R)))
    return covariance_to_original(uncentered, R_inverse @ R_inverse.T, n_features), "qr"


def _newton_solution(family, design, theta, H, g, eta, loss, n_iter, converged, weight,
                     dropped, relations, condition, n_features, categorical, max_iter):
    total = weight.sum()
    beta, alpha = estimates_to_original(design, theta, n_features, categorical)
    covariance, method = _covariance(family, design, H, eta, weight, n_features, categorical)
    if not converged:
        warnings.warn(
            f"{family.name} exact solver: Newton did not converge in {n_iter} of "
            f"max_iter={max_iter} iterations (max abs gradient {np.abs(g).max():.3g}); the "
            "data may be separable, or raise max_iter.", ConvergenceWarning, stacklevel=3)
    return Solution(beta, alpha, loss, n_iter, converged, covariance, 1.0, float(total),
                    design.n_columns, float(total - design.n_columns * theta.shape[1]),
                    dropped, relations, condition, float(np.abs(g).max()),
                    f"newton-{method}")


def _mean_loss(family, y, weight, eta):
    with np.errstate(over="ignore", invalid="ignore"):
        value = float(weight @ family.loss_np(y, eta if eta.shape[1] > 1 else eta[:, 0]))
    return value / weight.sum() if np.isfinite(value) else np.inf


def _line_search(family, y, weight, eta, Ad, loss, slope):
    """Backtracking (Armijo) on the loss along ``eta + t A d``; no pass over ``X`` needed.

    Returns the step (0 if none decreases the loss) and the loss there. Rounding limits
    how small a decrease can be seen, so near the optimum (slope ~ rounding) a step that
    leaves the loss equal within 64 ulps is accepted.
    """
    categorical = eta.shape[1] > Ad.shape[1]
    trial = eta.copy()
    floor = 64 * np.finfo(float).eps * (1.0 + abs(loss))
    step = 1.0
    for _ in range(50):
        trial[:, int(categorical):] = eta[:, int(categorical):] + step * Ad
        new_loss = _mean_loss(family, y, weight, trial)
        if new_loss <= loss + 1e-4 * step * slope or (-slope < floor and new_loss <= loss + floor):
            return step, new_loss
        step *= 0.5
    return 0.0, loss


def _drop_collinear(design, weight, G, b):
    """Leave out exactly collinear columns, found from ``R`` when ``A'WA`` is ill-conditioned."""
    condition2 = equilibrated_condition(G)
    nothing = np.zeros((design.X.shape[1] + 1, 0))
    if condition2 <= FULL_RANK_MAX_CONDITION:
        return design, G, b, (), nothing, float(np.sqrt(condition2))
    R = r_factor(design, weight)
    kept, dropped, condition = find_collinear(R, design.n_samples, keep_last=design.intercept)
    if not len(dropped):
        return design, G, b, (), nothing, condition
    relations = relations_of(design, R, kept, dropped, design.X.shape[1])
    names = tuple(int(design.keep[c]) for c in dropped)
    reduced = design.restrict(kept)
    _, _, condition = find_collinear(linalg.qr(R[:, kept], mode="r")[0], design.n_samples)
    return reduced, G[np.ix_(kept, kept)], b[kept], names, relations, condition
