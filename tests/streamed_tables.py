"""Small Parquet datasets for the streaming tests: known columns, several files and row groups."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

FEATURES = ["x0", "x1", "x2", "x3", "city", "owner"]


def people(n: int = 12_000, seed: int = 0) -> pd.DataFrame:
    """Four float32 columns, a text and a boolean column, and targets of every family."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4)).astype(np.float32)
    city = rng.choice(["a", "bb", "c"], n)
    owner = rng.random(n) < 0.4
    eta = 0.5 + X @ np.array([1.0, -0.5, 0.25, 0.0]) + 0.7 * (city == "bb") - 0.3 * owner
    frame = pd.DataFrame({f"x{j}": X[:, j] for j in range(4)})
    frame["city"], frame["owner"] = city, owner
    frame["y"] = (eta + rng.normal(size=n)).astype(np.float32)
    frame["y_log"] = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(np.int64)
    frame["count"] = rng.poisson(np.exp(0.3 * X[:, 0] + 0.2)).astype(np.int32)
    noise = rng.logistic(size=(n, 2))
    frame["kind"] = np.array(["p", "q", "r"])[(X[:, 0] + noise[:, 0] > 0.3).astype(int)
                                              + (X[:, 1] + 0.5 * X[:, 2] + noise[:, 1] > 0.2)]
    return frame


def write(frame: pd.DataFrame, folder: Path, files: int = 3, row_group: int = 1500) -> Path:
    """``frame`` as ``files`` Parquet files in ``folder`` (rows in order), and return it."""
    folder.mkdir(parents=True, exist_ok=True)
    for i, rows in enumerate(np.array_split(np.arange(len(frame)), files)):
        frame.iloc[rows].to_parquet(folder / f"part-{i:05d}.parquet", row_group_size=row_group,
                                    index=False)
    return folder
