"""The wheel a pip user gets: built from this tree, installed in a new venv, run from an
unrelated folder. Its description, licence and type marker are checked in the wheel."""

import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
POST = "https://onkeypress.blogspot.com/2023/03/linear-and-logistic-regressions-as.html"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """``pip wheel`` of a copy of the tree (the build leaves nothing in the checkout)."""
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "LICENSE", "README.md"):
        shutil.copy(ROOT / name, source / name)
    for folder in ("src", "docs"):
        shutil.copytree(ROOT / folder, source / folder,
                        ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                    "--no-build-isolation", "--wheel-dir", str(out), str(source)],
                   check=True, capture_output=True, timeout=600)
    return next(out.glob("degenet-*.whl"))


def test_the_wheel_carries_licence_type_marker_and_a_description_for_pip_users(wheel):
    with zipfile.ZipFile(wheel) as bundle:
        names = bundle.namelist()
        metadata = bundle.read(next(n for n in names if n.endswith(".dist-info/METADATA")))
    metadata = metadata.decode()
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert "degenet/py.typed" in names and "degenet/__main__.py" in names
    assert "License-Expression: MIT" in metadata and "Project-URL:" in metadata
    description = metadata.split("\n\n", 1)[1]
    assert POST in description and "pip install degenet" in description
    for local_only in ("make demo", "examples/", "bench/", ".venv"):
        assert local_only not in description  # nothing a pip user does not have


def test_pip_install_from_the_wheel_runs_the_demo_from_any_folder(wheel, tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True,
                   timeout=300)
    # The dependencies come from this venv (no download); degenet itself from the wheel.
    site = Path(subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()"
         "['purelib'])"], check=True, capture_output=True, text=True).stdout.strip())
    (site / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"),
                    "install", "--quiet", "--no-deps", str(wheel)], check=True,
                   capture_output=True, timeout=600)
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    where = subprocess.run([str(venv / "bin" / "python"), "-c",
                            "import degenet; print(degenet.__file__)"], cwd=folder,
                           check=True, capture_output=True, text=True).stdout
    assert where.startswith(str(site))  # the installed wheel, not this checkout
    done = subprocess.run([str(venv / "bin" / "degenet"), "demo", "--quiet", "--n", "2000"],
                          cwd=folder, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr
    assert "======= Analysis" in done.stdout and "Epoch" not in done.stdout.split("Analysis")[0]
    assert list(folder.iterdir()) == []  # nothing written where it ran
