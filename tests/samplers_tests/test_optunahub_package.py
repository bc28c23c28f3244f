"""The OptunaHub package of ``LatencyAwareSampler`` in ``benchmarks/hub`` (the registry's layout)."""

from __future__ import annotations

import os
from pathlib import Path
import subprocess
import sys
import types

import pytest
import yaml

from optuna_srprune.samplers import LatencyAwareSampler
from optuna_srprune.samplers import LatencyModel

REGISTRY_ROOT = Path(__file__).resolve().parents[2] / "benchmarks" / "hub"
PACKAGE = "samplers/srprune_latency_aware"
PACKAGE_DIR = REGISTRY_ROOT / PACKAGE


def _optunahub() -> types.ModuleType:
    """``optunahub`` (a dev extra); skips without it, except under CI (``CI=true``), where it fails."""
    try:
        import optunahub
    except ImportError as err:
        message = f"optunahub is not installed ({err}); pip install optunahub (in the dev extras)"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message + " (CI=true: the OptunaHub tests must run)")
        pytest.skip(message)
    return optunahub


def _front_matter(readme: Path) -> dict[str, object]:
    text = readme.read_text(encoding="utf-8")
    assert text.startswith("---\n"), "README.md must start with the registry's front matter"
    header, _, _ = text[4:].partition("\n---\n")
    data = yaml.safe_load(header)
    assert isinstance(data, dict)
    return data


def test_package_has_the_registry_files() -> None:
    for name in ("README.md", "__init__.py", "example.py", "LICENSE", "requirements.txt"):
        assert (PACKAGE_DIR / name).is_file(), f"{name} is missing from {PACKAGE_DIR}"
    meta = _front_matter(PACKAGE_DIR / "README.md")
    assert set(meta) == {"author", "title", "description", "tags", "optuna_versions", "license"}
    for key in ("author", "title", "description", "license"):
        assert isinstance(meta[key], str) and meta[key], key
    tags, versions = meta["tags"], meta["optuna_versions"]
    # A package under package/samplers/ must carry the tag "sampler".
    assert isinstance(tags, list) and "sampler" in tags
    assert all(isinstance(tag, str) for tag in tags)
    # Quoted or not, every version must read as a string, e.g. 5.1.0 (not a float like 5.1).
    assert isinstance(versions, list) and versions
    assert all(isinstance(v, str) and v.count(".") == 2 for v in versions), versions
    assert meta["license"] == "MIT License"
    assert (PACKAGE_DIR / "LICENSE").read_text(encoding="utf-8").startswith("MIT License")
    requirements = (PACKAGE_DIR / "requirements.txt").read_text(encoding="utf-8").split()
    assert "optuna-srprune" in requirements


def test_load_local_module_exports_the_sampler() -> None:
    optunahub = _optunahub()
    module = optunahub.load_local_module(package=PACKAGE, registry_root=str(REGISTRY_ROOT))
    assert module.LatencyAwareSampler is LatencyAwareSampler
    assert module.LatencyModel is LatencyModel
    assert sorted(module.__all__) == ["LatencyAwareSampler", "LatencyModel"]


def test_examples_run_offline_and_without_torch() -> None:
    """Runs ``example.py`` as a script and the README's example, in a fresh interpreter: their
    ``optunahub.load_module`` (which downloads from the registry) is pointed at the local package, and
    torch must stay unimported."""
    _optunahub()
    code = f"""
import runpy, sys
import optunahub

def load_module(package, **kwargs):
    assert package == {PACKAGE!r}, package
    return optunahub.load_local_module(package=package, registry_root={str(REGISTRY_ROOT)!r})

optunahub.load_module = load_module
runpy.run_path({str(PACKAGE_DIR / "example.py")!r}, run_name="__main__")
# The README's example too (its first python block).
readme = open({str(PACKAGE_DIR / "README.md")!r}, encoding="utf-8").read()
snippet = readme.split("```python\\n", 1)[1].split("```", 1)[0]
exec(compile(snippet, "README.md", "exec"), {{"__name__": "__main__"}})
assert "torch" not in sys.modules, "the example imported torch"
"""
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    first_line = result.stdout.splitlines()[0]
    assert first_line.startswith("30 trials"), result.stdout
    slowest = float(first_line.split(" at ")[1].split(" ms")[0])
    assert slowest <= 100.0
    assert float(result.stdout.splitlines()[-1]) <= 100.0  # the README's example prints the slowest
