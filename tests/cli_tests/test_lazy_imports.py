"""Building the command line and reading a study import neither torch nor onnx (fresh interpreters)."""

from __future__ import annotations

from pathlib import Path
import subprocess
import sys
from typing import Any

HEAVY = ("torch", "onnx", "onnxruntime")


def _run_without_heavy_imports(argv: list[str]) -> subprocess.CompletedProcess[str]:
    """Run ``optuna-srprune argv`` in a fresh interpreter and fail if a heavy module was imported."""
    code = (
        "import sys\n"
        "from optuna_srprune.cli import main\n"
        "try:\n"
        f"    rc = main({argv!r})\n"
        "except SystemExit as exit:\n"
        "    rc = exit.code\n"
        f"heavy = [m for m in {HEAVY!r} if m in sys.modules]\n"
        "assert not heavy, f'imported {heavy}'\n"
        "sys.exit(rc)\n"
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)


def test_help_imports_no_torch_or_onnx() -> None:
    result = _run_without_heavy_imports(["--help"])
    assert result.returncode == 0, result.stderr
    assert "search" in result.stdout and "report" in result.stdout


def test_report_without_images_imports_no_torch_or_onnx(searched_study: Any, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    argv = ["report", "--storage", searched_study.url, "--study", searched_study.name, "--out", str(out)]
    result = _run_without_heavy_imports([*argv, "--crops", "0"])
    assert result.returncode == 0, result.stderr
    assert out.is_file()
