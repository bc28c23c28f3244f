from __future__ import annotations

import numpy as np
import pytest
import torch

from optuna_srprune.data import ValidationSet
from optuna_srprune.evaluation import receptive_radius
from optuna_srprune.evaluation import SupernetEvaluator
from optuna_srprune.evaluation import upscale_tiled
from optuna_srprune.exceptions import ConfigError
from optuna_srprune.search_space import SRSearchSpace
from optuna_srprune.supernet import SRSupernet

SPACE = SRSearchSpace(scale=2, max_depth=2, widths=(8, 16), channel_multiple=4)


@pytest.fixture(scope="module")
def supernet() -> SRSupernet:
    torch.manual_seed(0)
    return SRSupernet(SPACE).eval()


@pytest.mark.parametrize("size", [(37, 50), (64, 64), (65, 130)])
def test_tiled_output_equals_untiled(supernet: SRSupernet, size: tuple[int, int]) -> None:
    config = SPACE.sample(np.random.default_rng(size[0]))
    lr = torch.rand(1, 3, *size)
    with torch.inference_mode():
        whole = supernet(lr, config)
        tiled = upscale_tiled(lambda x: supernet(x, config), lr, 2, 24, receptive_radius(config))
    assert torch.allclose(whole, tiled, atol=1e-5)


def test_evaluation_is_deterministic_and_cached(supernet: SRSupernet) -> None:
    evaluator = SupernetEvaluator(supernet, tile=64)
    config = SPACE.largest()
    first = evaluator.evaluate(config)
    assert set(first.per_image) == {"baby", "bird", "butterfly", "head", "woman"}
    assert evaluator.evaluate(config) is first
    fresh = SupernetEvaluator(supernet, tile=1024).evaluate(config)
    # Tiles change float rounding only, which can flip a rare 8-bit quantisation step.
    assert fresh.psnr == pytest.approx(first.psnr, abs=1e-4)
    assert 0 < first.ssim <= 1


def test_validation_set_of_another_scale_is_refused(supernet: SRSupernet) -> None:
    with pytest.raises(ConfigError, match="x3"):
        SupernetEvaluator(supernet, ValidationSet(None, 3))
