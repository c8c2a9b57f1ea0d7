"""What a table file is, before any parser reads it: there, readable, a regular file, text.

A parser handed the wrong thing answers badly: pandas reads a gzip file named ``.csv`` as
Windows-1252 text and shows its compressed bytes as column names; a named pipe is opened
once per reading step and blocks on the second; a file without read permission is a
``PermissionError`` traceback. :func:`check_file` opens the file once, reads its first
bytes and says in one line what it is instead. A UTF-16 file announces itself with a
byte-order mark, and is read as UTF-16 (:func:`bom_encoding`).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from degenet.errors import DegenetError

HEAD_BYTES = 64 * 1024
# The first bytes of formats that are not text tables (and what to do about them).
SIGNATURES = (
    (b"\x1f\x8b", "gzip-compressed", "decompress it first (gunzip)"),
    (b"BZh", "bzip2-compressed", "decompress it first (bunzip2)"),
    (b"\xfd7zXZ\x00", "xz-compressed", "decompress it first (unxz)"),
    (b"\x28\xb5\x2f\xfd", "zstd-compressed", "decompress it first (unzstd)"),
    (b"PK\x03\x04", "a zip archive (or an Excel workbook)",
     "extract the table, or save it from Excel as CSV"),
    (b"PAR1", "a Parquet file", "name it .parquet"),
    (b"\x89PNG", "a PNG image", "pass the table itself"),
    (b"%PDF", "a PDF document", "pass the table itself"),
    (b"\xd0\xcf\x11\xe0", "an old Excel workbook", "save it from Excel as CSV"),
)
BOMS = ((b"\xff\xfe\x00\x00", "utf-32"), (b"\x00\x00\xfe\xff", "utf-32"),
        (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))


def check_file(path: Path) -> bytes:
    """The first :data:`HEAD_BYTES` of the file at ``path``; errors say what it is instead.

    Refused in one line each: a missing file, a folder, something that is not a regular
    file (a pipe or a device, which can be read only once), a file the user may not read,
    and a file whose first bytes are those of a compressed, binary or image format.
    """
    shown = _shown(path)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        what = "a broken link" if path.is_symlink() else "not found"
        raise DegenetError(f"file {what}: {shown}") from None
    except OSError as error:
        raise DegenetError(f"cannot read {shown}: {_reason(error)}") from None
    if stat.S_ISDIR(info.st_mode):
        raise DegenetError(f"{shown} is a folder; pass a CSV or Parquet file")
    if not stat.S_ISREG(info.st_mode):
        raise DegenetError(f"{shown} is not a regular file (a pipe or a device, which can be "
                           "read only once); save the table to a file first")
    try:
        with open(path, "rb") as handle:
            head = handle.read(HEAD_BYTES)
    except OSError as error:
        raise DegenetError(f"cannot read {shown}: {_reason(error)}") from None
    return head


def check_text(head: bytes, path: Path) -> None:
    """Refuse a CSV whose first bytes say it is not text (compressed, binary, an image)."""
    for signature, what, remedy in SIGNATURES:
        if head.startswith(signature):
            raise DegenetError(f"{_shown(path)} is {what}, not a text table: {remedy}")
    if bom_encoding(head) is None and b"\x00" in head:
        raise DegenetError(f"{_shown(path)} holds NUL bytes: it is not a text table (a binary "
                           "file, or text in UTF-16 without a byte-order mark)")


def bom_encoding(head: bytes) -> str | None:
    """The encoding a UTF-16 or UTF-32 byte-order mark announces, else None."""
    return next((name for mark, name in BOMS if head.startswith(mark)), None)


def _shown(path: Path) -> str:
    """The path as one line: quoted (with escapes) when it holds control characters."""
    text = str(path)
    return repr(text) if any(ord(c) < 32 or ord(c) == 127 for c in text) else text


def _reason(error: OSError) -> str:
    return (error.strerror or type(error).__name__).lower()
