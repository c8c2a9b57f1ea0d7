"""The optimizers of the compiled engine, as pure ``init`` / ``update`` pairs.

Adam is ``keras.optimizers.Adam``'s update written out (checked in the tests against Keras's
own loop); any other Keras optimizer goes through its stateless API.
"""

from __future__ import annotations

import json
from typing import NamedTuple

import jax.numpy as jnp

from degenet._keras import keras
from degenet.train.settings import TrainSettings, make_optimizer


class Adam(NamedTuple):
    """``keras.optimizers.Adam`` (no amsgrad), as a pure init/update pair."""

    learning_rate: float
    beta_1: float = 0.9
    beta_2: float = 0.999
    epsilon: float = 1e-7

    def init(self, weights):
        zeros = [jnp.zeros_like(w) for w in weights]
        return zeros, [jnp.zeros_like(w) for w in weights], jnp.zeros((), jnp.float32)

    def update(self, state, grads, weights, rate):
        # Kingma & Ba (2015), Algorithm 1, in Keras's arrangement (keras/optimizers/adam.py).
        m, v, step = state
        step = step + 1.0
        alpha = (self.learning_rate * rate * jnp.sqrt(1.0 - self.beta_2 ** step)
                 / (1.0 - self.beta_1 ** step))
        m = [a + (g - a) * (1.0 - self.beta_1) for a, g in zip(m, grads)]
        v = [b + (jnp.square(g) - b) * (1.0 - self.beta_2) for b, g in zip(v, grads)]
        weights = [w - a * alpha / (jnp.sqrt(b) + self.epsilon)
                   for w, a, b in zip(weights, m, v)]
        return weights, (m, v, step)


class KerasOptimizer(NamedTuple):
    """Any Keras optimizer through its stateless API."""

    optimizer: keras.optimizers.Optimizer

    def init(self, weights):
        return [jnp.array(v.value, copy=True) for v in self.optimizer.variables]

    def update(self, state, grads, weights, rate):
        # The learning rate is one of Keras's optimizer variables (unless it is a schedule).
        for i, variable in enumerate(self.optimizer.variables):
            if variable.name == "learning_rate":
                state = [*state[:i], jnp.asarray(variable.value) * rate, *state[i + 1:]]
        return self.optimizer.stateless_apply(state, grads, weights)


def engine_optimizer(net: keras.Model, settings: TrainSettings):
    """The engine's pure update for ``settings.optimizer``: Adam written out, or Keras's."""
    optimizer = make_optimizer(settings)
    if type(optimizer) is keras.optimizers.Adam:
        return Adam(float(settings.learning_rate))
    optimizer.build(net.trainable_variables)
    return KerasOptimizer(optimizer)


def optimizer_key(optimizer) -> str:
    """What shapes the optimizer's part of the program: its class and configuration (never
    its identity, so that two fits with equal settings share one compiled program)."""
    if isinstance(optimizer, Adam):
        return repr(optimizer)
    inner = optimizer.optimizer
    config = {k: v for k, v in inner.get_config().items() if k != "name"}  # sgd_1, sgd_2, ...
    return f"{type(inner).__name__}{json.dumps(config, sort_keys=True, default=str)}"
