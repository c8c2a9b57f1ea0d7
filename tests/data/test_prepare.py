"""The data's hash: the digest of the whole float64 design, made a block at a time, and
none for designs too large to hash cheaply."""

import hashlib
import importlib

import numpy as np

from degenet.data.prepare import data_hash

prepare = importlib.import_module("degenet.data.prepare")  # the package exports the function


def whole_array_digest(*arrays) -> str:
    digest = hashlib.sha256()
    for array in arrays:
        array = np.ascontiguousarray(array, dtype=np.float64)
        digest.update(str(array.shape).encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def test_the_hash_is_the_whole_arrays_whatever_their_layout(monkeypatch):
    monkeypatch.setattr(prepare, "HASH_BLOCK_ROWS", 7)
    rng = np.random.default_rng(1)
    X = np.asfortranarray(rng.normal(size=(50, 3)).astype(np.float32))
    y, weight = rng.normal(size=50), rng.random(50)
    assert data_hash(X, y) == whole_array_digest(X, y)
    assert data_hash(X, y, weight) == whole_array_digest(X, y, weight)
    monkeypatch.setattr(prepare, "HASH_MAX_CELLS", 149)
    assert data_hash(X, y) is None

