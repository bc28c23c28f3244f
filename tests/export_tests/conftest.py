"""A small study made by the real ``search`` path, and one of its trials exported, shared by the tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import NamedTuple

import pytest
import torch

from optuna_srprune.cli import main
from optuna_srprune.search_space import SRSearchSpace
from optuna_srprune.supernet import SRSupernet


class Study(NamedTuple):
    url: str
    name: str
    root: Path


@pytest.fixture(scope="session")
def study(tmp_path_factory: pytest.TempPathFactory) -> Study:
    """Three trials of an untrained tiny x2 supernet, validated on the embedded Set5."""
    root = tmp_path_factory.mktemp("export_study")
    torch.manual_seed(0)
    SRSupernet(SRSearchSpace(scale=2, max_depth=2, widths=(8, 16), channel_multiple=4)).save(
        root / "supernet.pt"
    )
    url = f"sqlite:///{root / 'study.db'}"
    argv = [
        "search", "--storage", url, "--study", "s", "--scale", "2", "--budget-ms", "1", "--trials", "3",
        "--sampler", "random", "--seed", "0", "--supernet", str(root / "supernet.pt"),
        "--hr-size", "32x32", "--no-progress", "--json",
    ]  # fmt: skip
    assert main(argv) == 0
    return Study(url, "s", root)


def last_json(capsys: pytest.CaptureFixture[str]) -> dict:
    """The JSON object a ``--json`` command printed last."""
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def expect_error(argv: list[str], capsys: pytest.CaptureFixture[str], match: str) -> None:
    """The command exits 2 with one line on stderr that contains ``match``, and no traceback."""
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert match in err, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def export_argv(study: Study, out: Path, *extra: str, trial: int = 0) -> list[str]:
    return [
        "export", "--storage", study.url, "--study", study.name, "--trial", str(trial), "--out", str(out),
        "--batch-size", "4", "--patch-size", "24", "--no-progress", *extra,
    ]  # fmt: skip


@pytest.fixture(scope="session")
def exported(study: Study, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Trial 0 of :func:`study`, fine-tuned for 3 steps on Set5 and exported."""
    from optuna_srprune.data import default_validation_dir

    out = tmp_path_factory.mktemp("exported") / "trial0"
    argv = export_argv(study, out, "--finetune-steps", "3", "--data", str(default_validation_dir()))
    assert main([*argv, "--json"]) == 0
    return out
