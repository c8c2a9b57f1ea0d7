"""Model folders written whole or not at all, and never over anything the user did not ask to lose.

A save writes the new model into a fresh folder beside the destination
(``.NAME.saving-XXXXXXXX``, same file system) and then puts it in place in one step:
Linux's ``renameat2(RENAME_EXCHANGE)`` swaps the two folders atomically, so at every
instant the destination holds the old model or the new one, whatever interrupts the save
(Ctrl-C, a full disk, a killed process). Where the kernel or file system cannot swap, two
renames are made with SIGINT and SIGTERM held back between them. The folder the old model
ends in is then deleted. A save cut short leaves at most a hidden ``.NAME.saving-*`` folder.

Rules, checked before anything is written (and by the CLI before any training):

* the destination is never a symbolic link, and nothing is written through one;
* an empty folder or a new path is fine; a folder holding a degenet model is replaced only
  when the caller allows it (``overwrite=True``, ``--overwrite``); any other non-empty
  folder (even one holding only a ``model.keras`` or a ``degenet.json`` of the user's) is
  refused;
* the destination's parent must be writable (a test folder is made and removed).

Two processes saving to one path: each locks the destination folder (``flock``, released
by the kernel when a process dies) for the whole save; the second gets a clear error
instead of interleaving its files with the first's.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import os
import re
import secrets
import shutil
import signal
import threading
from pathlib import Path
from typing import Callable

from degenet.errors import DegenetError
from degenet.modelfile.sidecar import ARCHIVE, FORMAT, SIDECAR

MEMBERS = frozenset({SIDECAR, ARCHIVE})
# The name of a save's write probe (:func:`_check_writable`).
PROBE = re.compile(r"\..*\.probe-[0-9a-f]{8}")
# A degenet.json is read to tell a model from the user's own file; a larger one is not ours.
MAX_PROBE_BYTES = 1 << 20
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def destination(path) -> Path:
    """``path`` as a Path, refusing what no file system takes (NUL, not a path at all)."""
    if isinstance(path, bytes) or not isinstance(path, (str, os.PathLike)):
        raise DegenetError(f"a model folder is a path (str or Path); received "
                           f"{type(path).__name__} {path!r}")
    text = os.fspath(path)
    if not isinstance(text, str) or not text.strip():
        raise DegenetError(f"a model folder needs a path; received {text!r}")
    if "\x00" in text:
        raise DegenetError(f"the model path {text!r} holds a NUL character; no file system "
                           "accepts it")
    return Path(text)


def check_destination(path, *, overwrite: bool = False) -> Path:
    """Refuse, before anything is trained or written, a destination a save would harm.

    Returns the folder as a Path. Errors name the folder and what is in the way.
    """
    folder = destination(path)
    if not isinstance(overwrite, bool):
        raise DegenetError(f"overwrite must be True or False; received overwrite={overwrite!r}")
    try:
        _check_place(folder, overwrite)
    except OSError as error:  # a parent that may not be searched, a name too long, ...
        raise DegenetError(f"cannot write a model to {folder}: {_reason(error)}") from None
    return folder


def _check_place(folder: Path, overwrite: bool) -> None:
    if folder.is_symlink():
        raise DegenetError(f"cannot save a model to {folder}: it is a symbolic link, and "
                           "degenet never writes through one; name the real folder")
    _check_parents(folder)
    if folder.exists():
        if not folder.is_dir():
            raise DegenetError(f"cannot save a model to {folder}: it is a file; a model is "
                               "a folder")
        held = holds(folder)
        if held == "model" and not overwrite:
            raise DegenetError(
                f"{folder} already holds a degenet model; pass overwrite=True (CLI: "
                "--overwrite) to replace it, or choose a new folder")
        if held not in ("empty", "model"):
            raise DegenetError(f"cannot save a model to {folder}: {held}; choose a new or "
                               "empty folder")
    _check_writable(folder)


def holds(folder: Path) -> str:
    """``"empty"``, ``"model"`` (a degenet model folder), or why the folder is the user's."""
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError as error:
        raise DegenetError(f"cannot read the folder {folder}: {_reason(error)}") from None
    if not entries:
        return "empty"
    # Another save's write probe (``_check_writable``) comes and goes: not the user's.
    entries = [entry for entry in entries if not PROBE.fullmatch(entry.name)]
    if not entries:
        return "empty"
    names = [entry.name for entry in entries]
    others = [name for name in names if name not in MEMBERS]
    if others:
        shown = ", ".join(others[:3]) + (", ..." if len(others) > 3 else "")
        return f"the folder holds other files ({shown})"
    odd = [entry.name for entry in entries
           if entry.is_symlink() or not entry.is_file(follow_symlinks=False)]
    if odd:
        return (f"its {odd[0]} is a link or not a file (degenet writes plain files, never "
                "through a link)")
    if names != sorted(MEMBERS):
        return (f"the folder holds a {names[0]} that degenet did not write (no "
                f"{next(iter(MEMBERS - set(names)))} beside it)")
    if not _is_sidecar(folder / SIDECAR):
        return f"the folder holds a {SIDECAR} that is not a degenet model's"
    return "model"


def _is_sidecar(path: Path) -> bool:
    import json

    try:
        with path.open("rb") as handle:
            text = handle.read(MAX_PROBE_BYTES + 1)
        if len(text) > MAX_PROBE_BYTES:
            return False
        return json.loads(text).get("format") == FORMAT
    except (OSError, ValueError, AttributeError, RecursionError):
        return False


