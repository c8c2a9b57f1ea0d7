"""The exact optimum of a single-layer model, in float64, on any number of rows.

Each family names its method (``Family.exact_solver``):

* ``least_squares`` (gaussian): Householder QR of the standardized design, never the
  normal equations on an ill-conditioned design. Large designs are read in row blocks; when
  the measured condition number of the standardized ``A'A`` is small (<= 1e6) the normal
  equations (refined where the conditioning calls for it) are as accurate and half the
  work, otherwise a blocked QR (TSQR) pass gives ``R`` directly
  (:mod:`degenet.exact.least_squares`).
* ``newton`` (bernoulli, poisson, categorical): Newton's method (IRLS for these canonical
  links) with a backtracking line search, stopped on the Newton decrement
  (:mod:`degenet.exact.newton`).

Every pass over the data goes through :class:`degenet.exact.design.Design`, which converts
and standardizes one block of rows at a time: ``X`` is never copied whole in float64 and no
``n x n`` matrix is formed. The blocks of a pass are spread over the cores by threads
(:mod:`degenet.exact.blockpass`). The first pass gives the column statistics and ``A'WA``
together (:func:`degenet.exact.gram.open_design`).
"""

from __future__ import annotations

import contextlib

import numpy as np

from degenet.checks import positive_int
from degenet.errors import DegenetError
from degenet.exact.blockpass import one_blas_thread
from degenet.exact.design import BLOCK_ROWS, Design, column_stats
from degenet.exact.gram import open_design
from degenet.exact.least_squares import least_squares
from degenet.exact.newton import newton
from degenet.exact.rows import RowSubset
from degenet.exact.solution import Solution
from degenet.exact.stopping import TimeCap
from degenet.model.families import Family, get_family

# Designs of at most this many cells are solved on one BLAS thread: their products and
# factorizations are too small for BLAS's threads to pay (exact.blockpass.one_blas_thread).
SMALL_DESIGN = 1 << 22


def solve(family: str | Family, X: np.ndarray, y: np.ndarray, *, intercept: bool = True,
          sample_weight: np.ndarray | None = None, offset: np.ndarray | None = None,
          n_classes: int | None = None, tol: float = 1e-10, max_iter: int = 100,
          block_rows: int = BLOCK_ROWS, cap: TimeCap | None = None, separated: bool = False
          ) -> Solution:
    """The exact optimum of the family's loss for a single-layer model
    ``eta = X beta + alpha + offset``.

    Parameters
    ----------
    family : str or Family
    X : ndarray or RowSubset, shape (n_samples, n_features)
        Any float dtype (float32 is fine); read in blocks of ``block_rows``, never copied.
    y : ndarray, shape (n_samples,)
        As ``Family.encode_target`` gives it (0/1, class codes, counts, numbers).
    intercept : bool
    sample_weight : ndarray, shape (n_samples,), optional
        Non-negative; they weight the loss (and count as frequencies in inference).
    offset : ndarray, shape (n_samples,), optional
        A known term of each row's linear predictor (e.g. the log of an exposure), with
        coefficient 1; not for the categorical family (the softmax ignores it).
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
    cap : TimeCap, optional
        Newton stops at this deadline (``Solution.stopped == "time cap"``).
    separated : bool
        The classes are known to be separated (e.g. by
        :func:`~degenet.exact.separation.one_column_separation`): there is no optimum, and
        Newton stops after a few iterations (:mod:`degenet.exact.stopping`).

    Returns
    -------
    Solution
        The optimum in the units of ``X``, with the covariance inference needs.

    Notes
    -----
    Exactly collinear columns are dropped (``Solution.dropped``: coefficient 0, std error
    NaN) with the relation that makes them redundant. Newton stops, not converged, on an
    iterate that separates the classes (``Solution.stopped == "separation"``); other
    separation is not checked here (see :func:`degenet.exact.separation.find_separation`).
    """
    family = get_family(family)
    X, y, weight = _check_inputs(X, y, sample_weight)
    offset = check_offset(family, offset, len(y))
    n_classes = family.check_encoded(y, weight, n_classes)
    _check_settings(tol, max_iter, block_rows)
    small = X.shape[0] * X.shape[1] <= SMALL_DESIGN
    with one_blas_thread() if small else contextlib.nullcontext():
        return _solve(family, X, y, weight, n_classes, intercept=intercept, tol=tol,
                      max_iter=max_iter, block_rows=block_rows, cap=cap, separated=separated,
                      offset=offset)


