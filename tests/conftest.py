import os

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import jax  # noqa: E402

# Mixed-precision slips (a float64 constant promoting a float32 program) fail loudly here.
# Rank promotion stays permissive: Keras's own Dense adds a (units,) bias to (batch, units).
jax.config.update("jax_numpy_dtype_promotion", "strict")
