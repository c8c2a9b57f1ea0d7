"""The corpus's world: data files, saved models and the helpers that damage them.

Made once per session in a temporary folder: ``D`` holds the tables (the CLI runs there),
``M`` three saved models (``lin``: linear, ``log``: logistic, both exact on ``base()``
with features x1, x2, g; ``mlp``: mlp:8 on ``num()``), ``MODELS`` the same fits in memory.
``edit_sidecar`` and ``edit_archive`` change a model file and, as an attacker would, re-seal
it (the archive's sha256 and the sidecar's own), so that the edit reaches the later checks.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import random
import shutil
import tempfile
import threading
import warnings
import zipfile
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

import degenet
from degenet.modelfile.schema import digest

WORK = Path(tempfile.mkdtemp(prefix="degenet-corpus-"))
D = WORK / "data"        # tables (the CLI runs here)
M = WORK / "models"      # model folders written once
S = WORK / "scratch"     # one fresh folder per case
HOME = WORK / "home"     # HOME of the CLI: keeps ~/.keras out of the user's home
_counter = iter(range(10**6))


def fresh(tag: str = "f") -> Path:
    folder = S / f"{tag}{next(_counter)}"
    folder.mkdir(parents=True)
    folder.chmod(0o777)
    return folder


def base(n: int = 200, seed: int = 0) -> pd.DataFrame:
    """x1, x2 (normal), g (text a/b/c), y (gaussian), yb (yes/no), yc (r/g/b), ycount."""
    rng = np.random.default_rng(seed)
    d = pd.DataFrame({"x1": rng.normal(size=n), "x2": rng.normal(size=n),
                      "g": rng.choice(["a", "b", "c"], size=n)})
    gb, gc = (d.g == "b").to_numpy(float), (d.g == "c").to_numpy(float)
    d["y"] = 1 + 2 * d.x1 - d.x2 + 0.5 * gb - 0.3 * gc + 0.1 * rng.normal(size=n)
    eta = 0.3 + 1.2 * d.x1 - 0.8 * d.x2
    d["yb"] = np.where(rng.random(n) < 1 / (1 + np.exp(-eta)), "yes", "no")
    logits = np.column_stack([np.zeros(n), d.x1, -d.x2 + 0.3])
    p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    d["yc"] = np.array(["r", "g", "b"])[(rng.random(n)[:, None] > p.cumsum(1)).sum(1)]
    d["ycount"] = rng.poisson(np.exp(0.5 + 0.4 * d.x1 - 0.3 * d.x2))
    return d


def num(n: int = 200, seed: int = 0) -> pd.DataFrame:
    """x1, x2, y only: the one shape every gradient-descent case shares (one compile)."""
    return base(n, seed)[["x1", "x2", "y"]].copy()


def write_files() -> None:
    for folder in (D, M, S, HOME):
        folder.mkdir(parents=True)
    for folder in (WORK, D, M, S, HOME):
        folder.chmod(0o777)
    b = base()
    b.to_csv(D / "base.csv", index=False)
    b.to_parquet(D / "base.parquet", index=False)
    text = num().to_csv(index=False)
    (D / "num.csv").write_text(text)
    new = base(50, seed=1).drop(columns=["y", "yb", "yc", "ycount"])
    new.to_csv(D / "new.csv", index=False)
    new.drop(columns=["x2"]).to_csv(D / "missingcol.csv", index=False)
    new.assign(g=["d"] + list(new.g[1:])).to_csv(D / "newlevel.csv", index=False)
    # -- files family
    (D / "empty.csv").write_bytes(b"")
    (D / "blank.csv").write_text("\n   \n\n")
    (D / "header.csv").write_text("x1,x2,y\n")
    num().iloc[:0].to_parquet(D / "header.parquet", index=False)
    (D / "empty.parquet").write_bytes(b"")
    rng = random.Random(12)
    (D / "junk.parquet").write_bytes(bytes(rng.randrange(256) for _ in range(4096)))
    whole = (D / "base.parquet").read_bytes()
    (D / "half.parquet").write_bytes(whole[: len(whole) // 2])
    lines = text.splitlines()
    (D / "dup.csv").write_text("x1,x1,y\n" + "\n".join(lines[1:]) + "\n")
    _duplicate_parquet(D / "dup.parquet")
    (D / "gz.csv").write_bytes(gzip.compress(text.encode()))
    (D / "gz.csv.gz").write_bytes(gzip.compress(text.encode()))
    (D / "bom.csv").write_bytes(text.encode("utf-8-sig"))
    (D / "utf16.csv").write_bytes(text.encode("utf-16"))
    cafe = b.assign(g=b.g.map({"a": "café", "b": "naïve", "c": "über"}))
    cafe[["x1", "g", "y"]].to_csv(D / "latin1.csv", index=False, encoding="latin-1")
    (D / "junk.csv").write_bytes(bytes(rng.randrange(256) for _ in range(4096)))
    (D / "png.csv").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(rng.randrange(256)
                                                            for _ in range(2048)))
    (D / "nul.csv").write_text(text.replace("\n", "\x00\n", 5))
    huge = num(20)
    huge["note"] = "short"
    huge.loc[3, "note"] = "z" * 8_000_000
    huge.to_csv(D / "hugefield.csv", index=False)
    num().to_csv(D / "semi.csv", index=False, sep=";")
    num().to_csv(D / "tab.csv", index=False, sep="\t")
    num().to_csv(D / "pipe.csv", index=False, sep="|")
    num().to_csv(D / "crlf.csv", index=False, lineterminator="\r\n")
    (D / "deccomma.csv").write_text(
        "x1;x2;y\n" + "\n".join(f"{a:.3f};{c:.3f};{e:.3f}".replace(".", ",")
                                for a, c, e in num().to_numpy()) + "\n")
    (D / "ragged_long.csv").write_text("\n".join(lines[:6]) + "\n" + lines[6] + ",9\n"
                                       + "\n".join(lines[7:]) + "\n")
    (D / "ragged_short.csv").write_text("\n".join(lines[:6]) + "\n1.0,2.0\n"
                                        + "\n".join(lines[6:]) + "\n")
    (D / "openquote.csv").write_text("\n".join(lines[:6]) + '\n"1.0,2.0,3\n'
                                     + "\n".join(lines[6:]) + "\n")
    (D / "dir.csv").mkdir()
    (D / "link.csv").symlink_to(D / "num.csv")
    (D / "dangling.csv").symlink_to(D / "nowhere.csv")
    (D / "loop.csv").symlink_to(D / "loop.csv")
    (D / "noread.csv").write_text(text)
    (D / "noread.csv").chmod(0)
    (D / "data.xlsx").write_text(text)
    (D / "onlytarget.csv").write_text("y\n" + "\n".join(str(v) for v in num().y) + "\n")
    _struct_parquet(D / "struct.parquet")
    # -- features family, for the CLI
    collide = num()
    collide["intercept"] = np.random.default_rng(5).normal(size=len(collide))
    collide.to_csv(D / "collide.csv", index=False)
    gcol = base()[["x1", "g", "y"]].copy()
    gcol["g[b]"] = np.random.default_rng(6).normal(size=len(gcol))
    gcol.to_csv(D / "collide_g.csv", index=False)
    num().rename(columns={"x1": "my col"}).to_csv(D / "spaces.csv", index=False)
    # -- the divergence case reads the same numbers as the API case
    num().to_csv(D / "diverge.csv", index=False)
    # -- folders for permission cases
    (D / "ro").mkdir()
    (D / "ro").chmod(0o555)


def _duplicate_parquet(path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    frame = num()
    table = pa.table([pa.array(frame.x1), pa.array(frame.x2), pa.array(frame.y)],
                     names=["x1", "x1", "y"])
    pq.write_table(table, path)


def _struct_parquet(path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    frame = num()
    structs = [{"a": float(v), "b": int(i)} for i, v in enumerate(frame.x2)]
    pq.write_table(pa.table({"x1": frame.x1, "s": structs, "y": frame.y}), path)


MODELS: dict[str, object] = {}


def write_models() -> None:
    b = base()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        MODELS["lin"] = degenet.fit(b, "y", features=["x1", "x2", "g"], solver="exact")
        MODELS["log"] = degenet.fit(b, "yb", features=["x1", "x2", "g"], solver="exact")
        MODELS["mlp"] = degenet.fit(num(), "y", model="mlp:8", max_epochs=5, seed=1)
    for name, fitted in MODELS.items():
        fitted.save(M / name)
    shutil.copytree(M / "lin", D / "linmodel")  # for CLI cases, relative to D


def copy_model(name: str = "lin") -> Path:
    folder = fresh("model") / name
    shutil.copytree(M / name, folder)
    return folder


def edit_sidecar(folder: Path, change: Callable[[dict], None], *, reseal: bool = False
                 ) -> Path:
    """Edit the sidecar as a user with a text editor would (its own sha256 now disagrees),
    or, with ``reseal``, as an attacker would (its sha256 recomputed)."""
    path = folder / "degenet.json"
    sidecar = json.loads(path.read_text())
    change(sidecar)
    if reseal and "sidecar_sha256" in sidecar:
        sidecar["sidecar_sha256"] = digest(sidecar)
    path.write_text(json.dumps(sidecar))
    return folder


def edit_archive(folder: Path, members: dict | None = None, config=None, *,
                 drop: tuple = (), rehash: bool = True) -> Path:
    """Rewrite model.keras with members replaced/added (bytes or a callable writing a
    stream), ``config`` a function editing config.json; re-record the sha256."""
    archive = folder / "model.keras"
    with zipfile.ZipFile(archive) as old:
        content = {name: old.read(name) for name in old.namelist() if name not in drop}
    if config is not None:
        cfg = json.loads(content["config.json"])
        config(cfg)
        content["config.json"] = json.dumps(cfg).encode()
    streams = {}
    for name, value in (members or {}).items():
        if callable(value):
            streams[name] = value
            content.pop(name, None)
        else:
            content[name] = value
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as new:
        for name, data in content.items():
            new.writestr(name, data)
        for name, write in streams.items():
            with new.open(name, "w", force_zip64=True) as handle:
                write(handle)
    if rehash:
        import hashlib

        archive_sha = hashlib.sha256(archive.read_bytes()).hexdigest()
        edit_sidecar(folder, lambda s: s.__setitem__("keras_sha256", archive_sha), reseal=True)
    return folder


def padded_json(mebibytes: int):
    """A stream writer: valid JSON of ``mebibytes`` MiB (a Keras config padded with blanks)."""
    def write(handle):
        config = json.loads(zipfile.ZipFile(M / "lin" / "model.keras").read("config.json"))
        text = json.dumps(config).encode()
        handle.write(text[:-1])
        block = b" " * (1 << 20)
        for _ in range(mebibytes):
            handle.write(block)
        handle.write(text[-1:])
    return write


def zeros_member(mebibytes: int):
    def write(handle):
        block = b"\0" * (1 << 20)
        for _ in range(mebibytes):
            handle.write(block)
    return write


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def fifo_with_writer(path: Path, payload: bytes) -> Path:
    """A named pipe fed once by a background writer (as `degenet fit <(zcat x.gz)` is)."""
    os.mkfifo(path)

    def feed():
        with contextlib.suppress(OSError):
            with open(path, "wb") as handle:
                handle.write(payload)
    threading.Thread(target=feed, daemon=True).start()
    return path




def cleanup() -> None:
    """Remove the world (permissions restored first: some files are made unreadable)."""
    for path in (D / "noread.csv", D / "ro"):
        with contextlib.suppress(OSError):
            path.chmod(0o755)
    shutil.rmtree(WORK, ignore_errors=True)
