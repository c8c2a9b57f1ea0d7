"""Keras, on the backend the user chose, else on JAX.

Keras reads its backend once, at its first import, from ``KERAS_BACKEND`` or from the
``"backend"`` key of ``keras.json`` in ``KERAS_HOME`` (default ``~/.keras``). degenet sets
``KERAS_BACKEND=jax`` only when the user chose neither, so that its compiled engine runs by
default without overriding a choice. Keras writes ``keras.json`` itself on its first import,
naming ``tensorflow`` whatever backend runs; a file naming TensorFlow where TensorFlow is not
installed is that default, not a choice. A chosen backend that is not installed is one
clear error.
"""

import importlib.util
import json
import os
from pathlib import Path

from degenet.errors import DegenetError


def _configured_backend() -> str | None:
    """The backend named in the user's ``keras.json``, or None."""
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    try:
        config = json.loads((Path(home) / "keras.json").read_text())
    except (OSError, ValueError):
        return None
    chosen = config.get("backend") if isinstance(config, dict) else None
    if chosen == "tensorflow" and importlib.util.find_spec("tensorflow") is None:
        return None  # Keras's own default file, written before any choice
    return chosen


if not os.environ.get("KERAS_BACKEND") and not _configured_backend():
    os.environ["KERAS_BACKEND"] = "jax"

try:
    import keras  # noqa: E402
except (ImportError, ValueError) as error:  # a missing or unknown backend
    chosen = os.environ.get("KERAS_BACKEND") or _configured_backend()
    raise DegenetError(
        f"the Keras backend {chosen!r} cannot be imported ({error}); install it, or choose "
        "an installed one with KERAS_BACKEND=jax (also: tensorflow, torch)") from None

from degenet.compile_cache import enable as _enable_compile_cache  # noqa: E402

if keras.backend.backend() == "jax":
    _enable_compile_cache()  # before anything compiles

__all__ = ["keras", "backend"]


def backend() -> str:
    """The name of the Keras backend in use (``"jax"``, ``"torch"``, ``"tensorflow"``, ...)."""
    return keras.backend.backend()
