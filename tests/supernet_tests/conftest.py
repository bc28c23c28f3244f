from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image
import pytest

from optuna_srprune.search_space import SRSearchSpace


@pytest.fixture
def tiny_space() -> SRSearchSpace:
    """A small space (every block kind and tail, two widths) so that tests run in seconds."""
    return SRSearchSpace(
        scale=2,
        max_depth=3,
        widths=(8, 16),
        block_kinds=("ecb", "edsr", "wdsr"),
        max_ratio=0.75,
        ratio_step=0.125,
        channel_multiple=2,
        tails=("conv3x3", "deconv"),
    )


@pytest.fixture
def tiny_images(tmp_path: Path) -> Path:
    """Four smooth 36x40 RGB PNG images."""
    folder = tmp_path / "images"
    folder.mkdir()
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:36, 0:40] / 10.0
    for i in range(4):
        phase = rng.uniform(0, 6, size=3)
        pixels = np.stack([0.5 + 0.4 * np.sin(xx * (i + 1) + yy + p) for p in phase], axis=-1)
        Image.fromarray((pixels * 255).round().astype(np.uint8)).save(folder / f"img{i}.png")
    return folder
