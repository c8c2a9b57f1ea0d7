"""What a file is, said before a parser misreads it (issue 12: a gzip file named .csv printed
raw bytes as column names; an unreadable file was a PermissionError traceback; a named pipe
was opened three times and hung)."""

import gzip
import os
import signal
import threading

import numpy as np
import pandas as pd
import pytest

import degenet
from degenet import DegenetError
from tests.privileges import unprivileged


@pytest.fixture
def text():
    rng = np.random.default_rng(4)
    return pd.DataFrame({"x1": rng.normal(size=30), "y": rng.normal(size=30)}).to_csv(
        index=False)


def test_a_gzip_file_named_csv_is_named_as_compressed(tmp_path, text):
    path = tmp_path / "data.csv"
    path.write_bytes(gzip.compress(text.encode()))
    with pytest.raises(DegenetError, match=r"data.csv is gzip-compressed, not a text table: "
                                           r"decompress it first") as raised:
        degenet.fit(path, "y", solver="exact")
    assert all(ord(c) >= 32 for c in str(raised.value))


def test_utf16_with_a_byte_order_mark_is_read(tmp_path, text):
    path = tmp_path / "utf16.csv"
    path.write_bytes(text.encode("utf-16"))
    pd.testing.assert_frame_equal(degenet.read_table(path), pd.read_csv(
        pd.io.common.StringIO(text)))


def test_binary_junk_is_not_a_table(tmp_path):
    path = tmp_path / "junk.csv"
    path.write_bytes(bytes(np.random.default_rng(5).integers(0, 256, 4096, dtype=np.uint8)))
    with pytest.raises(DegenetError, match="junk.csv holds NUL bytes: it is not a text table"):
        degenet.read_table(path)



def test_an_unreadable_file_is_one_line(tmp_path, text):
    path = tmp_path / "secret.csv"
    path.write_text(text)
    path.chmod(0)
    with unprivileged(), pytest.raises(DegenetError, match="cannot read .*secret.csv: "
                                                            "permission denied"):
        degenet.read_table(path)


def test_a_named_pipe_is_refused_not_read_three_times(tmp_path, text):
    path = tmp_path / "stream.csv"
    os.mkfifo(path)
    writer = threading.Thread(target=lambda: _feed(path, text), daemon=True)
    writer.start()

    def hung(signum, frame):
        raise TimeoutError("read_table still blocked on the pipe after 10 s")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(10)  # degenet 0.1 opened the pipe again and blocked for ever
    try:
        with pytest.raises(DegenetError, match="stream.csv is not a regular file"):
            degenet.read_table(path)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _feed(path, text):
    try:
        with open(path, "w") as handle:  # blocks until a reader opens: none does
            handle.write(text)
    except OSError:
        pass


def test_a_path_with_a_newline_is_one_line(tmp_path):
    with pytest.raises(DegenetError, match=r"file not found: .*no\\nsuch.csv") as raised:
        degenet.read_table(tmp_path / "no\nsuch.csv")
    assert "\n" not in str(raised.value)
