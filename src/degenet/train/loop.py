"""Gradient descent on the backend's route: each backend's compiled route, or Keras's loop.

- JAX: the compiled engine (:mod:`degenet.train.engine`) runs whole epochs in one XLA program;
- TensorFlow: one XLA program per epoch (:mod:`degenet.train.tf_loop`);
- torch: a lean eager loop (:mod:`degenet.train.torch_loop`).

All three train a chain of Dense layers with the same permutation, Adam, averaged
regression iterates and early stopping, so a seed gives the same model within round-off.
Anything else (another optimizer on torch or TensorFlow, a network that is not a Dense
chain, another backend) uses Keras's own ``fit`` with the same split, loss, early stopping
and restore of the best weights.

A regression trains towards its exact optimum when one is known (the engine watches its
distance, :class:`~degenet.train.settings.Optimum`); the torch and TensorFlow routes watch
validation losses only, so there Keras's loop trains it and stops on the training loss (the
exact check after training says how close it got).
"""

from __future__ import annotations

import time

import numpy as np

from degenet._keras import backend, keras
from degenet.data.scaling import Scaling
from degenet.errors import DegenetError
from degenet.model.family import Family
from degenet.model.network import has_offset
from degenet.randomness import derive
from degenet.train.engine import dense_stack, train_scan
from degenet.train.hostloop import layers_of, uses_builtin_adam
from degenet.train.settings import (Optimum, ProgressCallback, TrainResult, TrainSettings,
                                    batch_size_for, history_frame, make_optimizer, model_defaults,
                                    row_weights, watch_for)


def train(net: keras.Model, family: Family, X: np.ndarray, y: np.ndarray,
          settings: TrainSettings, *, train_rows: np.ndarray, val_rows: np.ndarray,
          scaling: Scaling, seed: int, progress: ProgressCallback | None = None,
          sample_weight: np.ndarray | None = None, offset: np.ndarray | None = None,
          optimum: Optimum | None = None
          ) -> TrainResult:
    """Train the logits network ``net`` in place; the best weights are left in it.

    Parameters
    ----------
    X : ndarray, shape (n_samples, n_features)
        The design in the data's own units, float32 or float64; never modified or copied
        to float64. Training sees ``scaling.apply(X)``.
    y : ndarray, shape (n_samples,)
    train_rows, val_rows : ndarray of int
        Row indices of the split.
    sample_weight : ndarray, shape (n_samples,), optional
        Non-negative row weights of the loss.
    offset : ndarray, shape (n_samples,), optional
        Added to each row's eta: ``net`` must take it as its second input, and only then.
    optimum : Optimum, optional
        A convex model's exact optimum: train until the weights are within its distance,
        not until the validation loss stops improving.
    """
    if (offset is None) == has_offset(net):
        raise DegenetError("the network's inputs and the offset do not match: pass an "
                           "offset exactly when the network takes one")
    weight = row_weights(sample_weight, train_rows, val_rows)
    dense = [layer for layer in net.layers if isinstance(layer, keras.layers.Dense)]
    settings = model_defaults(settings, regression=len(dense) == 1, optimum=optimum is not None)
    if backend() == "jax" and dense_stack(net) is not None:
        return train_scan(net, family, X, y, settings, train_rows=train_rows,
                          val_rows=val_rows, scaling=scaling, seed=seed, progress=progress,
                          weight=weight, offset=offset, optimum=optimum)
    route = _backend_route(net, settings) if optimum is None and len(val_rows) else None
    if route is not None:
        return route(net, family, X, y, settings, train_rows=train_rows, val_rows=val_rows,
                     scaling=scaling, seed=seed, progress=progress, weight=weight,
                     offset=offset)
    if weight is not None:
        raise DegenetError(f"sample_weight with solver='gd' and optimizer="
                           f"{settings.optimizer!r} needs the JAX backend or Adam; the "
                           f"{backend()} backend's Keras loop trains unweighted (use "
                           "solver='exact' or optimizer='adam')")

    def inputs(rows):  # the network's inputs for these rows: features, and the offset
        features = scaling.apply(X[rows]).astype(np.float32)
        return features if offset is None else [features, offset[rows, None].astype(np.float32)]

    return _train_keras(net, family, inputs(train_rows), y[train_rows], inputs(val_rows),
                        y[val_rows], settings, seed=seed, progress=progress,
                        validated=optimum is None and len(val_rows) > 0)


def _backend_route(net: keras.Model, settings: TrainSettings):
    """The torch or TensorFlow route's ``train`` function, or None for Keras's loop.

    Imported here, for the backend in use only: torch and TensorFlow are optional, and
    importing either costs seconds.
    """
    name = backend()
    if name not in ("torch", "tensorflow") or layers_of(net) is None:
        return None
    if not uses_builtin_adam(settings):
        return None
    if name == "torch":
        from degenet.train.torch_loop import train_torch
        return train_torch
    from degenet.train.tf_loop import train_tf
    return train_tf


class _Progress(keras.callbacks.Callback):
    def __init__(self, progress: ProgressCallback, max_epochs: int):
        super().__init__()
        self._progress, self._max_epochs = progress, max_epochs

    def on_epoch_end(self, epoch, logs=None):
        self._progress(epoch + 1, self._max_epochs)


def _train_keras(net, family, X_train, y_train, X_val, y_val, settings, *, seed, progress,
                 validated):
    """Keras's own loop, for backends without the compiled engine; ``validated``: early
    stopping on the validation loss, else on the training loss."""
    watch = watch_for(settings, has_validation=validated, optimum=None)
    monitor = "val_loss" if validated else "loss"
    keras.utils.set_random_seed(derive(seed, "shuffle"))
    # Keras expands y to eta's rank, (batch, 1); the family's loss wants y of shape (batch,).
    net.compile(optimizer=make_optimizer(settings),
                loss=lambda y, eta: family.loss(keras.ops.reshape(y, (-1,)), eta))
    stopper = keras.callbacks.EarlyStopping(
        monitor=monitor, patience=settings.patience, min_delta=watch.min_delta,
        restore_best_weights=True)
    callbacks = [stopper] + ([_Progress(progress, settings.max_epochs)] if progress else [])
    if settings.plateau_factor < 1:
        callbacks.append(keras.callbacks.ReduceLROnPlateau(
            monitor=monitor, factor=settings.plateau_factor, patience=1,
            min_delta=watch.min_delta, min_lr=0.0))
    start = time.perf_counter()
    validation = (X_val, y_val.astype(np.float32)) if len(y_val) else None
    fitted = net.fit(
        X_train, y_train.astype(np.float32), batch_size=batch_size_for(settings, len(y_train)),
        epochs=settings.max_epochs, validation_data=validation,
        shuffle=True, callbacks=callbacks, verbose=0)
    losses = fitted.history["loss"]
    history = history_frame(losses, fitted.history.get("val_loss", np.full(len(losses), np.nan)))
    best = int(np.nanargmin(history[monitor].to_numpy())) + 1
    return TrainResult(history=history, best_epoch=best,
                       stopped_early=len(history) < settings.max_epochs, compile_seconds=0.0,
                       train_seconds=time.perf_counter() - start, engine="keras-fit",
                       watched=watch.kind, best_watched=float(history[monitor].iloc[best - 1]))
