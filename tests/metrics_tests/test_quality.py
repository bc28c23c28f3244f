"""numpy PSNR / SSIM: known values, the protocol's choices, and SSIM against a 2-D reference."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.signal import correlate2d

from optuna_srprune.exceptions import DataError
from optuna_srprune.metrics import luma
from optuna_srprune.metrics import psnr
from optuna_srprune.metrics import rgb_psnr
from optuna_srprune.metrics import ssim


def _image(h: int = 40, w: int = 36, seed: int = 0) -> np.ndarray:
    return np.round(np.random.default_rng(seed).random((h, w, 3)) * 255) / 255


def _reference_ssim(a: np.ndarray, b: np.ndarray) -> float:
    """Wang et al.'s ssim_index.m with a full 2-D window (fspecial('gaussian', 11, 1.5))."""
    x = np.arange(11) - 5
    window = np.exp(-(x[:, None] ** 2 + x[None, :] ** 2) / (2 * 1.5**2))
    window /= window.sum()
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2

    def f(v: np.ndarray) -> np.ndarray:
        return correlate2d(v, window, mode="valid")

    mu1, mu2 = f(a), f(b)
    s1, s2, s12 = f(a * a) - mu1**2, f(b * b) - mu2**2, f(a * b) - mu1 * mu2
    ssim_map = ((2 * mu1 * mu2 + c1) * (2 * s12 + c2)) / ((mu1**2 + mu2**2 + c1) * (s1 + s2 + c2))
    return float(ssim_map.mean())


def test_identical_images() -> None:
    hr = _image()
    assert psnr(hr, hr, 2) == math.inf
    assert rgb_psnr(hr, hr) == math.inf
    assert ssim(hr, hr, 2) == pytest.approx(1.0)


def test_known_psnr_of_a_one_level_offset() -> None:
    hr = np.full((20, 20, 3), 100 / 255)
    sr = hr + 1 / 255  # one 8-bit level on R = G = B: Y moves by 219 / 255
    assert psnr(sr, hr, 0) == pytest.approx(20 * math.log10(255 / (219 / 255)))
    assert psnr(sr, hr, 0, is_gray=True) == pytest.approx(20 * math.log10(255))
    assert rgb_psnr(sr, hr) == pytest.approx(20 * math.log10(255))


def test_luma_is_bt601_studio_range() -> None:
    black, white = np.zeros((1, 1, 3)), np.ones((1, 1, 3))
    assert luma(black)[0, 0] == pytest.approx(16) and luma(white)[0, 0] == pytest.approx(235)
    red = np.array([[[1.0, 0, 0]]])
    assert luma(red)[0, 0] == pytest.approx(16 + 65.481)
    assert luma(red, is_gray=True)[0, 0] == pytest.approx(255)
    assert luma(np.full((2, 2), 0.5))[0, 0] == pytest.approx(127.5)  # H x W arrays are gray


def test_border_crop() -> None:
    hr = _image()
    sr = hr.copy()
    sr[:3] = 0
    sr[:, -3:] = 1
    assert psnr(sr, hr, 3) == math.inf and psnr(sr, hr, 2) < 40
    assert rgb_psnr(sr, hr, 3) == math.inf


def test_sr_is_quantized_by_default() -> None:
    hr = _image()
    sr = np.clip(hr + 0.4 / 255, 0, 1)  # rounds back to hr
    assert psnr(sr, hr, 2) == math.inf
    assert math.isfinite(psnr(sr, hr, 2, quantize=False))
    assert psnr(hr + 2.0, hr, 0) == psnr(np.ones_like(hr), hr, 0)  # clamped before rounding


def test_ssim_matches_two_dimensional_reference() -> None:
    hr, sr = _image(seed=1), _image(seed=2) * 0.3 + _image(seed=1) * 0.7
    # sr * 255 has exact halves here: MATLAB (and the metrics) round them up, np.round would not.
    expected = _reference_ssim(luma(np.floor(sr * 255 + 0.5) / 255)[4:-4, 4:-4], luma(hr)[4:-4, 4:-4])
    assert ssim(sr, hr, 4) == pytest.approx(expected, abs=1e-12)
    gray = _reference_ssim(np.floor(sr * 255 + 0.5)[4:-4, 4:-4, 0], (hr * 255)[4:-4, 4:-4, 0])
    assert ssim(sr, hr, 4, is_gray=True) == pytest.approx(gray, abs=1e-12)


def test_gray_arrays_are_accepted() -> None:
    hr = _image()[:, :, 0]
    sr = np.clip(hr + 3 / 255, 0, 1)
    assert psnr(sr, hr, 2) == psnr(np.repeat(sr[:, :, None], 3, 2), np.repeat(hr[:, :, None], 3, 2), 2, True)


def test_bad_inputs() -> None:
    with pytest.raises(ValueError, match="shapes differ"):
        psnr(_image(10, 10), _image(10, 11), 2)
    with pytest.raises(ValueError, match="H x W"):
        ssim(np.zeros((4, 4, 2)), np.zeros((4, 4, 2)), 0)
    assert math.isfinite(ssim(_image(19, 19), _image(19, 19, seed=1), 4))  # 11 x 11 left: one window
    with pytest.raises(DataError, match="leaves 8x8, less than 11x11"):
        ssim(_image(16, 16), _image(16, 16), 4)
    with pytest.raises(DataError, match="too small"):
        psnr(_image(8, 8), _image(8, 8), 4)
    with pytest.raises(DataError, match="too small"):
        rgb_psnr(_image(8, 8), _image(8, 8), 4)
