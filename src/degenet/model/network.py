"""Build the Keras network of a spec: optional hidden layers under the family's head.

Layer names are the model's vocabulary: ``features`` (the input), ``hidden_1``, ...,
``eta`` (the Dense layer that gives the linear predictor: for a regression its kernel is
beta and its bias is alpha) and ``mean`` (the inverse link). A model with an offset has a
second input ``offset`` ``(n, 1)``, added to ``eta`` by the layer ``plus_offset`` (an
``Add``) before ``mean``, so the regression and the network both use it.
"""

from __future__ import annotations

import weakref

import numpy as np

from degenet._keras import keras
from degenet.errors import DegenetError
from degenet.model.families import Family
from degenet.randomness import derive
from degenet.data.scaling import Scaling
from degenet.model.specs import ModelSpec


def build_network(spec: ModelSpec, family: Family, *, n_features: int, n_outputs: int,
                  seed: int, intercept: bool = True, bias: np.ndarray | None = None,
                  offset: bool = False) -> keras.Model:
    """The network of ``spec``, outputting the mean; its layer ``eta`` outputs the logits.

    ``bias``, shape ``(n_outputs,)``, starts the ``eta`` bias (e.g. at the null model).
    ``offset``: the model takes a second input, added to the linear predictor.
    """
    inputs = keras.Input(shape=(n_features,), name="features")
    h = inputs
    hidden = []
    for i, units in enumerate(spec.hidden, start=1):
        hidden.append(keras.layers.Dense(units, activation="relu", kernel_initializer="zeros",
                                         name=f"hidden_{i}"))
        h = hidden[-1](h)
    head = keras.layers.Dense(n_outputs, kernel_initializer="zeros", use_bias=intercept,
                              name="eta")
    eta = head(h)
    # Glorot-uniform kernels drawn in numpy: a seeded Keras initializer on JAX compiles its
    # random-number program (~0.15 s a layer), longer than a small model takes to train.
    # A regression is convex: its kernel starts at zero, as the exact solver does.
    drawn = list(enumerate(hidden, start=1)) + ([] if spec.is_regression else [(0, head)])
    for index, layer in drawn:
        layer.kernel.assign(_glorot_uniform(layer.kernel.shape, derive(seed, "init", index)))
    if offset:
        offset_input = keras.Input(shape=(1,), name="offset")
        eta = keras.layers.Add(name="plus_offset")([eta, offset_input])
        inputs = [inputs, offset_input]
    mean = keras.layers.Activation(family.activation, name="mean")(eta)
    if intercept and bias is not None:
        head.bias.assign(np.asarray(bias, dtype=np.float32))  # an initializer would be saved
    name = spec.text.replace(":", "_").replace(",", "_")
    return keras.Model(inputs, mean, name=name)


def _glorot_uniform(shape: tuple[int, int], seed: int) -> np.ndarray:
    """Keras's GlorotUniform: U(-limit, limit), limit = sqrt(6 / (fan_in + fan_out))."""
    limit = np.sqrt(6.0 / (shape[0] + shape[1]))
    return np.random.default_rng(seed).uniform(-limit, limit, size=shape).astype(np.float32)


def logits_model(model: keras.Model) -> keras.Model:
    """A view of ``model`` that stops before the ``mean`` layer (at ``eta``, plus the offset
    when the model has one); it shares the weights."""
    return keras.Model(model.inputs, model.get_layer("mean").input, name=f"{model.name}_eta")


def has_offset(model: keras.Model) -> bool:
    """Whether ``model`` takes an offset input (see :func:`build_network`)."""
    return len(model.inputs) == 2


# The eta view of each model, made once: a new view costs ~0.1 s to build and trace.
_VIEWS: "weakref.WeakKeyDictionary[keras.Model, keras.Model]" = weakref.WeakKeyDictionary()
PREDICT_ROWS = 65536


def eta_view(model: keras.Model) -> keras.Model:
    """The ``eta`` view of ``model`` (:func:`logits_model`), made once per model."""
    view = _VIEWS.get(model)
    if view is None:
        view = _VIEWS[model] = logits_model(model)
    return view


def predict_logits(model: keras.Model, X: np.ndarray, offset: np.ndarray | None = None
                   ) -> np.ndarray:
    """``eta`` of ``model`` for the rows of ``X``: ``(n_samples, n_outputs)``, float32 maths.

    ``offset`` ``(n_samples,)``: a model with an offset input needs it (it is added to eta).
    The view is called directly, in chunks of rows: ``Model.predict`` compiles a predict
    function for every new view, which took 50-100 ms even for ten rows. The inputs go in
    as a list, the structure of ``model.inputs``.
    """
    view = eta_view(model)
    X = np.asarray(X, dtype=np.float32)
    columns = [X]
    if has_offset(model):
        if offset is None:
            raise DegenetError("this model adds an offset to its linear predictor; pass the "
                               "offset of each row")
        columns.append(np.asarray(offset, dtype=np.float32).reshape(-1, 1))
    parts = [keras.ops.convert_to_numpy(view([c[start:start + PREDICT_ROWS] for c in columns],
                                             training=False))
             for start in range(0, max(len(X), 1), PREDICT_ROWS)]
    return np.concatenate(parts)


def first_dense(model: keras.Model) -> keras.layers.Dense:
    """The Dense layer that reads the inputs: ``hidden_1``, or ``eta`` for a regression."""
    return next(layer for layer in model.layers if isinstance(layer, keras.layers.Dense))


def fold_scaling(model: keras.Model, scaling: Scaling) -> None:
    """Rewrite the first Dense layer so the model reads unscaled inputs (see ``scaling``)."""
    layer = first_dense(model)
    kernel, bias = _kernel_and_bias(layer)
    kernel, bias = scaling.fold(kernel, bias)
    # Without an intercept the scaling has no centering part, so the bias stays zero.
    layer.set_weights([kernel.astype(np.float32)]
                      + ([bias.astype(np.float32)] if layer.use_bias else []))


def rescale_output(model: keras.Model, center: float, scale: float) -> None:
    """Make ``eta`` give ``center + scale * eta``: undo the target's standardization."""
    if (center, scale) == (0.0, 1.0):
        return
    layer = model.get_layer("eta")
    kernel, bias = _kernel_and_bias(layer)
    layer.set_weights([(kernel * scale).astype(np.float32)]
                      + ([(bias * scale + center).astype(np.float32)] if layer.use_bias else []))


def set_regression_weights(model: keras.Model, beta: np.ndarray, alpha: np.ndarray) -> None:
    """Write beta ``(n_features, n_outputs)`` and alpha ``(n_outputs,)`` into ``eta``."""
    layer = model.get_layer("eta")
    if layer.use_bias:
        layer.set_weights([beta.astype(np.float32), alpha.astype(np.float32)])
    else:
        layer.kernel.assign(beta.astype(np.float32))


def regression_weights(model: keras.Model) -> tuple[np.ndarray, np.ndarray]:
    """beta ``(n_features, n_outputs)`` and alpha ``(n_outputs,)`` of a single-layer model."""
    return _kernel_and_bias(model.get_layer("eta"))


def _kernel_and_bias(layer: keras.layers.Dense) -> tuple[np.ndarray, np.ndarray]:
    # Through each variable's value: Keras's get_weights() trips numpy 2's copy deprecation.
    weights = [keras.ops.convert_to_numpy(w.value).astype(np.float64) for w in layer.weights]
    return weights[0], (weights[1] if layer.use_bias else np.zeros(weights[0].shape[1]))
