"""The layout: no import cycles, small modules, the README's map equal to the tree, and a
command line that starts without Keras or JAX on the user's own backend."""

import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "degenet"
MAX_LINES = 400


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _imports(name: str, path: Path, modules) -> set[str]:
    """The degenet modules ``name`` imports anywhere in its body (TYPE_CHECKING excluded)."""
    found = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]

    def visit(node):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parent + ([base] if base else []))
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                found.add(candidate if candidate in modules else base)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text()))
    return {module for module in found if module in modules and module != name}


def test_the_import_graph_has_no_cycle():
    modules = _modules()
    graph = {name: _imports(name, path, modules) for name, path in modules.items()}
    state: dict[str, int] = {}

    def cycle_from(name, trail):
        state[name] = 1  # on the current path
        for target in sorted(graph[name]):
            if state.get(target) == 1:
                return trail + [name, target]
            if target not in state and (found := cycle_from(target, trail + [name])):
                return found
        state[name] = 2
        return None

    for name in graph:
        if name not in state:
            found = cycle_from(name, [])
            assert found is None, "import cycle: " + " -> ".join(found)


def test_modules_stay_small():
    long = {name: n for name, path in _modules().items()
            if (n := len(path.read_text().splitlines())) > MAX_LINES}
    assert not long, f"modules over {MAX_LINES} lines: {long}"


def test_the_readme_map_shows_every_module():
    readme = (ROOT / "README.md").read_text()
    block = readme.split("## How the code is laid out", 1)[1].split("```")[1]
    mapped = set(re.findall(r"[\w/]+\.py", block))
    on_disk = {str(path.relative_to(PACKAGE)) for path in PACKAGE.rglob("*.py")
               if path.name != "__init__.py"}
    assert mapped == on_disk, (f"on disk, not in the README: {sorted(on_disk - mapped)}; "
                               f"in the README, not on disk: {sorted(mapped - on_disk)}")


def _run(args, env_extra=None, home=None):
    """``degenet ARGS`` in a fresh process; returns (exit status, stdout, stderr, heavy
    modules loaded)."""
    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    env.update(env_extra or {})
    if home is not None:
        env["KERAS_HOME"] = str(home)
    script = ("import atexit, sys\n"
              "atexit.register(lambda: print('MODULES', sorted(m for m in ('keras', 'jax', "
              "'sklearn') if m in sys.modules), file=sys.stderr))\n"
              f"sys.argv = ['degenet'] + {list(args)!r}\n"
              "from degenet.cli import main\nmain()\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env=env, timeout=300)
    loaded = re.search(r"MODULES (\[.*\])", done.stderr)
    return done.returncode, done.stdout, done.stderr, loaded and ast.literal_eval(loaded[1])


@pytest.fixture(scope="module")
def saved_model(tmp_path_factory):
    import numpy as np
    import pandas as pd

    import degenet

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.normal(size=60)})
    frame["y"] = 2 * frame["x"] + rng.normal(size=60)
    folder = tmp_path_factory.mktemp("model") / "m"
    degenet.fit(frame, "y", solver="exact").save(folder)
    return folder


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["fit", "--help"], "inspect"])
def test_the_command_line_starts_without_keras_or_jax(args, saved_model, tmp_path):
    args = ["inspect", str(saved_model)] if args == "inspect" else args
    status, stdout, stderr, loaded = _run(args, home=tmp_path)
    assert status == 0, stderr
    assert stdout.strip()
    assert loaded == [], f"degenet {' '.join(args)} imported {loaded}"


def _backend_in_use(tmp_path, env_extra=None, config=None):
    if config is not None:
        (tmp_path / "keras.json").write_text(json.dumps(config))
    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    env.update({"KERAS_HOME": str(tmp_path), **(env_extra or {})})
    done = subprocess.run([sys.executable, "-c", "from degenet._keras import backend; "
                           "print(backend())"], capture_output=True, text=True, env=env,
                          timeout=300)
    return done.stdout.strip()


def test_jax_is_the_default_backend(tmp_path):
    assert _backend_in_use(tmp_path) == "jax"


def test_the_users_keras_json_is_respected(tmp_path):
    assert _backend_in_use(tmp_path, config={"backend": "numpy"}) == "numpy"


def test_keras_own_default_file_is_not_a_choice(tmp_path):
    # Keras writes keras.json naming tensorflow on its first import, whatever runs.
    pytest.importorskip("jax")
    if __import__("importlib").util.find_spec("tensorflow") is not None:
        pytest.skip("tensorflow is installed: the file may be a real choice")
    assert _backend_in_use(tmp_path, config={"backend": "tensorflow"}) == "jax"


def test_the_environment_wins_over_keras_json(tmp_path):
    assert _backend_in_use(tmp_path, {"KERAS_BACKEND": "numpy"}, {"backend": "jax"}) == "numpy"


def test_a_missing_backend_is_one_line(tmp_path):
    table = tmp_path / "t.csv"
    table.write_text("x,y\n1,2\n2,3\n3,5\n")
    status, stdout, stderr, _ = _run(["fit", str(table), "--target", "y"],
                                     {"KERAS_BACKEND": "nonexistent"}, home=tmp_path)
    message = stderr.replace(re.search(r"MODULES .*", stderr)[0], "").strip()
    assert status == 2 and "Traceback" not in stderr
    assert message.count("\n") == 0 and "'nonexistent'" in message and "KERAS_BACKEND" in message
