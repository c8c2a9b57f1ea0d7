"""Two small pieces of dense linear algebra the solvers share."""

from __future__ import annotations

import numpy as np
from scipy import linalg

from degenet.exact.blockpass import one_blas_thread

# Matrices up to this size are factorized on one BLAS thread (see one_blas_thread).
SMALL_MATRIX = 1024


def spd_solve(H: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, str]:
    """``H^-1 g`` for a symmetric positive (semi)definite ``H``, and the method used.

    Cholesky after scaling ``H`` to unit diagonal, when LAPACK's condition estimate
    (``pocon``) says it is safe (cond < 1e12); else a pseudo-inverse by ``eigh`` that
    ignores directions of curvature below 1e-12 of the largest (quasi-separation).
    """
    if len(H) > SMALL_MATRIX:
        return _spd_solve(H, g)
    with one_blas_thread():
        return _spd_solve(H, g)


def _spd_solve(H, g):
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


def equilibrated_condition(G: np.ndarray) -> float:
    """Condition number of ``G`` after scaling it to unit diagonal (a zero column: inf)."""
    diagonal = np.diag(G)
    if np.any(diagonal <= 0):
        return np.inf
    d = 1.0 / np.sqrt(diagonal)
    with one_blas_thread():
        eigenvalues = linalg.eigvalsh(G * d[:, None] * d[None, :])
    return np.inf if eigenvalues[0] <= 0 else float(eigenvalues[-1] / eigenvalues[0])
