"""torch PSNR / SSIM agree with the numpy versions; importing metrics does not import torch."""

from __future__ import annotations

import math
from pathlib import Path
import subprocess
import sys

import numpy as np
import pytest
import torch

from optuna_srprune.data import imresize
from optuna_srprune.data import ValidationSet
from optuna_srprune.metrics import psnr
from optuna_srprune.metrics import psnr_torch
from optuna_srprune.metrics import rgb_psnr
from optuna_srprune.metrics import rgb_psnr_torch
from optuna_srprune.metrics import ssim
from optuna_srprune.metrics import ssim_torch

SET14 = Path(__file__).resolve().parents[1] / "data" / "Set14"


def _hwc(x: torch.Tensor) -> np.ndarray:
    return x.permute(1, 2, 0).numpy()


def test_agree_with_numpy_on_random_images() -> None:
    rng = np.random.default_rng(0)
    for seed, gray in ((1, False), (2, True)):
        hr = torch.from_numpy(np.round(rng.random((3, 37, 45)) * 255) / 255).float()
        sr = (hr + 0.05 * torch.randn(hr.shape, generator=torch.Generator().manual_seed(seed))).clamp(0, 1)
        assert psnr_torch(sr, hr, 3, gray) == pytest.approx(psnr(_hwc(sr), _hwc(hr), 3, gray), abs=1e-6)
        assert ssim_torch(sr, hr, 3, gray) == pytest.approx(ssim(_hwc(sr), _hwc(hr), 3, gray), abs=1e-9)
        assert rgb_psnr_torch(sr, hr, 3) == pytest.approx(rgb_psnr(_hwc(sr), _hwc(hr), 3), abs=1e-6)
        unquantized = psnr(_hwc(sr), _hwc(hr), 3, gray, quantize=False)
        assert psnr_torch(sr, hr, 3, gray, quantize=False) == pytest.approx(unquantized, abs=1e-6)


def test_agree_on_real_bicubic_images_including_gray() -> None:
    for pair in ValidationSet(SET14, 4)[2:4]:  # bridge (mode L) and coastguard
        sr = imresize(pair.lr, scale=4)
        expected_psnr = psnr(_hwc(sr), _hwc(pair.hr), 4, pair.is_gray)
        expected_ssim = ssim(_hwc(sr), _hwc(pair.hr), 4, pair.is_gray)
        assert psnr_torch(sr, pair.hr, 4, pair.is_gray) == pytest.approx(expected_psnr, abs=1e-6)
        assert ssim_torch(sr, pair.hr, 4, pair.is_gray) == pytest.approx(expected_ssim, abs=1e-9)


def test_batches_and_reduction() -> None:
    hr = torch.rand(3, 3, 24, 24)
    sr = (hr + 0.02 * torch.randn(hr.shape)).clamp(0, 1)
    flags = [False, True, False]
    per_image = psnr_torch(sr, hr, 2, flags, reduction="none")
    assert per_image == pytest.approx([psnr_torch(sr[i], hr[i], 2, flags[i]) for i in range(3)])
    assert psnr_torch(sr, hr, 2, flags) == pytest.approx(sum(per_image) / 3)
    ssims = ssim_torch(sr, hr, 2, flags, reduction="none")
    assert ssims == pytest.approx([ssim(_hwc(sr[i]), _hwc(hr[i]), 2, flags[i]) for i in range(3)], abs=1e-9)
    assert len(rgb_psnr_torch(sr, hr, reduction="none")) == 3
    with pytest.raises(ValueError, match="entries"):
        psnr_torch(sr, hr, 2, [True])


def test_identical_and_single_channel() -> None:
    hr = torch.rand(1, 16, 16)
    assert psnr_torch(hr, hr, 2, quantize=False) == math.inf
    assert rgb_psnr_torch(hr, hr, quantize=False) == math.inf
    assert ssim_torch(hr, hr, 2, quantize=False) == pytest.approx(1.0)
    assert psnr_torch(hr[None], hr[None] * 0.5, 2) == pytest.approx(
        psnr(hr[0].numpy(), hr[0].numpy() * 0.5, 2)
    )


def test_bad_tensors() -> None:
    with pytest.raises(ValueError, match="shapes differ"):
        psnr_torch(torch.rand(3, 8, 8), torch.rand(3, 8, 9), 0)
    with pytest.raises(ValueError, match="1 or 3 channels"):
        ssim_torch(torch.rand(2, 8, 8), torch.rand(2, 8, 8), 0)


def test_importing_metrics_does_not_import_torch() -> None:
    code = (
        "import sys, optuna_srprune.metrics as m; m.psnr; assert 'torch' not in sys.modules, 'torch imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