def _solve(family, X, y, weight, n_classes, *, intercept, tol, max_iter, block_rows, cap,
           separated, offset):
    """The method of :func:`solve` for the family, on checked inputs."""
    if family.exact_solver == "least_squares" and offset is not None:
        y = y - offset  # identity link: the offset moves the target
    if family.exact_solver == "least_squares" and len(y) <= block_rows:  # QR, no Gram
        mean, scale = column_stats(X, center=intercept, block_rows=block_rows)
        _check_finite_columns(mean, scale)
        design = Design(X, mean, scale, np.arange(X.shape[1]), intercept, block_rows)
        return least_squares(design, y, weight)
    n_outputs = family.n_outputs(n_classes)
    # The first pass sums against y (least squares), or against [Y, 1] for Newton's first
    # step (newton._first_step).
    targets = (y[:, None] if family.exact_solver == "least_squares" else
               np.column_stack([family.free_targets(y, n_outputs), np.ones(len(y))]))
    # float32 products for the Hessians of Newton's iterations (newton._low_step) for a
    # single free output. The first Gram matrix is exact whatever the family (that pass is
    # bound by reading X, not by its products): least squares solves with it, and it is
    # the design's own Gram matrix, which the variance inflation factors read.
    single = (np.issubdtype(X.dtype, np.floating) and X.dtype.itemsize <= 4
              and family.exact_solver == "newton" and n_outputs == 1)
    design, G, b = open_design(X, weight, targets, intercept=intercept,
                               block_rows=block_rows)
    del targets  # (n, 2) float64: not held through Newton's passes (the fit's peak memory)
    _check_finite_columns(design.mean, design.scale)
    if family.exact_solver == "least_squares":
        return least_squares(design, y, weight, (G, b))
    return newton(family, design, y, weight, n_outputs=n_outputs, tol=tol, max_iter=max_iter,
                  first=(G, b), single=single, cap=cap, separated=separated, offset=offset)


def check_offset(family: Family, offset, n_samples: int) -> np.ndarray | None:
    """``offset`` as float64 ``(n_samples,)``, or None; errors say what is wrong."""
    if offset is None:
        return None
    if family.offset_refused is not None:
        raise DegenetError(f"the {family.name} family takes no offset: "
                           f"{family.offset_refused}")
    offset = np.asarray(offset, dtype=np.float64).ravel()
    if offset.shape != (n_samples,):
        raise DegenetError(f"offset must have one value per row, shape ({n_samples},); "
                           f"received shape {offset.shape}")
    if not np.isfinite(offset).all():
        raise DegenetError(f"offset holds {offset[~np.isfinite(offset)][0]:g}; it needs "
                           "finite numbers")
    return offset


def _check_inputs(X, y, sample_weight):
    X = X if isinstance(X, RowSubset) else np.asarray(X)
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
    return X, y, weight


def _check_settings(tol, max_iter, block_rows):
    if not (isinstance(tol, (int, float)) and tol > 0):
        raise DegenetError(f"tol must be a positive number; received tol={tol!r}")
    positive_int("max_iter", max_iter)
    positive_int("block_rows", block_rows)


def _check_finite_columns(mean, scale):
    bad = np.where(~(np.isfinite(mean) & np.isfinite(scale)))[0]
    if len(bad):
        raise DegenetError(f"column {int(bad[0])} of X holds infinite or missing values; "
                           "it needs finite numbers")
