"""Build the Keras network of a spec: optional hidden layers under the family's head.

Layer names are the model's vocabulary: ``features`` (the input), ``hidden_1``, ...,
``eta`` (the Dense layer that gives the linear predictor: for a regression its kernel is
beta and its bias is alpha) and ``mean`` (the inverse link).
"""

from __future__ import annotations

import numpy as np

from degenet._keras import keras
from degenet.families import Family
from degenet.randomness import derive
from degenet.scaling import Scaling
from degenet.specs import ModelSpec


def build_network(spec: ModelSpec, family: Family, *, n_features: int, n_outputs: int,
                  seed: int, intercept: bool = True) -> keras.Model:
    """The network of ``spec``, outputting the mean; its layer ``eta`` outputs the logits."""
    inputs = keras.Input(shape=(n_features,), name="features")
    h = inputs
    for i, units in enumerate(spec.hidden, start=1):
        init = keras.initializers.GlorotUniform(seed=derive(seed, "init", i))
        h = keras.layers.Dense(units, activation="relu", kernel_initializer=init,
                               name=f"hidden_{i}")(h)
    # A regression is convex: start it at zero, as the exact solver does.
    init = ("zeros" if spec.is_regression
            else keras.initializers.GlorotUniform(seed=derive(seed, "init", 0)))
    eta = keras.layers.Dense(n_outputs, kernel_initializer=init, use_bias=intercept,
                             name="eta")(h)
    mean = keras.layers.Activation(family.activation, name="mean")(eta)
    name = spec.text.replace(":", "_").replace(",", "_")
    return keras.Model(inputs, mean, name=name)


def logits_model(model: keras.Model) -> keras.Model:
    """A view of ``model`` that stops at the ``eta`` layer; it shares the weights."""
    return keras.Model(model.inputs, model.get_layer("eta").output, name=f"{model.name}_eta")


def first_dense(model: keras.Model) -> keras.layers.Dense:
    """The Dense layer that reads the inputs: ``hidden_1``, or ``eta`` for a regression."""
    return next(layer for layer in model.layers if isinstance(layer, keras.layers.Dense))


def fold_scaling(model: keras.Model, scaling: Scaling) -> None:
    """Rewrite the first Dense layer so the model reads unscaled inputs (see ``scaling``)."""
    layer = first_dense(model)
    kernel = keras.ops.convert_to_numpy(layer.kernel)
    bias = (keras.ops.convert_to_numpy(layer.bias) if layer.use_bias
            else np.zeros(kernel.shape[1]))
    kernel, bias = scaling.fold(kernel, bias)
    if not layer.use_bias:
        # Without an intercept the scaling has no centering part, so the bias stays zero.
        layer.kernel.assign(kernel.astype(np.float32))
        return
    layer.set_weights([kernel.astype(np.float32), bias.astype(np.float32)])


def regression_weights(model: keras.Model) -> tuple[np.ndarray, np.ndarray]:
    """beta ``(n_features, n_outputs)`` and alpha ``(n_outputs,)`` of a single-layer model."""
    layer = model.get_layer("eta")
    beta = keras.ops.convert_to_numpy(layer.kernel).astype(np.float64)
    alpha = (keras.ops.convert_to_numpy(layer.bias).astype(np.float64) if layer.use_bias
             else np.zeros(beta.shape[1]))
    return beta, alpha
