"""Saving never loses anything: written whole or not at all, never through a link, never
over the user's files, one save at a time (issue 12's data-loss examples)."""

import errno
import inspect
import threading
import time
import warnings

import numpy as np
import pandas as pd
import pytest

import degenet
from degenet import DegenetError
from tests.privileges import unprivileged


@pytest.fixture(scope="module")
def frame():
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"x1": rng.normal(size=120), "x2": rng.normal(size=120)})
    return frame


@pytest.fixture(scope="module")
def fits(frame):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {"A": degenet.fit(frame.assign(y=1 + 2 * frame.x1), "y", solver="exact"),
                "B": degenet.fit(frame.assign(y=5 - 3 * frame.x2), "y", solver="exact")}


def _replace(fitted, folder) -> None:
    """``fitted.save(folder, overwrite=True)``; degenet 0.1 replaced without being asked."""
    allowed = "overwrite" in inspect.signature(fitted.save).parameters
    fitted.save(folder, **({"overwrite": True} if allowed else {}))


def _holds(folder, frame, fits) -> str:
    """Which fit the folder's model predicts as (independently: 1 + 2 x1 or 5 - 3 x2)."""
    got = degenet.load(folder).predict(frame)
    for name, want in (("A", 1 + 2 * frame.x1), ("B", 5 - 3 * frame.x2)):
        if np.allclose(got, want, atol=1e-6):
            return name
    return "neither"


def test_a_planted_symlink_is_never_followed(tmp_path, fits):
    folder, victim = tmp_path / "model", tmp_path / "precious.txt"
    folder.mkdir()
    victim.write_bytes(b"four years of thesis")
    (folder / "model.keras").symlink_to(victim)
    with pytest.raises(DegenetError, match="model.keras is a link"):
        fits["A"].save(folder)
    assert victim.read_bytes() == b"four years of thesis"


def test_the_destination_itself_may_not_be_a_link(tmp_path, fits):
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    with pytest.raises(DegenetError, match="symbolic link"):
        fits["A"].save(tmp_path / "link")
    assert list((tmp_path / "real").iterdir()) == []


@pytest.mark.parametrize("name, content", [("model.keras", b"PK my own keras model"),
                                           ("degenet.json", b'{"my": "settings"}')])
def test_a_folder_with_only_the_users_own_file_is_refused(tmp_path, fits, name, content):
    (tmp_path / name).write_bytes(content)
    with pytest.raises(DegenetError, match=f"holds a {name} that degenet did not write"):
        fits["A"].save(tmp_path)
    assert (tmp_path / name).read_bytes() == content


def test_a_model_is_replaced_only_when_allowed(tmp_path, frame, fits):
    folder = tmp_path / "model"
    fits["A"].save(folder)
    with pytest.raises(DegenetError, match="already holds a degenet model; pass overwrite=True"):
        fits["B"].save(folder)
    assert _holds(folder, frame, fits) == "A"
    fits["B"].save(folder, overwrite=True)
    assert _holds(folder, frame, fits) == "B"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]  # nothing left beside it


def test_a_failed_write_leaves_the_old_model(tmp_path, frame, fits, monkeypatch):
    """A disk that fills up half-way through the archive: the old model still loads."""
    from degenet._keras import keras

    folder = tmp_path / "model"
    fits["A"].save(folder)

    def full_disk(self, path, *args, **kwargs):
        with open(path, "wb") as handle:
            handle.write(b"PK\x03\x04 half an archive")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(keras.Model, "save", full_disk)
    with pytest.raises(DegenetError, match="no space left on device; the folder is unchanged"):
        _replace(fits["B"], folder)
    assert _holds(folder, frame, fits) == "A"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


def test_two_saves_at_once_give_one_model_and_one_clear_error(tmp_path, frame, fits,
                                                             monkeypatch):
    """Two threads (each its own open folder, as two processes) save to one new folder at the
    same time; the archive writer is slowed so that the saves overlap."""
    from degenet._keras import keras

    original, barrier = keras.Model.save, threading.Barrier(2)

    def slow(self, *args, **kwargs):
        time.sleep(0.5)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(keras.Model, "save", slow)
    folder, outcome = tmp_path / "shared", {}

    def save(name):
        barrier.wait()
        try:
            _replace(fits[name], folder)
            outcome[name] = "saved"
        except DegenetError as error:
            outcome[name] = str(error)

    threads = [threading.Thread(target=save, args=(name,)) for name in "AB"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    saved = [name for name, status in outcome.items() if status == "saved"]
    assert len(saved) == 1, outcome
    other = outcome["B" if saved == ["A"] else "A"]
    assert "another process is saving a model to" in other
    assert _holds(folder, frame, fits) == saved[0]



def test_an_unwritable_folder_is_one_clear_error(tmp_path, fits):
    tmp_path.chmod(0o777)
    folder = tmp_path / "readonly"
    folder.mkdir()
    folder.chmod(0o555)
    with unprivileged(), pytest.raises(DegenetError, match="cannot write a model to .*"
                                                            "permission denied"):
        fits["A"].save(folder)
    assert list(folder.iterdir()) == []


@pytest.mark.parametrize("path, message", [
    ("a\x00b", "NUL character"), (b"model", "a model folder is a path")])
def test_impossible_paths_are_one_clear_error(tmp_path, fits, path, message):
    with pytest.raises(DegenetError, match=message):
        fits["A"].save(path if isinstance(path, bytes) else str(tmp_path / path))


def test_a_file_in_the_way_is_named(tmp_path, fits):
    (tmp_path / "data.csv").write_text("a,b\n")
    with pytest.raises(DegenetError, match="data.csv is a file, not a folder"):
        fits["A"].save(tmp_path / "data.csv" / "model")
