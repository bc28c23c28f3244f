"""Fixtures of the distributed-search tests: a small supernet and the storages they run on."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from PIL import Image
import pytest
import torch

from optuna_srprune.data import default_validation_dir
from optuna_srprune.search_space import SRSearchSpace
from optuna_srprune.supernet import SRSupernet


@pytest.fixture(scope="module")
def assets(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real (untrained) supernet checkpoint and a one-image validation folder."""
    root = tmp_path_factory.mktemp("assets")
    torch.manual_seed(0)
    SRSupernet(SRSearchSpace(scale=2, max_depth=2, widths=(8, 16), channel_multiple=4)).save(
        root / "supernet.pt"
    )
    (root / "val").mkdir()
    Image.open(default_validation_dir() / "bird.png").crop((0, 0, 128, 128)).save(root / "val/bird.png")
    return root


@pytest.fixture(params=["sqlite", "postgres"])
def storage_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'study.db'}"
    else:
        yield request.getfixturevalue("postgres_url")
