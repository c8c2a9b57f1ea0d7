"""Newton's method for the exact optimum of the bernoulli, poisson and categorical families.

Newton (IRLS for these canonical links) with a backtracking line search, from the best
constant, stopped on the Newton decrement. A Newton iteration costs one pass over the rows
for ``A'WA``, ``A'(mu - y)`` and the loss; in the pure Newton phase the full step is taken
and the next pass confirms the decrease, otherwise a line search costs one light pass for
``A d``. For float32 ``X`` and a single output, the Hessians but the last are built by
float32 products: the gradient stays exact, so the optimum does too, and the last Hessian
(the covariance) is exact.

The parameters are the family's free outputs (:meth:`~degenet.model.family.Family.free`):
``theta`` has shape ``(q, k)``, ``q`` the design's columns and ``k`` the free outputs; the
linear predictor ``eta`` keeps the head's ``n_outputs`` columns, the first ``pinned =
n_outputs - k`` (the categorical reference class) at zero. Every family-specific quantity
(gradient, curvature, mean, targets) comes from the family.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy import linalg

from degenet.errors import ConvergenceWarning, warn
from degenet.exact.blockpass import row_pass
from degenet.exact.collinear import drop_collinear
from degenet.exact.design import r_factor
from degenet.exact.gram import intercept_gram, symmetric, with_intercept
from degenet.exact.least_squares import CHOLESKY_MAX_CONDITION
from degenet.exact.linalg import equilibrated_condition, spd_solve
from degenet.exact.rows import run_length, systematic_runs
from degenet.exact.solution import Solution, covariance_to_original, estimates_to_original
from degenet.exact.stopping import (SEPARATED_ITERATIONS, SEPARATION, TimeCap, logit_extremes,
                                    stop_reason)
from degenet.model.family import Family

# cond(A'A) at most this: Hessians by float32 products (relative error ~1e-7) still give
# Newton directions good to 1e-3 and cannot hide a collinearity (see newton).
SINGLE_MAX_CONDITION = 1e4
# At least this many rows: Newton's first iterations run on every WARM_START_STRIDE-th.
WARM_START_ROWS, WARM_START_STRIDE = 200_000, 10
# Newton decrement at most this: the full step is taken without a line search.
FULL_STEP_DECREMENT = 0.25


def _first_step(family, G, b, weight, start):
    """Gradient and Hessian at a constant ``eta = start``, from ``A'WA`` and ``A'W[Y, 1]``.

    At a constant linear predictor every row has the same curvature, so the first Newton
    step needs no pass over the data beyond the Gram pass: the gradient is
    ``A'W 1 mu' - A'W Y`` and the Hessian ``curvature (x) A'WA``.
    """
    total = weight.sum()
    ones = b[:, -1]
    eta = family.squeeze(start[None, :])
    mu = family.free(family.mean(eta))[0]
    g = (ones[:, None] * mu[None, :] - b[:, :-1]) / total
    return g, np.kron(family.curvature(eta)[0], G) / total


def _curvature(problem, theta, single=False):
    """Gradient ``(q, k)``, Hessian ``(q k, q k)`` and loss of the mean loss, and ``eta``.

    One pass over the rows, spread over threads. ``eta = A theta`` and the gradient are
    computed exactly, in float64, so the cheaper ``A d`` of the line search (in X's own
    precision) never accumulates into them, and Newton's fixed point is the exact optimum
    even when ``single`` builds the Hessian by single-precision products
    (:func:`_low_step`): an approximate Hessian only slows the last
    steps from quadratic to fast linear convergence (Dennis & Schnabel 1996, 5.4).
    """
    family, design, y, weight, n_outputs, offset = problem
    k, q, r = theta.shape[1], design.n_columns, len(design.keep)
    d = design.column_scale
    scaled = d[:, None] * theta  # A theta = B (D theta): the scaling stays off the blocks
    eta = np.empty((design.n_samples, n_outputs))
    pinned = n_outputs - k
    eta[:, :pinned] = 0.0  # the reference class

    def start():
        lane = design.lane(single)
        lane.g, lane.H, lane.loss = np.zeros((q, k)), np.zeros((q * k, q * k)), 0.0
        return lane

    def step(lane, rows):
        Z = design.fill_features(rows, lane.block)
        eta[rows, 0] = Z @ scaled[:r, 0] + (scaled[r, 0] if design.intercept else 0.0)
        if offset is not None:
            eta[rows, 0] += offset[rows]
        w, e = weight[rows], eta[rows, 0]
        with np.errstate(over="ignore", invalid="ignore"):
            loss, gradient, curvature = family.loss_gradient_curvature(y[rows], e)
        lane.loss += float(w @ loss)
        lane.g[:, 0] += with_intercept(Z, gradient * w, design.intercept)
        lane.H += intercept_gram(Z, np.sqrt(curvature * w), lane.low,
                                 design.intercept)

    if single:
        step = _low_step(family, design, y, weight, scaled, eta, offset)
    elif n_outputs > 1:
        step = _block_step(family, design, y, weight, scaled, eta, pinned)
    lanes = row_pass(design.n_samples, design.pass_rows, start, step)
    g, H = sum(lane.g for lane in lanes), sum(lane.H for lane in lanes)
    total = weight.sum()
    loss = sum(lane.loss for lane in lanes) / total
    D = np.tile(d, k)
    return (d[:, None] * g / total, D[:, None] * symmetric(H) * D[None, :] / total, eta,
            loss if np.isfinite(loss) else np.inf)


def _low_step(family, design, y, weight, scaled, eta, offset):
    """A block of :func:`_curvature` for float32 ``X`` and an approximate Hessian.

    ``eta`` and the gradient come from the uncentred rows in float64 (``X`` theta + offset,
    ``X'v - mean sum(v)``): float64 holds float32 data's products exactly enough, and it
    saves centring every element; the Hessian's rows are centred and weighted in float32.
    """
    r, mean, intercept = len(design.keep), design.mean, design.intercept
    coef = scaled[:r, 0]
    shift = (scaled[r, 0] if intercept else 0.0) - float(mean @ coef)

    def step(lane, rows):
        U = design.fill_raw(rows, lane.block)
        e = eta[rows, 0] = U @ coef + (shift if offset is None else shift + offset[rows])
        w = weight[rows]
        with np.errstate(over="ignore", invalid="ignore"):
            loss, v, curvature = family.loss_gradient_curvature(y[rows], e)
        lane.loss += float(w @ loss)
        v, curvature = v * w, curvature * w
        products = np.dot(U.T, np.column_stack([v, curvature]))
        lane.g[:r, 0] += products[:, 0] - mean * v.sum()
        S = design.fill_low(rows, lane.low, np.sqrt(curvature))
        lane.H[:r, :r] += np.dot(S.T, S)
        if intercept:
            lane.g[r, 0] += v.sum()
            lane.H[:r, r] += products[:, 1] - mean * curvature.sum()
            lane.H[r, r] += curvature.sum()

    return step


def _block_step(family, design, y, weight, scaled, eta, pinned):
    """A block of :func:`_curvature` for several free outputs: the gradient and the upper
    blocks ``A' diag(w curvature_ij) A`` of the Hessian (softmax: ``mu_i (delta_ij - mu_j)``).
    """
    k, q = scaled.shape[1], design.n_columns

    def step(lane, rows):
        B = design.fill(rows, lane.block)
        eta[rows, pinned:] = B @ scaled
        w, e = weight[rows], family.squeeze(eta[rows])
        with np.errstate(over="ignore", invalid="ignore"):
            lane.loss += float(w @ family.loss_np(y[rows], e))
        lane.g += np.dot(B.T, family.free(family.gradient(y[rows], e)) * w[:, None])
        curvature = family.curvature(e)
        for i in range(k):
            for j in range(i, k):
                c = w * curvature[:, i, j]
                lane.H[i * q:(i + 1) * q, j * q:(j + 1) * q] += np.dot((B * c[:, None]).T, B)

    return step


class _Problem(NamedTuple):
    """What every pass of one Newton run reads: the family, the design and the rows."""

    family: Family
    design: object  # degenet.exact.design.Design
    y: np.ndarray
    weight: np.ndarray
    n_outputs: int
    offset: np.ndarray | None = None  # added to eta (single output)

    def every(self, stride: int) -> "_Problem":
        """The same problem on one row in ``stride``, in runs (:func:`systematic_runs`)."""
        rows = systematic_runs(len(self.y), stride)
        # Blocks of one run each: every block is read in place, not gathered.
        design = self.design.subset(rows, block_rows=run_length(len(self.y), stride))
        return self._replace(design=design, y=self.y[rows],
                             weight=self.weight[rows],
                             offset=None if self.offset is None else self.offset[rows])

    def constant_eta(self, start: np.ndarray) -> np.ndarray:
        """``eta`` ``(n, n_outputs)`` of the constant ``start``, plus the offset."""
        eta = np.tile(start, (len(self.y), 1))
        return eta if self.offset is None else eta + self.offset[:, None]


def newton(family: Family, design, y: np.ndarray, weight: np.ndarray, *, n_outputs: int,
           tol: float, max_iter: int, first: tuple[np.ndarray, np.ndarray],
           single: bool = False, cap: TimeCap | None = None, separated: bool = False,
           offset: np.ndarray | None = None) -> Solution:
    """Newton from the best constant, to a Newton decrement of at most ``tol``.

    ``first``: ``A'WA`` and ``A'W[Y, 1]`` from the pass that opened the design, in float64;
    ``single``: the later Hessians may take float32 products; ``offset`` ``(n,)`` is added
    to ``eta``. The run also
    stops at the time ``cap``, on an iterate that separates the classes, and, when the data
    are known to be ``separated``, after
    :data:`~degenet.exact.stopping.SEPARATED_ITERATIONS` (:mod:`degenet.exact.stopping`).
    """
    G, b = first
    if single and equilibrated_condition(G) > SINGLE_MAX_CONDITION:
        single = False  # not far enough from collinear for rounded products
    reduced, G, b, collinear = drop_collinear(design, weight, G, b)
    problem = _Problem(family, reduced, y, weight, n_outputs, offset)
    k, q = b.shape[1] - 1, reduced.n_columns
    start = (np.zeros(n_outputs) if not reduced.intercept
             else family.optimal_constant(y, weight, n_outputs) if offset is None
             else family.offset_constant(y, weight, offset))
    start = np.where(np.isfinite(start), start, -30.0)  # a class absent from these rows
    theta = np.zeros((q, k))
    if reduced.intercept:
        theta[-1] = family.free(start[None, :])[0]
    if offset is None:
        g, H = _first_step(family, G, b, weight, start)
    else:  # eta = start + offset differs by row: the first step takes a pass
        g, H, *_ = _curvature(problem, theta)
    warm = _warm_start(problem, theta, (g, H, start), single)
    if warm is None:
        eta = problem.constant_eta(start)
        first = g, H, eta, _mean_loss(family, y, weight, eta)
    else:
        theta, first = warm, _curvature(problem, warm, single)
    if separated:
        max_iter = min(max_iter, SEPARATED_ITERATIONS)

    def stop(eta, loss):
        return stop_reason(family, y, eta, weight, loss, cap)

    theta, g, H, eta, loss, n_iter, stopped = _iterate(problem, theta, first, tol, max_iter,
                                                       single, stop=stop)
    if separated and stopped in (None, "max_iter"):
        stopped = SEPARATION  # found before the run: there is no optimum to converge to
    if stopped == "max_iter":
        warn(
            f"{family.name} exact solver: Newton did not converge in {n_iter} iterations "
            f"(max abs gradient {np.abs(g).max():.3g}); the data may be separable (no "
            "maximum-likelihood estimate) or nearly collinear.", ConvergenceWarning)
    return _solution(problem, theta, H, g, eta, loss, n_iter=n_iter, stopped=stopped,
                     collinear=collinear, gram=G)


def _warm_start(problem, theta, first, single):
    """A start near the optimum from Newton on a tenth of the rows, or None.

    The tenth is a systematic sample of runs of rows (:func:`~degenet.exact.rows.
    systematic_runs`). Newton's early iterations only need to get near the optimum: on a tenth of the rows
    they cost a tenth, and the subsample's optimum is within its sampling error of the
    full one (decrement ~ sqrt(n_features / rows)), where the full-data iterations are
    already quadratic. Any start works: the full iterations below still check every step.
    Several free outputs (softmax) start from the constant: a tenth of the rows may miss a
    class.
    """
    if problem.design.n_samples < WARM_START_ROWS or problem.n_outputs > 1:
        return None
    sample = problem.every(WARM_START_STRIDE)
    if not sample.weight.sum() > 0:
        return None
    g, H, start = first
    eta = sample.constant_eta(start)
    loss = _mean_loss(sample.family, sample.y, sample.weight, eta)
    theta, *_, stopped = _iterate(sample, theta.copy(), (g, H, eta, loss), 1e-3, 10, single,
                                  finish=False)
    return theta if stopped is None else None


def _iterate(problem, theta, first, tol, max_iter, single, finish=True, stop=None):
    """Newton's iterations from ``theta``, whose gradient, Hessian, eta and loss are ``first``.

    Returns the last ``theta`` with its gradient, exact Hessian, eta and loss, the number of
    iterations and why it stopped short of ``tol`` (None: converged; ``"max_iter"``, or
    what ``stop(eta, loss)`` answered on an iterate). ``single``: build the Hessians by
    float32 products but the last (see :func:`_curvature`).
    """
    family, design, y, weight = problem.family, problem.design, problem.y, problem.weight
    g, H, eta, loss = first
    q, k = theta.shape
    stopped, fresh, exact, checked, last = "max_iter", True, not single, True, None
    for n_iter in range(1, max_iter + 1):
        if n_iter > 1:
            g, H, new_eta, new_loss = _curvature(problem, theta, not exact)
            if not checked and not _decreased(new_loss, loss, -decrement2, 1.0):
                theta -= d  # the full step fell short: search along d from half of it
                step, new_loss = _line_search(family, y, weight, eta, design.matmul_fast(d),
                                              loss, -decrement2, step=0.5)
                theta += step * d
                g, H, new_eta, new_loss = _curvature(problem, theta, single)
                exact = not single
            eta, loss, fresh, checked = new_eta, new_loss, True, True
            reason = stop(eta, loss) if stop is not None else None
            if reason is not None:
                stopped = reason
                break
        d = -spd_solve(H, g.reshape(-1, 1, order="F"))[0].reshape(q, k, order="F")
        decrement2 = max(-float(np.sum(g * d)), 0.0)
        decrement = np.sqrt(decrement2)
        # Stop on the Newton decrement (Boyd & Vandenberghe 9.5.1): lambda^2 / 2 estimates
        # the loss's distance to the optimum and, unlike the gradient, is affine invariant.
        if decrement <= tol:
            stopped = None
            break
        if decrement <= FULL_STEP_DECREMENT:
            # Pure Newton phase (ibid. 9.5.3): take the full step, and let the next pass,
            # which computes the loss anyway, confirm the decrease: no pass for A d.
            step, checked = 1.0, False
        else:
            Ad = design.matmul_fast(d)
            step, loss = _line_search(family, y, weight, eta, Ad, loss, -decrement2)
            if step == 0.0:  # no decrease left to find: at the floor of rounding error
                stopped = None if decrement2 <= 1e-14 * (1.0 + abs(loss)) else "max_iter"
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
    if finish and (not fresh or not exact) and stopped in (None, "max_iter"):
        g, H, eta, loss = _curvature(problem, theta)
    return theta, g, H, eta, loss, n_iter, stopped


def _covariance(problem, H, eta):
    """The inverse Fisher information ``(A'WA)^-1`` in the data's units, and the method.

    Well-conditioned: invert ``H`` and map it back. Else, for a single output (bernoulli,
    poisson) the final ``W`` is known, so a QR pass of ``W^1/2 A`` on the uncentred design
    gives the accurate ``R^-1 R^-T`` (see ``Design.uncentered``). Several outputs (softmax)
    keep the mapped inverse.
    """
    family, design, weight = problem.family, problem.design, problem.weight
    n_features = design.X.shape[1]
    inverse, method = spd_solve(H * weight.sum(), np.eye(len(H)))
    if problem.n_outputs > 1 or equilibrated_condition(H) <= CHOLESKY_MAX_CONDITION:
        return covariance_to_original(design, inverse, n_features), method
    uncentered = design.uncentered()
    curvature = family.curvature(family.squeeze(eta))[:, 0, 0]
    R = r_factor(uncentered, weight * curvature)
    try:  # curvature 0 on every row (separated to the last digit) leaves R singular
        R_inverse = linalg.solve_triangular(R, np.eye(len(R)))
    except linalg.LinAlgError:
        return covariance_to_original(design, inverse, n_features), method
    return covariance_to_original(uncentered, R_inverse @ R_inverse.T, n_features), "qr"


def _solution(problem, theta, H, g, eta, loss, *, n_iter, stopped, collinear, gram):
    design, weight = problem.design, problem.weight
    total = weight.sum()
    pinned = problem.n_outputs - theta.shape[1]
    beta, alpha = estimates_to_original(design, theta, design.X.shape[1], pinned)
    covariance, method = _covariance(problem, H, eta)
    return Solution(
        beta=beta, alpha=alpha, loss=loss, n_iter=n_iter, converged=stopped is None,
        unscaled_covariance=covariance, dispersion=1.0, n_samples=float(total),
        rank=design.n_columns, df_residual=float(total - design.n_columns * theta.shape[1]),
        dropped=collinear.dropped, relations=collinear.relations,
        condition_number=collinear.condition, gradient_max=float(np.abs(g).max()),
        method=f"newton-{method}", stopped=stopped, gram=gram, eta=eta,
        **logit_extremes(problem.family, eta, weight > 0))


def _mean_loss(family, y, weight, eta):
    with np.errstate(over="ignore", invalid="ignore"):
        value = float(weight @ family.loss_np(y, family.squeeze(eta)))
    return value / weight.sum() if np.isfinite(value) else np.inf


def _line_search(family, y, weight, eta, Ad, loss, slope, step=1.0):
    """Backtracking (Armijo) on the loss along ``eta + t A d``; no pass over ``X`` needed.

    Returns the step (0 if none decreases the loss) and the loss there.
    """
    pinned = eta.shape[1] - Ad.shape[1]  # the reference class stays at eta = 0
    trial = eta.copy()
    for _ in range(50):
        trial[:, pinned:] = eta[:, pinned:] + step * Ad
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
