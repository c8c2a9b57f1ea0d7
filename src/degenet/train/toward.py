"""The compiled engine's view of a known optimum (:class:`~degenet.train.settings.Optimum`):
the program's argument and how far the weights are from it, from the weights alone."""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from degenet.model.family import Family
from degenet.train.settings import GD_STD_ERRORS, Optimum


class Target(NamedTuple):
    """The program's view of an :class:`~degenet.train.settings.Optimum`."""

    weights: list  # the optimum's kernel and bias, in training coordinates
    inverse: list  # 1 / std error, shaped as the weights
    whitening: jax.Array  # (n_features, n_features), or (0, 0)
    whitened: jax.Array  # the optimum's kernel in whitened coordinates
    joint_scale: jax.Array  # d' C^-1 d of the slopes = joint_scale * |whitened difference|^2
    joint_limit: jax.Array
    reached: jax.Array  # 1.0: the watched share of the tolerance; -inf: no optimum


def distance(stack, family: Family, candidate: list, layers: list, optimum: Target, shift,
              *, whitened: bool) -> jax.Array:
    """How far the weights are from the optimum, as a share of the tolerance (<= 1: there).

    Two measures, each against its limit: the largest ``|weight - optimum| / std error`` over
    the coefficients in the data's units, and, under whitening, the slopes' joint distance
    ``d' C^-1 d``, which is ``joint_scale * |v - v*|^2`` in the whitened coordinates ``v``
    (one coefficient near and its collinear partner off can leave every coefficient within
    its std error while the loss is far from its optimum: longley, 0.5 std errors and a
    likelihood ratio of 40). Contrast families are read against class 0. A kernel's
    difference scales as its beta's, and the intercept's is ``d bias - (mean / scale) @ d
    kernel`` (both over the target's scale, which the inverse std errors carry too)."""
    (kernel, bias, _), = stack

    def contrast(d):
        return d - d[..., :1] if family.contrasts else d  # softmax: the solver pins class 0

    d_kernel = contrast(layers[kernel] - optimum.weights[kernel])
    largest = jnp.max(jnp.abs(d_kernel) * optimum.inverse[kernel])
    if bias is not None:
        d_alpha = contrast(layers[bias] - optimum.weights[bias]) - shift @ d_kernel
        largest = jnp.maximum(largest, jnp.max(jnp.abs(d_alpha) * optimum.inverse[bias]))
    share = largest / GD_STD_ERRORS
    if whitened:
        d_v = contrast(candidate[kernel] - optimum.whitened)
        share = jnp.maximum(share, optimum.joint_scale * jnp.sum(d_v**2) / optimum.joint_limit)
    return share


def target(optimum: Optimum | None, weights: list, kernel: int) -> Target:
    """The program's ``optimum`` argument; zeros and ``reached = -inf`` without one."""
    zeros = [jnp.zeros_like(w) for w in weights]
    empty = jnp.zeros((0, 0), jnp.float32)
    if optimum is None:
        return Target(weights=zeros, inverse=zeros, whitening=empty,
                       whitened=jnp.zeros_like(weights[kernel]),
                       joint_scale=jnp.asarray(0.0, jnp.float32),
                       joint_limit=jnp.asarray(1.0, jnp.float32),
                       reached=jnp.asarray(-jnp.inf, jnp.float32))
    P = optimum.whitening
    whitened = (np.zeros(weights[kernel].shape) if P is None
                else np.linalg.solve(P, np.asarray(optimum.weights[0], np.float64)))
    return Target(
        weights=[jnp.asarray(w, jnp.float32) for w in optimum.weights],
        inverse=[jnp.asarray(v, jnp.float32) for v in optimum.inverse_std_errors],
        whitening=empty if P is None else jnp.asarray(P, jnp.float32),
        whitened=jnp.asarray(whitened, jnp.float32),
        joint_scale=jnp.asarray(optimum.joint_scale, jnp.float32),
        joint_limit=jnp.asarray(optimum.joint_limit, jnp.float32),
        reached=jnp.asarray(1.0, jnp.float32))
