"""A convex model's exact optimum as the target of its gradient descent.

A single-layer model is convex, and its optimum on the training rows is solved exactly
before it trains. Gradient descent then trains towards it, not towards the lowest
validation loss: early stopping on validation rows is a regularization (it stops before the
ill-conditioned directions have converged), and a regression read as a regression must be
at its optimum (on the bundled data sets of scikit-learn and statsmodels it stopped up to
8 std errors short; bench/optimum.md). Two things make the path short and its end sure:

* the stopping rule: every coefficient within :data:`GD_STD_ERRORS` std errors of the
  optimum (half the check's tolerance, :data:`~degenet.exact.results.MAX_STD_ERRORS`), and
  the slopes' joint distance ``d' C^-1 d`` at most half their number (the check allows a
  likelihood ratio up to the number of coefficients): both are the check's own measures,
  computed from the weights alone, so watching them costs no pass over the data. The joint
  one matters on collinear data: on longley every coefficient was within 0.5 std errors
  while the training loss was 29 times its optimum's;
* whitened inputs: the kernel trains in coordinates where the loss's Hessian at the optimum
  is the identity (LeCun et al. 1998, "Efficient BackProp", 4.3: decorrelate the inputs),
  so collinear columns no longer slow it down (longley: 290 epochs, where plain
  standardized inputs had not arrived after 3,000).
"""

from __future__ import annotations

import numpy as np

from degenet.data.scaling import Scaling
from degenet.exact.solution import Solution
from degenet.model.family import Family
from degenet.train.settings import GD_STD_ERRORS, Optimum


def training_optimum(solution: Solution, family: Family, scaling: Scaling,
                     target_scaling: tuple[float, float], *, intercept: bool,
                     separated: bool) -> Optimum | None:
    """The optimum in the coordinates training sees, its std errors and whitening.

    ``target_scaling`` is the target's ``(center, scale)`` in training. None where there is
    no finite optimum to train to (``separated``: early stopping keeps a finite model) or
    the solver did not find it.
    """
    if separated or not solution.converged or not np.isfinite(solution.dispersion):
        return None  # no optimum, or no std errors to measure the way to it
    center, scale = target_scaling
    kernel = solution.beta * scaling.scale[:, None] / scale
    bias = (solution.alpha + scaling.mean @ solution.beta - center) / scale
    inverse_kernel, inverse_alpha = _inverse_std_errors(solution, family, intercept)
    inverse_kernel = inverse_kernel * scale / scaling.scale[:, None]
    inverse_alpha = inverse_alpha * scale
    n_slopes = np.count_nonzero(inverse_kernel)
    return Optimum(weights=(kernel, bias) if intercept else (kernel,),
                   inverse_std_errors=((inverse_kernel, inverse_alpha) if intercept
                                       else (inverse_kernel,)),
                   joint_scale=scale**2 * solution.n_samples / family.loss_scale(
                       solution.dispersion),
                   joint_limit=max(n_slopes, 1) / 2.0,
                   whitening=whitening(solution, family, scaling, intercept))


def _inverse_std_errors(solution: Solution, family: Family, intercept: bool
                        ) -> tuple[np.ndarray, np.ndarray]:
    """``1 / std error`` of beta ``(n_features, n_outputs)`` and alpha ``(n_outputs,)`` in the
    data's units, 0 where there is none (the pinned reference class, a dropped column)."""
    n_features, n_outputs = solution.beta.shape
    width = n_features + int(intercept)
    pinned = n_outputs - family.n_free(n_outputs)
    with np.errstate(invalid="ignore"):
        std_error = np.sqrt(np.diag(solution.covariance))
    kernel, alpha = np.full((n_features, n_outputs), np.inf), np.full(n_outputs, np.inf)
    for o in range(n_outputs - pinned):
        block = std_error[o * width:(o + 1) * width]
        kernel[:, pinned + o] = block[:n_features]
        if intercept:
            alpha[pinned + o] = block[n_features]
    with np.errstate(divide="ignore"):
        return tuple(np.where(np.isfinite(v) & (v > 0), 1.0 / v, 0.0) for v in (kernel, alpha))


def whitening(solution: Solution, family: Family, scaling: Scaling, intercept: bool
              ) -> np.ndarray | None:
    """``P`` with ``P' H P = I``, ``H`` the Hessian of the mean training loss in the kernel's
    training coordinates (standardized columns).

    From the optimum's covariance ``C``: ``H = (loss_scale / n) (S C S)^-1`` with ``S =
    diag(scale)``, so ``P = chol(n S C S / loss_scale)``. Categorical: the mean of the
    classes' blocks (one ``P`` for every class's column). Dropped columns keep the
    identity. None when ``C`` is not usable (no residual degrees of freedom).
    """
    n_features = len(scaling.scale)
    width = n_features + int(intercept)
    C = solution.covariance
    blocks = [C[o * width:o * width + n_features, o * width:o * width + n_features]
              for o in range(C.shape[0] // width)]
    block = np.mean(blocks, axis=0) * np.outer(scaling.scale, scaling.scale)
    block *= solution.n_samples / family.loss_scale(solution.dispersion)
    kept = np.isfinite(np.diag(block))
    if not kept.any():
        return None
    P = np.eye(n_features)
    try:
        P[np.ix_(kept, kept)] = np.linalg.cholesky(block[np.ix_(kept, kept)])
    except np.linalg.LinAlgError:
        return None
    return P if np.all(np.isfinite(P)) else None


__all__ = ["GD_STD_ERRORS", "training_optimum", "whitening"]
