"""Import Keras on the JAX backend unless the user chose another one.

Keras reads ``KERAS_BACKEND`` once, at its first import, so the default has to be set
before anything imports it. A user who set the variable keeps their choice.
"""

import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import keras  # noqa: E402

__all__ = ["keras", "backend"]


def backend() -> str:
    """The name of the Keras backend in use (``"jax"``, ``"torch"``, ``"tensorflow"``, ...)."""
    return keras.backend.backend()