def _check_parents(folder: Path) -> None:
    """The nearest existing parent must be a folder (not a file) and not a dangling link."""
    for parent in folder.absolute().parents:
        if parent.is_symlink() and not parent.exists():
            raise DegenetError(f"cannot save a model to {folder}: {parent} is a broken link")
        if parent.exists():
            if not parent.is_dir():
                raise DegenetError(f"cannot save a model to {folder}: {parent} is a file, "
                                   "not a folder")
            return


def _check_writable(folder: Path) -> None:
    """Make and remove a test folder where the save will write (beside the destination, and
    in it when it exists: a folder the user made read-only is not replaced)."""
    places = [next(p for p in folder.absolute().parents if p.exists())]
    if folder.is_dir():
        places = [folder.absolute().parent, folder]
    for place in places:
        probe = place / f".{folder.name or 'model'}.probe-{secrets.token_hex(4)}"
        try:
            os.mkdir(probe)
            os.rmdir(probe)
        except OSError as error:
            raise DegenetError(f"cannot write a model to {folder}: {_reason(error)} in the "
                               f"folder {place}") from None


def _reason(error: OSError) -> str:
    return (error.strerror or type(error).__name__).lower()


def write_folder(path, write: Callable[[Path], None], *, overwrite: bool = False) -> Path:
    """Run ``write(folder)`` into a fresh folder, then put it at ``path`` in one step.

    ``write`` fills the empty folder it is given. Errors (a destination that is refused,
    another save in progress, a disk that fills up) are a DegenetError; the destination
    then holds what it held before.
    """
    folder = check_destination(path, overwrite=overwrite)
    created = False
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        os.mkdir(folder)  # an empty folder to lock; the new model replaces it
        created = True
    except FileExistsError:
        pass
    except OSError as error:
        raise DegenetError(f"cannot create the model folder {folder}: {_reason(error)}") from None
    held = []  # set once this save holds the folder's lock
    try:
        with _locked(folder, overwrite, held):
            _write_and_swap(folder, write)
    except BaseException:
        if created and held:  # never a folder another save has locked and is writing to
            with contextlib.suppress(OSError):
                os.rmdir(folder)  # only if still empty: a folder this save made, nothing else
        raise
    return folder


def _write_and_swap(folder: Path, write: Callable[[Path], None]) -> None:
    staging = folder.parent / f".{folder.name}.saving-{secrets.token_hex(4)}"
    try:
        os.mkdir(staging)
        write(staging)
        _sync(staging)
        _put_in_place(staging, folder)
    except OSError as error:
        raise DegenetError(f"cannot write the model to {folder}: {_reason(error)}; the "
                           "folder is unchanged") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)  # after a swap: the old model


@contextlib.contextmanager
def _locked(folder: Path, overwrite: bool, held: list):
    """Hold an exclusive lock on the destination folder itself; re-check it once held
    (``held`` gets an entry then)."""
    for _ in range(3):
        try:
            descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        except OSError as error:
            raise DegenetError(f"cannot open the model folder {folder}: "
                               f"{_reason(error)}") from None
        try:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise DegenetError(
                    f"another process is saving a model to {folder}; wait for it to finish, "
                    "or save to another folder") from None
            held.append(True)
            if os.fstat(descriptor).st_ino != os.lstat(folder).st_ino:
                continue  # another save put its folder in place meanwhile: look again
            check_destination(folder, overwrite=overwrite)
            yield
            return
        finally:
            os.close(descriptor)
    raise DegenetError(f"the model folder {folder} keeps being replaced by another process")


def _sync(folder: Path) -> None:
    """Flush the new files and their folder to disk, so the swap never exposes empty files."""
    for entry in os.scandir(folder):
        descriptor = os.open(entry.path, os.O_RDONLY | os.O_NOFOLLOW)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
    _fsync_folder(folder)


def _fsync_folder(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _put_in_place(staging: Path, folder: Path) -> None:
    """Swap ``staging`` and ``folder`` (the old content ends in ``staging``)."""
    with _signals_held():
        if not _exchange(staging, folder):
            if any(os.scandir(folder)):
                old = folder.parent / f".{folder.name}.old-{secrets.token_hex(4)}"
                os.rename(folder, old)
                os.rename(staging, folder)
                os.rename(old, staging)
            else:
                os.rename(staging, folder)  # replaces an empty folder atomically
                os.mkdir(staging)
    with contextlib.suppress(OSError):  # the swap is done; this only hastens its durability
        _fsync_folder(folder.parent)


def _exchange(first: Path, second: Path) -> bool:
    """``renameat2(RENAME_EXCHANGE)``: True when the kernel swapped the two paths."""
    call = _renameat2()
    if call is None:
        return False
    if call(_AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second),
            _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False  # this file system cannot swap: fall back to two renames
    raise OSError(code, os.strerror(code), str(second))


def _renameat2():
    """glibc's ``renameat2`` (Linux 3.15+, glibc 2.28+), or None elsewhere."""
    try:
        call = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return None
    call.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                     ctypes.c_uint]
    call.restype = ctypes.c_int
    return call


@contextlib.contextmanager
def _signals_held():
    """SIGINT and SIGTERM wait until the block is done, then are delivered as they came.

    Python runs signal handlers in the main thread only; elsewhere no KeyboardInterrupt can
    land inside the block, so nothing needs holding.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = {}
    for number in (signal.SIGINT, signal.SIGTERM):
        previous[number] = signal.signal(number, lambda n, frame: caught.append(n))
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        for number in caught:
            signal.raise_signal(number)
