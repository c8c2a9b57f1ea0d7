import atexit
import os
import shutil
import tempfile

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("JAX_PLATFORMS", "cpu")
# The compilation cache of this run (shared with the CLI's subprocesses), never the user's.
if "DEGENET_CACHE_DIR" not in os.environ:
    os.environ["DEGENET_CACHE_DIR"] = tempfile.mkdtemp(prefix="degenet-test-cache-")
    atexit.register(shutil.rmtree, os.environ["DEGENET_CACHE_DIR"], ignore_errors=True)

import jax  # noqa: E402

# Mixed-precision slips (a float64 constant promoting a float32 program) fail loudly here.
# Rank promotion stays permissive: Keras's own Dense adds a (units,) bias to (batch, units).
jax.config.update("jax_numpy_dtype_promotion", "strict")
