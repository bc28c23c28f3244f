"""``--device`` on every command that runs torch: a bad or absent device is one line, nothing written."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch

_ABSENT = [("tpu", "Unknown device 'tpu'"), ("cuda:one", "Unknown device")]
if not torch.cuda.is_available():
    _ABSENT.append(("cuda", "no CUDA GPU"))


@pytest.mark.parametrize(("device", "message"), _ABSENT)
def test_search_worker_and_export_refuse_a_bad_device_before_writing(
    device: str,
    message: str,
    searched_study: Any,
    tmp_path: Path,
    cli_error: Callable[..., str],
    snapshot: Callable[[Path], dict[str, str]],
) -> None:
    before = snapshot(searched_study.root)
    study = ["--storage", searched_study.url, "--study", searched_study.name, "--device", device]
    cli_error(["worker", *study, "--trials", "1"], message)
    new = ["--storage", f"sqlite:///{tmp_path / 'new.db'}", "--study", "s", "--device", device]
    cli_error(["search", *new, "--scale", "2", "--budget-ms", "50", "--trials", "1"], message)
    assert not (tmp_path / "new.db").exists()
    cli_error(["export", *study, "--trial", "0", "--out", str(tmp_path / "out")], message)
    assert not (tmp_path / "out").exists()
    assert snapshot(searched_study.root) == before
