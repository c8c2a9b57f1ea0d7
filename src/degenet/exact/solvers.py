"""The exact optimum of a single-layer model, in float64, on any number of rows.

Each family names its method (``Family.exact_solver``):

* ``least_squares`` (gaussian): Householder QR of the standardized design, never the
  normal equations on an ill-conditioned design. Large designs are read in row blocks; when
  the measured condition number of the standardized ``A'A`` is small (<= 1e6) the normal
  equations (refined where the conditioning calls for it) are as accurate and half the
  work, otherwise a blocked QR (TSQR) pass gives ``R`` directly.
* ``newton`` (bernoulli, poisson, categorical): Newton's method (IRLS for these canonical
  links) with a backtracking line search, stopped on the Newton decrement.

Every pass over the data goes through :class:`degenet.exact.design.Design`, which converts and
standardizes one block of rows at a time: ``X`` is never copied whole in float64 and no
``n x n`` matrix is formed. The blocks of a pass are spread over the cores by threads
(:mod:`degenet.exact.blockpass`). The first pass gives the column statistics and ``A'WA``
together (:func:`degenet.exact.gram.open_design`). A Newton iteration costs one pass for ``A'WA``,
``A'(mu - y)`` and the loss; in the pure Newton phase the full step is taken and the next
pass confirms the decrease, otherwise a line search costs one light pass for ``A d``.
For float32 ``X``, the Hessians but the last are built by float32 products: the gradient
stays exact, so the optimum does too, and the last Hessian (the covariance) is exact.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy import linalg

from degenet.exact.blockpass import row_pass
from degenet.exact.design import BLOCK_ROWS, Design, column_stats, equilibrated_condition, r_factor
from degenet.exact.gram import gram, intercept_gram, open_design, symmetric, with_intercept
from degenet.errors import ConvergenceWarning, DegenetError
from degenet.model.families import Family, get_family
from degenet.exact.least_squares import CHOLESKY_MAX_CONDITION, least_squares
from degenet.exact.solution import (Solution, covariance_to_original, estimates_to_original,
                              find_collinear, relations_of)

# cond(A'A) at most this: A is surely of full rank, no QR pass is needed to find its rank.
FULL_RANK_MAX_CONDITION = 1e10
# cond(A'A) at most this: Hessians by float32 products (relative error ~1e-7) still give
# Newton directions good to 1e-3 and cannot hide a collinearity (see _newton).
SINGLE_MAX_CONDITION = 1e4
# At least this many rows: Newton's first iterations run on every WARM_START_STRIDE-th.
WARM_START_ROWS, WARM_START_STRIDE = 200_000, 10
# Newton decrement at most this: the full step is taken without a line search.
FULL_STEP_DECREMENT = 0.25


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
        Rows per block of a pass over ``X``; each thread holds at most
        ``min(block_rows, 4096) * n_features`` float64 at a time. Gaussian: more rows than
        this take the normal equations when well-conditioned, fewer a QR of all rows.

    Returns
    -------
    Solution
        The optimum in the units of ``X``, with the covariance inference needs.

    Notes
    -----
    Exactly collinear columns are dropped (``Solution.dropped``: coefficient 0, std error
    NaN) with the relation that makes them redundant. Separation is not checked here
    (Newton's iterates then grow until the loss stops falling); see
    :func:`degenet.exact.diagnostics.find_separation`.
    """
    family = get_family(family)
    X, y, weight, n_classes = _check_inputs(family, X, y, sample_weight, n_classes)
    _check_settings(tol, max_iter, block_rows)
    if family.exact_solver == "least_squares" and len(y) <= block_rows:  # QR, no Gram
        mean, scale = column_stats(X, center=intercept, block_rows=block_rows)
        _check_finite_columns(mean, scale)
        design = Design(X, mean, scale, np.arange(X.shape[1]), intercept, block_rows)
        return least_squares(design, y, weight, family)
    targets = _targets(family, y, n_classes)
    # float32 products for the Hessians of Newton's iterations (see _curvature); least
    # squares solves with its first Gram matrix, which must then be exact.
    single = (np.issubdtype(X.dtype, np.floating) and X.dtype.itemsize <= 4
              and family.name in ("bernoulli", "poisson"))
    design, G, b = open_design(X, weight, targets, intercept=intercept,
                               block_rows=block_rows, single=single)
    _check_finite_columns(design.mean, design.scale)
    if family.exact_solver == "least_squares":
        return least_squares(design, y, weight, family, (G, b))
    return _newton(family, design, y, weight, n_classes, tol, max_iter, (G, b), single)


