"""A model file is checked whole before anything trusts it: the sidecar sealed by its own
sha256, bounded in size and depth, typed, and checked against the archive; the archive's
members sized before they are inflated (issue 12's model-file examples)."""

import hashlib
import json
import shutil
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import degenet
from degenet import DegenetError


@pytest.fixture(scope="module")
def frame():
    rng = np.random.default_rng(8)
    frame = pd.DataFrame({"x1": rng.normal(size=150), "x2": rng.normal(size=150),
                          "g": rng.choice(["a", "b", "c"], size=150)})
    frame["y"] = 1 + 2 * frame.x1 - frame.x2 + 0.5 * (frame.g == "b") + 0.1 * rng.normal(size=150)
    return frame


@pytest.fixture(scope="module")
def saved(tmp_path_factory, frame):
    folder = tmp_path_factory.mktemp("saved") / "lin"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        degenet.fit(frame, "y", solver="exact").save(folder)
    return folder


@pytest.fixture
def copy(tmp_path, saved):
    return Path(shutil.copytree(saved, tmp_path / "copy"))


def _edit(folder: Path, change, *, reseal: bool) -> None:
    path = folder / "degenet.json"
    sidecar = json.loads(path.read_text())
    change(sidecar)
    if reseal and "sidecar_sha256" in sidecar:  # as an attacker would
        from degenet.modelfile.schema import digest

        sidecar["sidecar_sha256"] = digest(sidecar)
    path.write_text(json.dumps(sidecar))


def _rewrite_archive(folder: Path, members: dict) -> None:
    """Replace archive members (bytes or a writer), re-sign both sha256s."""
    archive = folder / "model.keras"
    with zipfile.ZipFile(archive) as bundle:
        content = {name: bundle.read(name) for name in bundle.namelist()}
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:
        for name, data in {**content, **members}.items():
            if callable(data):
                with bundle.open(name, "w", force_zip64=True) as handle:
                    data(handle)
            else:
                bundle.writestr(name, data)
    sha = hashlib.sha256(archive.read_bytes()).hexdigest()
    _edit(folder, lambda s: s.__setitem__("keras_sha256", sha), reseal=True)


@pytest.mark.parametrize("reseal", [False, True], ids=["edited", "edited-and-resealed"])
def test_an_edited_family_is_refused(copy, frame, reseal):
    """gaussian -> poisson made the linear network's output read as exp(eta)."""
    _edit(copy, lambda s: s.__setitem__("family", "poisson"), reseal=reseal)
    message = "edited after saving" if not reseal else "'linear' trains the gaussian family"
    with pytest.raises(DegenetError, match=message):
        degenet.load(copy).predict(frame)


@pytest.mark.parametrize("reseal", [False, True], ids=["edited", "edited-and-resealed"])
def test_reordered_levels_are_refused(copy, frame, reseal):
    def reorder(s):
        s["encoding"]["schema"][2]["levels"] = ["a", "c", "b"]
        s["encoding"]["terms"] = ["x1", "x2", "g[c]", "g[b]"]

    _edit(copy, reorder, reseal=reseal)
    message = "edited after saving" if not reseal else "coefficient table names the terms"
    with pytest.raises(DegenetError, match=message):
        degenet.load(copy).predict(frame)


def test_a_sidecar_nested_100000_deep_is_one_error(copy):
    text = (copy / "degenet.json").read_text().rstrip()
    (copy / "degenet.json").write_text(text[:-1] + ', "notes": ' + "[" * 100_000
                                       + "]" * 100_000 + "}")
    with pytest.raises(DegenetError, match="nested 100001 levels deep"):
        degenet.load(copy)


def test_an_activation_given_as_a_dict_is_refused_before_keras(copy, frame):
    archive = copy / "model.keras"
    config = json.loads(zipfile.ZipFile(archive).read("config.json"))
    for layer in config["config"]["layers"]:
        if "activation" in layer["config"]:
            layer["config"]["activation"] = {"class_name": "Lambda", "config": {}}
    _rewrite_archive(copy, {"config.json": json.dumps(config).encode()})
    with pytest.raises(DegenetError, match="gives a activation as a dict"):
        degenet.load(copy).predict(frame)


def test_an_inflating_config_is_refused_unread(copy, monkeypatch):
    """A config.json of 48 MiB of blanks (valid JSON): refused from the zip's directory."""
    config = zipfile.ZipFile(copy / "model.keras").read("config.json")

    def padded(handle):
        handle.write(config[:-1])
        for _ in range(48):
            handle.write(b" " * (1 << 20))
        handle.write(config[-1:])

    _rewrite_archive(copy, {"config.json": padded})
    read = zipfile.ZipFile.read
    monkeypatch.setattr(zipfile.ZipFile, "read", lambda self, name, *a: (
        pytest.fail(f"{name} was inflated") if name == "config.json" else read(self, name, *a)))
    with pytest.raises(DegenetError, match="config.json inflates to 50,3[0-9,]* bytes"):
        degenet.load(copy)


@pytest.mark.parametrize("change, message", [
    (lambda s: s["scaling"].__setitem__("mean", "x"), "'scaling.mean' must be a list"),
    (lambda s: s["scaling"].pop("scale"), "'scaling' must be an object with 'mean' and 'scale'"),
    (lambda s: s["encoding"]["schema"][0].__setitem__("kind", "weird"), "'numeric' or"),
    (lambda s: s.__setitem__("classes", 5), "'classes' must be a list"),
    (lambda s: s.__setitem__("n_features", 9), "names 4 terms; 'n_features' says 9"),
])
def test_a_resealed_sidecar_is_typed(copy, change, message):
    _edit(copy, change, reseal=True)
    with pytest.raises(DegenetError, match=message):
        degenet.load(copy)
