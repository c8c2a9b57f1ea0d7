"""Permission checks as an ordinary user: root passes them all, so tests drop to nobody."""

import os
from contextlib import contextmanager

NOBODY = 65534


@contextmanager
def unprivileged():
    """Run the block with the effective user and group ``nobody`` (as is, when not root)."""
    if os.geteuid() != 0:
        yield
        return
    os.setegid(NOBODY)
    os.seteuid(NOBODY)
    try:
        yield
    finally:
        os.seteuid(0)
        os.setegid(0)
