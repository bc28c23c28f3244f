"""The wheel: it ships the supernets and Set5, builds without setuptools warnings, and runs installed.

Offline on purpose. The wheel is built with the test runner's own pip and setuptools
(``--no-build-isolation``: no build environment to download), installed with ``--no-deps --no-index``
into a fresh virtualenv, and that virtualenv gets the runner's dependencies (torch, optuna, ...)
through a ``.pth`` file that lists the runner's site-packages folders. Nothing is downloaded: an
unpinned ``torch`` from PyPI would be several GB of CUDA packages, and CI may have no network.

Why a ``.pth`` file, not ``--system-site-packages``: the runner is usually itself a virtualenv, and
``--system-site-packages`` would expose the base interpreter's packages, not the runner's. A path
listed in a ``.pth`` file is appended to ``sys.path`` after the new environment's own
site-packages, and the ``.pth`` files inside it are not run, so the wheel's ``optuna_srprune`` wins
over the runner's copy (an editable install's finder stays inactive); the test checks that. The
``.pth`` is written after the install, so pip sees an empty environment, and pip never touches the
runner's environment.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
import shutil
import site
import subprocess
import sys
import sysconfig
import venv
import zipfile

import pytest

REPO = Path(__file__).resolve().parents[2]
# What a wheel is built from (the rest of the checkout is not part of the distribution).
SOURCES = ("setup.cfg", "pyproject.toml", "README.md", "optuna_srprune")
SHIPPED = [
    "optuna_srprune/py.typed",
    "optuna_srprune/supernet/assets/supernet_x2.pt",
    "optuna_srprune/supernet/assets/supernet_x4.pt",
    "optuna_srprune/data/assets/LICENSE.md",
    *(f"optuna_srprune/data/assets/Set5/{n}.png" for n in ("baby", "bird", "butterfly", "head", "woman")),
]


def _cannot(message: str) -> None:
    """Skip: this machine cannot build or install offline. Under CI (``CI=true``) fail instead."""
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(message + " (CI=true: the wheel test must run)")
    pytest.skip(message)


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "PIP_"))}
    env.update(PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_INPUT="1", PYTHONNOUSERSITE="1")
    return env


def _run(args: list[str], cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, cwd=cwd, env=_env(), capture_output=True, text=True, timeout=timeout, check=False
    )


def _runner_site_dirs() -> list[str]:
    """The runner's site-packages folders (where torch and the other dependencies are)."""
    dirs = [*site.getsitepackages(), sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]]
    if site.ENABLE_USER_SITE:
        dirs.append(site.getusersitepackages())
    return [d for d in dict.fromkeys(os.path.realpath(d) for d in dirs) if os.path.isdir(d)]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The wheel, built from a copy of the sources (no stale ``build/`` of the checkout gets in),
    and pip's verbose output, which carries setuptools' warnings."""
    try:
        import setuptools
    except ImportError:
        _cannot("setuptools is not installed, so the wheel cannot be built without downloading it")
    if int(setuptools.__version__.split(".")[0]) < 68:
        _cannot(f"setuptools {setuptools.__version__} is older than pyproject.toml's setuptools>=68")
    root = tmp_path_factory.mktemp("wheel")
    src, dist = root / "src", root / "dist"
    src.mkdir()
    for name in SOURCES:
        if (REPO / name).is_dir():
            ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
            shutil.copytree(REPO / name, src / name, ignore=ignore)
        else:
            shutil.copy2(REPO / name, src / name)
    args = [sys.executable, "-m", "pip", "wheel", str(src), "--no-deps", "--no-build-isolation"]
    result = _run([*args, "--no-index", "--wheel-dir", str(dist), "-v"], cwd=root)
    log = result.stdout + result.stderr
    if result.returncode != 0:
        _cannot("cannot build the wheel offline with this interpreter's pip:\n" + log[-3000:])
    (path,) = dist.glob("optuna_srprune-*.whl")
    return path, log


def test_wheel_build_has_no_setuptools_warnings(wheel: tuple[Path, str]) -> None:
    _, log = wheel
    assert "Package would be ignored" not in log, log
    assert "absent from the `packages` configuration" not in log, log
    assert "SetuptoolsDeprecationWarning" not in log, log


def test_wheel_ships_the_supernets_and_set5(wheel: tuple[Path, str]) -> None:
    path, _ = wheel
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        sizes = {info.filename: info.file_size for info in archive.infolist()}
    missing = [name for name in SHIPPED if name not in names]
    assert not missing, f"not in the wheel: {missing}"
    assert all(sizes[name] > 100_000 for name in SHIPPED if name.endswith((".pt", ".png")))
    # Only the library: no tests, benchmarks (with the OptunaHub package) or notebooks.
    dist_info = path.name.split("-py")[0] + ".dist-info"
    assert {name.split("/")[0] for name in names} == {"optuna_srprune", dist_info}


@pytest.mark.slow
def test_installed_wheel_evaluates_from_another_folder(wheel: tuple[Path, str], tmp_path: Path) -> None:
    path, _ = wheel
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False, symlinks=os.name != "nt").create(env_dir)
    bin_dir = env_dir / ("Scripts" if os.name == "nt" else "bin")
    python = bin_dir / ("python.exe" if os.name == "nt" else "python")
    # The runner's pip installs into the new environment (``--python``, pip >= 22.3): it needs no pip
    # of its own, and at this point it sees no other package there.
    install = [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index"]
    result = _run([*install, str(path)], cwd=tmp_path)
    if result.returncode != 0:
        _cannot("cannot install the wheel offline with this interpreter's pip:\n" + result.stderr[-3000:])
    purelib = _run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], tmp_path)
    site_packages = Path(purelib.stdout.strip())
    (site_packages / "_srprune_test_runner_site.pth").write_text("\n".join(_runner_site_dirs()) + "\n")

    elsewhere = tmp_path / "elsewhere"  # neither the checkout nor the environment
    elsewhere.mkdir()
    where = _run([str(python), "-c", "import optuna_srprune; print(optuna_srprune.__file__)"], elsewhere)
    assert where.returncode == 0, where.stderr
    assert Path(where.stdout.strip()).resolve().is_relative_to(site_packages.resolve()), where.stdout

    script = bin_dir / ("optuna-srprune.exe" if os.name == "nt" else "optuna-srprune")
    argv = [str(script), "evaluate", "--scale", "2", "--config", "smallest", "--json"]
    result = _run(argv, elsewhere, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    # The embedded Set5 and the shipped x2 supernet, both from the installed wheel.
    assert Path(report["data"]).resolve().is_relative_to(site_packages.resolve()), report["data"]
    assert report["images"] == 5
    # An untrained supernet stays at bicubic (33.68 dB on Set5 x2); the shipped one is well above.
    assert report["psnr"] > 34.5, report
