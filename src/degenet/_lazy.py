"""Package namespaces that load on first use (PEP 562).

A package names its entry points and the module each lives in; a name loads with its
module the first time it is read, then stays as an ordinary attribute. Importing one module
of a stage therefore never imports the rest of the stage, and ``degenet --help`` starts
without Keras, JAX or scikit-learn.
"""

from __future__ import annotations

import sys
from importlib import import_module


def exports(package: str, names: dict[str, str], modules: dict[str, str] | None = None):
    """``(__getattr__, __dir__, __all__)`` for ``package``.

    ``names`` maps each public name to the module that defines it, ``modules`` each public
    module name to its module; a module is relative to ``package`` unless it starts with
    ``degenet.``.
    """
    modules = modules or {}

    def load(where: str):
        return import_module(where if where.startswith("degenet.") else f"{package}.{where}")

    def __getattr__(name: str):
        if name in modules:
            value = load(modules[name])
        elif name in names:
            value = getattr(load(names[name]), name)
        else:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(names) | set(modules))

    return __getattr__, __dir__, sorted({*names, *modules})
