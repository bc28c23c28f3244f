"""The README's Python example ("Inside your own study") runs as written, with small settings."""

from __future__ import annotations

from collections.abc import Callable
import functools
from pathlib import Path
import re
from typing import Any

import optuna
import pytest

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_python_block(section: str) -> str:
    """The first ```python block after the heading ``## {section}`` of the README."""
    text = README.read_text(encoding="utf-8")
    match = re.search(rf"^## {re.escape(section)}\n.*?^```python\n(.*?)^```", text, re.M | re.S)
    assert match, f"README.md has no python block under '## {section}'"
    return match.group(1)


@pytest.mark.slow
def test_inside_your_own_study_runs(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from optuna_srprune import orchestration

    code = readme_python_block("Inside your own study")
    assert "n_trials=0" not in code and "SearchSettings" not in code  # reads naturally
    # Small settings, the README's code unchanged: a 48x64 output (calibration in seconds, not minutes),
    # at most 3 trials, and the database in a temporary folder.
    small_predictor = functools.partial(orchestration.load_predictor, hr_size=(48, 64), progress=False)
    monkeypatch.setattr(orchestration, "load_predictor", small_predictor)
    optimize: Callable[..., Any] = optuna.Study.optimize

    def few_trials(self: optuna.Study, func: Any, n_trials: int | None = None, **kwargs: Any) -> None:
        optimize(self, func, n_trials=min(n_trials or 3, 3), **kwargs)

    monkeypatch.setattr(optuna.Study, "optimize", few_trials)
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "README.md", "exec"), {"__name__": "readme_example"})
    printed = capsys.readouterr().out.splitlines()
    assert printed and all(re.match(r"\d+ \[[\d.]+, [\d.]+\] x2 w\d+ \[", line) for line in printed)
    assert (tmp_path / "srprune.db").is_file()
