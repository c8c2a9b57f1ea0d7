"""Compiles paid once: JAX's persistent compilation cache in the user's cache folder.

On the JAX backend every program degenet runs is compiled by XLA first: the training
engine's program (0.2-0.8 s per model on 2 CPU cores), Keras's weight initializers and a
few small array operations. On small data that is most of a fit. JAX can keep compiled
programs on disk, keyed by the program itself (its operations and shapes), the compile
options, the device and the versions of jax, jaxlib and XLA; a later process running the
same command then loads them instead of compiling (measured on the seed experiment's
four models: see ``bench/seed_experiment.py``).

Where: ``$DEGENET_CACHE_DIR`` if set, else ``$XDG_CACHE_HOME/degenet``, else
``~/.cache/degenet`` (``%LOCALAPPDATA%\\degenet`` on Windows), in a folder per jax version
(``jax-0.10.2``). The folder is safe to delete at any time; entries are never evicted
(a few hundred kB per model shape). ``DEGENET_COMPILE_CACHE=0`` switches it off. A cache
folder the user gave JAX (``jax_compilation_cache_dir``) is left as it is.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

logger = logging.getLogger(__name__)

SWITCH = "DEGENET_COMPILE_CACHE"
FOLDER = "DEGENET_CACHE_DIR"


def cache_folder() -> Path:
    """The user's degenet cache folder (see the module's text); not created here."""
    if os.environ.get(FOLDER):
        return Path(os.environ[FOLDER]).expanduser()
    if os.environ.get("XDG_CACHE_HOME"):
        return Path(os.environ["XDG_CACHE_HOME"]).expanduser() / "degenet"
    if os.name == "nt" and os.environ.get("LOCALAPPDATA"):
        return Path(os.environ["LOCALAPPDATA"]) / "degenet"
    return Path.home() / ".cache" / "degenet"


def enabled() -> bool:
    """False when ``DEGENET_COMPILE_CACHE`` is ``0``, ``false``, ``no`` or ``off``."""
    return os.environ.get(SWITCH, "1").strip().lower() not in ("0", "false", "no", "off")


def enable() -> Path | None:
    """Point JAX's persistent compilation cache at degenet's folder; the folder, or None.

    Called once when degenet loads Keras on the JAX backend, before anything compiles. Does
    nothing when switched off, when the user set a cache folder for JAX, or when the folder
    cannot be made (the reason is logged; compiling still works, only without the cache).
    """
    import jax  # here, not above: only the JAX backend needs jax installed

    if not enabled() or jax.config.jax_compilation_cache_dir:
        return None
    folder = cache_folder() / f"jax-{jax.__version__}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        logger.info("no compilation cache: cannot create %s (%s)", folder, error)
        return None
    jax.config.update("jax_compilation_cache_dir", str(folder))
    # JAX's default keeps only programs that took over 1 s to compile; here most take less
    # (the engine's 0.2-0.8 s, Keras's initializers 0.01-0.2 s) and loading beats each.
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    return folder
