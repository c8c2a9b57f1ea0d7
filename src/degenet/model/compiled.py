"""Compiled programs of a trained network: its linear predictor, and its gradient by row.

For the many predictions that partial dependence and effects ask for. On the JAX backend
each is one jitted function of the model's stateless call (the route of Keras 3's JAX
trainer), compiled once per architecture and row bucket: the weights are arguments, so the
folds of a cross-validation, which share an architecture, share one program, and a call
costs milliseconds where Keras's eager call costs tens. Other backends use
:func:`degenet.model.network.predict_logits`, and central differences for the gradient.

The gradient is ``d eta_k / d X_ij`` for every row ``i``, output ``k`` and design column
``j``. Rows do not interact in the network, so the Jacobian of the *sum over rows* of
``eta`` gives every row's gradient in one reverse-mode pass.
"""

from __future__ import annotations

import numpy as np

from degenet._keras import backend
from degenet.model.network import eta_view, has_offset, predict_logits

SMALLEST = 1024  # rows are padded to a power of two from this, so a few programs serve all
MOST_ROWS = 65536  # rows per call; more are done in pieces
_PROGRAMS: dict[tuple, object] = {}


def logits(model, X: np.ndarray, offset: np.ndarray | None = None) -> np.ndarray:
    """``eta`` of ``model`` on the rows of ``X``: ``(n_samples, n_outputs)``, float64.

    A model with an offset input adds ``offset`` ``(n_samples,)`` (none given: zeros, the
    network's own linear predictor)."""
    offset = _offset(model, X, offset)
    if backend() != "jax":
        return predict_logits(model, X, offset).astype(np.float64)
    return _run(model, X, offset, "logits")


def logits_gradient(model, X: np.ndarray, offset: np.ndarray | None = None) -> np.ndarray:
    """``d eta / d X`` row by row, shape ``(n_samples, n_outputs, n_features)``, float64.

    Parameters
    ----------
    model : keras.Model
        A network of :func:`degenet.model.network.build_network` (any rung of the ladder).
    X : ndarray, shape (n_samples, n_features)
        Design rows in the data's units.
    offset : ndarray, shape (n_samples,), optional
        For a model with an offset input (it does not change the gradient).
    """
    offset = _offset(model, X, offset)
    if backend() != "jax":
        return _finite_differences(model, np.asarray(X, dtype=np.float32), offset)
    return np.moveaxis(_run(model, X, offset, "gradient"), 0, 1)  # outputs come first


def _offset(model, X, offset) -> np.ndarray | None:
    if not has_offset(model):
        return None
    return np.zeros(len(X)) if offset is None else np.asarray(offset, dtype=np.float64)


def _run(model, X: np.ndarray, offset: np.ndarray | None, kind: str) -> np.ndarray:
    """The ``kind`` program on ``X`` in pieces of :data:`MOST_ROWS`, rows padded to a bucket."""
    X = np.asarray(X, dtype=np.float32)
    view = eta_view(model)
    program = _program(view, kind)
    values = ([v.value for v in view.trainable_variables],
              [v.value for v in view.non_trainable_variables])
    row_axis = 1 if kind == "gradient" else 0
    parts = []
    for start in range(0, max(len(X), 1), MOST_ROWS):
        rows = X[start:start + MOST_ROWS]
        bucket = max(SMALLEST, 1 << (len(rows) - 1).bit_length())
        inputs = [np.zeros((bucket, X.shape[1]), dtype=np.float32)]
        inputs[0][:len(rows)] = rows
        if offset is not None:
            inputs.append(np.zeros((bucket, 1), dtype=np.float32))
            inputs[1][:len(rows), 0] = offset[start:start + MOST_ROWS]
        result = np.asarray(program(*values, inputs), dtype=np.float64)
        parts.append(np.take(result, np.arange(len(rows)), axis=row_axis))
    return np.concatenate(parts, axis=row_axis)


def _program(view, kind: str):
    """The jitted program of ``view``'s architecture (weights as arguments)."""
    import jax  # only on the JAX backend

    key = (kind, view.name, len(view.inputs),
           tuple((v.path, tuple(v.shape)) for v in view.variables))
    if key not in _PROGRAMS:
        def eta(trainable, non_trainable, inputs):
            return view.stateless_call(trainable, non_trainable, inputs, training=False)[0]

        def total(trainable, non_trainable, x, *rest):
            return eta(trainable, non_trainable, [x, *rest]).sum(axis=0)

        def gradient(trainable, non_trainable, inputs):
            return jax.jacrev(total, argnums=2)(trainable, non_trainable, *inputs)

        _PROGRAMS[key] = jax.jit(eta if kind == "logits" else gradient)
    return _PROGRAMS[key]


def _finite_differences(model, X: np.ndarray, offset: np.ndarray | None) -> np.ndarray:
    """Central differences of ``eta``, a step of 1e-3 of each column's spread."""
    spread = np.where(X.std(axis=0) > 0, X.std(axis=0), 1.0) if len(X) else np.ones(X.shape[1])
    columns = []
    for j in range(X.shape[1]):
        step = np.zeros(X.shape[1], dtype=np.float32)
        step[j] = 1e-3 * spread[j]
        up = predict_logits(model, X + step, offset).astype(np.float64)
        down = predict_logits(model, X - step, offset).astype(np.float64)
        columns.append((up - down) / (2.0 * float(step[j])))
    return np.stack(columns, axis=-1)


__all__ = ["logits", "logits_gradient"]