def _targets(family, y, n_classes):
    """What the first pass sums against: ``y`` (least squares), or ``[Y, 1]`` for Newton
    (``Y`` the class indicators of classes 1.. for categorical) as :func:`_first_step` needs.
    """
    if family.exact_solver == "least_squares":
        return y[:, None]
    if family.name == "categorical":
        return np.column_stack([np.eye(n_classes)[y.astype(np.int64)][:, 1:], np.ones(len(y))])
    return np.column_stack([y, np.ones(len(y))])


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
    if family.name == "bernoulli" and not ((y == 0.0) | (y == 1.0)).all():
        raise DegenetError(f"bernoulli y must be 0 or 1; received {y[~np.isin(y, (0, 1))][0]:g}")
    if family.name == "poisson" and (y < 0).any():
        raise DegenetError(f"poisson y must be counts >= 0; received {y[y < 0][0]:g}")
    first = y[np.argmax(weight > 0)]  # a class seen; is there another? (no sort of y)
    if family.is_classifier and np.all((y == first) | (weight == 0)):
        raise DegenetError(f"{family.name} y has a single class ({first:g}) among the rows "
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


def _curvature(family, design, y, weight, theta, single=False):
    """Gradient ``(q, k)``, Hessian ``(q k, q k)`` and loss of the mean loss, and ``eta``.

    One pass over the rows, spread over threads. ``eta = A theta`` and the gradient are
    computed exactly, in float64, so the cheaper ``A d`` of the line search (in X's own
    precision) never accumulates into them, and Newton's fixed point is the exact optimum
    even when ``single`` builds the Hessian by single-precision products
    (:func:`_low_step`): an approximate Hessian only slows the last
    steps from quadratic to fast linear convergence (Dennis & Schnabel 1996, 5.4).
    """
    categorical = family.name == "categorical"
    k, q, r = theta.shape[1], design.n_columns, len(design.keep)
    d = design.column_scale
    scaled = d[:, None] * theta  # A theta = B (D theta): the scaling stays off the blocks
    eta = np.empty((design.n_samples, k + int(categorical)))
    if categorical:
        eta[:, 0] = 0.0  # class 0 is the reference

    def start():
        lane = design.lane(single)
        lane.g, lane.H, lane.loss = np.zeros((q, k)), np.zeros((q * k, q * k)), 0.0
        return lane

    def step(lane, rows):
        if categorical:
            B = design.fill(rows, lane.block)
            eta[rows, 1:] = B @ scaled
        else:
            Z = design.fill_features(rows, lane.block)
            eta[rows, 0] = Z @ scaled[:r, 0] + (scaled[r, 0] if design.intercept else 0.0)
        w, e = weight[rows], eta[rows] if categorical else eta[rows, 0]
        with np.errstate(over="ignore", invalid="ignore"):
            lane.loss += float(w @ family.loss_np(y[rows], e))
        if categorical:
            _add_categorical(lane, family, B, y[rows], w, e, q)
            return
        lane.g[:, 0] += with_intercept(Z, family.gradient(y[rows], e) * w, design.intercept)
        lane.H += intercept_gram(Z, np.sqrt(family.hessian_weight(e) * w), lane.low,
                                 design.intercept)

    if single:
        step = _low_step(family, design, y, weight, scaled, eta)
    lanes = row_pass(design.n_samples, design.pass_rows, start, step)
    g, H = sum(lane.g for lane in lanes), sum(lane.H for lane in lanes)
    total = weight.sum()
    loss = sum(lane.loss for lane in lanes) / total
    D = np.tile(d, k)
    return (d[:, None] * g / total, D[:, None] * symmetric(H) * D[None, :] / total, eta,
            loss if np.isfinite(loss) else np.inf)


def _low_step(family, design, y, weight, scaled, eta):
    """A block of :func:`_curvature` for float32 ``X`` and an approximate Hessian.

    ``eta`` and the gradient come from the uncentred rows in float64 (``X`` theta + offset,
    ``X'v - mean sum(v)``): float64 holds float32 data's products exactly enough, and it
    saves centring every element; the Hessian's rows are centred and weighted in float32.
    """
    r, mean, intercept = len(design.keep), design.mean, design.intercept
    coef = scaled[:r, 0]
    offset = (scaled[r, 0] if intercept else 0.0) - float(mean @ coef)

    def step(lane, rows):
        U = design.fill_raw(rows, lane.block)
        e = eta[rows, 0] = U @ coef + offset
        w = weight[rows]
        with np.errstate(over="ignore", invalid="ignore"):
            lane.loss += float(w @ family.loss_np(y[rows], e))
        v, curvature = family.gradient(y[rows], e) * w, family.hessian_weight(e) * w
        products = U.T @ np.column_stack([v, curvature])
        lane.g[:r, 0] += products[:, 0] - mean * v.sum()
        S = design.fill_low(rows, lane.low, np.sqrt(curvature))
        lane.H[:r, :r] += S.T @ S
        if intercept:
            lane.g[r, 0] += v.sum()
            lane.H[:r, r] += products[:, 1] - mean * curvature.sum()
            lane.H[r, r] += curvature.sum()

    return step


def _add_categorical(lane, family, B, y, w, eta, q):
    """Add a block's gradient and the upper blocks of ``A' W_ij A`` (softmax curvature)."""
    k = eta.shape[1] - 1
    mu = family.mean(eta)[:, 1:]
    lane.g += B.T @ (family.gradient(y, eta)[:, 1:] * w[:, None])
    for i in range(k):
        for j in range(i, k):
            c = w * mu[:, i] * ((i == j) - mu[:, j])
            lane.H[i * q:(i + 1) * q, j * q:(j + 1) * q] += (B * c[:, None]).T @ B


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


def _newton(family, design, y, weight, n_classes, tol, max_iter, first, single):
    """Newton from the best constant; ``first``: ``A'WA`` and ``A'W[Y, 1]`` (``single``:
    by float32 products)."""
    n_features, categorical = design.X.shape[1], family.name == "categorical"
    G, b = first
    if single and equilibrated_condition(G) > SINGLE_MAX_CONDITION:
        single = False  # not far enough from collinear for rounded products: redo exactly
        G, b = gram(design, weight, _targets(family, y, n_classes))
    design, G, b, dropped, relations, condition = _drop_collinear(design, weight, G, b)
    k, q = b.shape[1] - 1, design.n_columns
    start = (family.optimal_constant(y, weight, n_classes) if design.intercept
             else np.zeros(n_classes if categorical else 1))
    start = np.where(np.isfinite(start), start, -30.0)  # a class absent from these rows
    theta = np.zeros((q, k))
    if design.intercept:
        theta[-1] = start[1:] if categorical else start
    g, H = _first_step(family, G, b, weight, n_classes, start)
    warm = _warm_start(family, design, y, weight, theta, (g, H, start), single)
    if warm is None:
        eta = np.tile(start, (len(y), 1))
        first = g, H, eta, _mean_loss(family, y, weight, eta)
    else:
        theta, first = warm, _curvature(family, design, y, weight, warm, single)
    theta, g, H, eta, loss, n_iter, converged = _iterate(
        family, design, y, weight, theta, first, tol, max_iter, single)
    return _newton_solution(family, design, theta, H, g, eta, loss, n_iter, converged, weight,
                            dropped, relations, condition, n_features, categorical, max_iter)


def _warm_start(family, design, y, weight, theta, first, single):
    """A start near the optimum from Newton on every 10th row, or None.

    Newton's early iterations only need to get near the optimum: on a tenth of the rows
    they cost a tenth, and the subsample's optimum is within its sampling error of the
    full one (decrement ~ sqrt(n_features / rows)), where the full-data iterations are
    already quadratic. Any start works: the full iterations below still check every step.
    """
    rows = slice(None, None, WARM_START_STRIDE)
    if (design.n_samples < WARM_START_ROWS or family.name == "categorical"
            or not weight[rows].sum() > 0):
        return None
    sample = design.every(WARM_START_STRIDE)
    g, H, start = first
    eta = np.tile(start, (sample.n_samples, 1))
    loss = _mean_loss(family, y[rows], weight[rows], eta)
    theta, *_, converged = _iterate(family, sample, y[rows], weight[rows], theta.copy(),
                                    (g, H, eta, loss), 1e-3, 10, single, finish=False)
    return theta if converged else None


def _iterate(family, design, y, weight, theta, first, tol, max_iter, single, finish=True):
    """Newton's iterations from ``theta``, whose gradient, Hessian, eta and loss are ``first``.

    Returns the last ``theta`` with its gradient, exact Hessian, eta and loss, the number of
    iterations and whether the decrement reached ``tol``. ``single``: build the Hessians by
    float32 products but the last (see :func:`_curvature`).
    """
    g, H, eta, loss = first
    q, k = theta.shape
    converged, fresh, exact, checked, last = False, True, not single, True, None
    for n_iter in range(1, max_iter + 1):
        if n_iter > 1:
            g, H, new_eta, new_loss = _curvature(family, design, y, weight, theta, not exact)
            if not checked and not _decreased(new_loss, loss, -decrement2, 1.0):
                theta -= d  # the full step fell short: search along d from half of it
                step, new_loss = _line_search(family, y, weight, eta, design.matmul_fast(d),
                                              loss, -decrement2, 0.5)
                theta += step * d
                g, H, new_eta, new_loss = _curvature(family, design, y, weight, theta, single)
                exact = not single
            eta, loss, fresh, checked = new_eta, new_loss, True, True
        d = -spd_solve(H, g.reshape(-1, 1, order="F"))[0].reshape(q, k, order="F")
        decrement2 = max(-float(np.sum(g * d)), 0.0)
        decrement = np.sqrt(decrement2)
        # Stop on the Newton decrement (Boyd & Vandenberghe 9.5.1): lambda^2 / 2 estimates
        # the loss's distance to the optimum and, unlike the gradient, is affine invariant.
        if decrement <= tol:
            converged = True
            break
        if decrement <= FULL_STEP_DECREMENT:
            # Pure Newton phase (ibid. 9.5.3): take the full step, and let the next pass,
            # which computes the loss anyway, confirm the decrease: no pass for A d.
            step, checked = 1.0, False
        else:
            Ad = design.matmul_fast(d)
            step, loss = _line_search(family, y, weight, eta, Ad, loss, -decrement2)
            if step == 0.0:  # no decrease left to find: at the floor of rounding error
                converged = decrement2 <= 1e-14 * (1.0 + abs(loss))
                break
            eta[:, eta.shape[1] - k:] += step * Ad
        theta += step * d
        fresh = False
        # The covariance needs the Hessian at the optimum to full precision: build it
        # exactly on the pass expected to be the last, where quadratic convergence
        # (lambda_next ~ lambda^3 / lambda_previous^2) puts the decrement below tol.
        exact = not single or (finish and step == 1.0 and last is not None
                               and decrement**3 <= tol * last**2)
        last = decrement
    if finish and (not fresh or not exact):
        g, H, eta, loss = _curvature(family, design, y, weight, theta)
    return theta, g, H, eta, loss, n_iter, converged


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


def _line_search(family, y, weight, eta, Ad, loss, slope, step=1.0):
    """Backtracking (Armijo) on the loss along ``eta + t A d``; no pass over ``X`` needed.

    Returns the step (0 if none decreases the loss) and the loss there.
    """
    categorical = eta.shape[1] > Ad.shape[1]
    trial = eta.copy()
    for _ in range(50):
        trial[:, int(categorical):] = eta[:, int(categorical):] + step * Ad
        new_loss = _mean_loss(family, y, weight, trial)
        if _decreased(new_loss, loss, slope, step):
            return step, new_loss
        step *= 0.5
    return 0.0, loss


def _decreased(new_loss, loss, slope, step):
    """Armijo's sufficient decrease along a direction of slope ``slope < 0``.

    Rounding limits how small a decrease can be seen, so near the optimum (slope ~
    rounding) a step that leaves the loss equal within 64 ulps is accepted.
    """
    floor = 64 * np.finfo(float).eps * (1.0 + abs(loss))
    return bool(new_loss <= loss + 1e-4 * step * slope
                or (-slope < floor and new_loss <= loss + floor))


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
