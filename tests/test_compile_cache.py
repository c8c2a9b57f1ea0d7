"""Compiles paid once: the cache folder, the switch, and a second process that compiles
nothing."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from degenet import compile_cache

SCRIPT = """
import json, jax, numpy as np, pandas as pd
counts = {"requests": 0, "hits": 0}
def count(event, **kwargs):
    if event == "/jax/compilation_cache/compile_requests_use_cache":
        counts["requests"] += 1
    elif event == "/jax/compilation_cache/cache_hits":
        counts["hits"] += 1
jax.monitoring.register_event_listener(count)
import degenet
rng = np.random.default_rng(0)
frame = pd.DataFrame({"a": rng.normal(size=300), "b": rng.normal(size=300)})
frame["y"] = frame.a - frame.b + rng.normal(size=300)
degenet.fit(frame, "y", model="mlp:4", max_epochs=3)
print(json.dumps(counts))
"""


def _run(env_extra) -> dict:
    env = {**os.environ, **env_extra}
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                          env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_second_process_compiles_nothing(tmp_path):
    env = {"DEGENET_CACHE_DIR": str(tmp_path), "DEGENET_COMPILE_CACHE": "1"}
    first, second = _run(env), _run(env)
    assert first["requests"] > 0 and first["hits"] == 0
    assert second["hits"] == second["requests"] == first["requests"]
    assert list(tmp_path.glob("jax-*/*"))  # entries, in a folder per jax version


def test_the_folder_follows_the_users_settings(monkeypatch, tmp_path):
    monkeypatch.delenv("DEGENET_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert compile_cache.cache_folder() == tmp_path / "degenet"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert compile_cache.cache_folder() == Path(tmp_path / "home" / ".cache" / "degenet")
    monkeypatch.setenv("DEGENET_CACHE_DIR", str(tmp_path / "mine"))
    assert compile_cache.cache_folder() == tmp_path / "mine"


@pytest.mark.parametrize("value, on", [("0", False), ("off", False), ("1", True), ("", True)])
def test_the_switch(monkeypatch, value, on):
    monkeypatch.setenv("DEGENET_COMPILE_CACHE", value)
    assert compile_cache.enabled() is on
    if not on:
        assert compile_cache.enable() is None
