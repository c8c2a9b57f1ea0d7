"""How an option is spelled to the user: a Python argument, or a flag of the ``degenet`` command.

A message that tells the user what to change names an option. A Python user changes
``solver='exact'`` or ``max_epochs=``; a shell user changes ``--solver exact`` or
``--max-epochs``. The library never knows who called it: the command says so once, around
everything it runs (:func:`spelled_as_flags`: a context variable, which every call inside
sees and nothing outside does), and messages ask :func:`option`.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar

_AS_FLAGS: ContextVar[bool] = ContextVar("degenet_options_as_flags", default=False)
# Python arguments whose flag is not ``--`` + the name with dashes.
_FLAGS = {"file_encoding": "--encoding", "models": "--models"}


def option(name: str, value=None) -> str:
    """The option ``name`` as the user sets it, with ``value`` when given.

    >>> option("solver", "exact"), option("max_epochs")
    ("solver='exact'", 'max_epochs=')

    Under :func:`spelled_as_flags`: ``--solver exact`` and ``--max-epochs``.
    """
    if _AS_FLAGS.get():
        flag = _FLAGS.get(name, "--" + name.replace("_", "-"))
        return flag if value is None else f"{flag} {value}"
    return f"{name}=" if value is None else f"{name}={value!r}"


@contextmanager
def spelled_as_flags():
    """Within this block, :func:`option` spells options as the command's flags."""
    token = _AS_FLAGS.set(True)
    try:
        yield
    finally:
        _AS_FLAGS.reset(token)


__all__ = ["option", "spelled_as_flags"]
