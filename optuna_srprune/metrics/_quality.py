"""PSNR and SSIM as SR papers report them, on numpy arrays.

The protocol (the MATLAB code behind the published tables of the SR literature):

- the SR output is rounded to 8 bits first, as MATLAB's ``uint8`` images are (``quantize=True``);
- colour images are scored on the luma of BT.601 YCbCr, studio range:
  ``Y = 16 + 65.481 R + 128.553 G + 24.966 B`` (RGB in ``[0, 1]``, Y in ``[16, 235]``);
- single-channel images are scored on their own gray values (``255 * value``), not on a luma;
- ``scale`` pixels are cropped at each border;
- PSNR uses a peak of 255; SSIM is Wang et al.'s ``ssim_index``: an 11x11 Gaussian window with
  sigma 1.5, ``K1 = 0.01``, ``K2 = 0.03``, ``L = 255``, over the valid part of the image.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from optuna_srprune._matlab import uint8_levels
from optuna_srprune.exceptions import DataError

__all__ = ["gaussian_window", "luma", "psnr", "rgb_psnr", "ssim", "ssim_map"]

# BT.601 studio-range luma coefficients for RGB in [0, 1], as MATLAB's rgb2ycbcr.
Y_OFFSET = 16.0
Y_COEFFS = (65.481, 128.553, 24.966)
SSIM_WINDOW = 11
SSIM_SIGMA = 1.5
SSIM_C1 = (0.01 * 255.0) ** 2
SSIM_C2 = (0.03 * 255.0) ** 2


def gaussian_window(size: int = SSIM_WINDOW, sigma: float = SSIM_SIGMA) -> np.ndarray:
    """The normalised 1-D Gaussian whose outer product is MATLAB's ``fspecial('gaussian', 11, 1.5)``."""
    x = np.arange(size, dtype=np.float64) - (size - 1) / 2
    g = np.exp(-(x * x) / (2 * sigma * sigma))
    return g / g.sum()


def _as_hwc(image: np.ndarray, what: str) -> np.ndarray:
    array = np.asarray(image, dtype=np.float64)
    if array.ndim == 2:
        array = array[:, :, None]
    if array.ndim != 3 or array.shape[2] not in (1, 3):
        raise ValueError(f"{what} must be H x W, H x W x 1 or H x W x 3, got shape {np.shape(image)}")
    return array


def _quantize(array: np.ndarray) -> np.ndarray:
    return uint8_levels(array) / 255.0


def luma(image: np.ndarray, is_gray: bool = False) -> np.ndarray:
    """The channel SR papers score, in ``[0, 255]``: BT.601 Y, or the gray value itself.

    Args:
        image: ``H x W [x 1 | x 3]`` array, RGB in ``[0, 1]``.
        is_gray: Score the gray value (channel 0) instead of Y; implied for single-channel arrays.

    Returns:
        ``H x W`` float64 array.
    """
    array = _as_hwc(image, "image")
    if is_gray or array.shape[2] == 1:
        return array[:, :, 0] * 255.0
    r, g, b = array[:, :, 0], array[:, :, 1], array[:, :, 2]
    return Y_OFFSET + Y_COEFFS[0] * r + Y_COEFFS[1] * g + Y_COEFFS[2] * b


def _crop(array: np.ndarray, border: int) -> np.ndarray:
    if border < 0:
        raise ValueError(f"scale (border crop) must be >= 0, got {border}")
    return array[border : array.shape[0] - border, border : array.shape[1] - border] if border else array


def _scored_pair(
    sr: np.ndarray, hr: np.ndarray, scale: int, is_gray: bool, quantize: bool, min_side: int
) -> tuple[np.ndarray, np.ndarray]:
    sr_array, hr_array = _as_hwc(sr, "sr"), _as_hwc(hr, "hr")
    if sr_array.shape != hr_array.shape:
        raise ValueError(f"sr and hr shapes differ: {sr_array.shape} vs {hr_array.shape}")
    if quantize:
        sr_array = _quantize(sr_array)
    y_sr = _crop(luma(sr_array, is_gray), scale)
    y_hr = _crop(luma(hr_array, is_gray), scale)
    if min(y_sr.shape) < min_side:
        raise DataError(
            f"image of {sr_array.shape[0]}x{sr_array.shape[1]} pixels is too small to score: "
            f"cropping {scale} border pixels leaves {y_sr.shape[0]}x{y_sr.shape[1]}, "
            f"less than {min_side}x{min_side}"
        )
    return y_sr, y_hr


def _psnr_from_mse(mse: float, peak: float) -> float:
    return math.inf if mse == 0 else 10.0 * math.log10(peak * peak / mse)


def psnr(sr: np.ndarray, hr: np.ndarray, scale: int, is_gray: bool = False, quantize: bool = True) -> float:
    """PSNR in dB on the Y channel (or gray values), ``scale`` border pixels cropped, peak 255.

    Args:
        sr: Super-resolved image, ``H x W x 3`` (or ``H x W``) in ``[0, 1]``.
        hr: Ground truth, same shape.
        scale: SR scale factor; that many pixels are cropped at each border (0: none).
        is_gray: The HR file was single-channel: score channel 0's gray value instead of Y.
        quantize: Round ``sr`` to 8 bits first, as the published MATLAB protocol does.

    Returns:
        PSNR in dB; ``inf`` for identical images.
    """
    y_sr, y_hr = _scored_pair(sr, hr, scale, is_gray, quantize, min_side=1)
    return _psnr_from_mse(float(np.mean((y_sr - y_hr) ** 2)), 255.0)


def _filter_valid(image: np.ndarray, window: np.ndarray) -> np.ndarray:
    # Separable 'valid' correlation (MATLAB's filter2(w, x, 'valid') with w = outer(g, g)).
    rows = sliding_window_view(image, window.size, axis=0) @ window
    return sliding_window_view(rows, window.size, axis=1) @ window


def ssim_map(y1: np.ndarray, y2: np.ndarray) -> np.ndarray:
    """Wang et al.'s SSIM map of two ``[0, 255]`` images, over the valid part (MATLAB ``ssim_index``)."""
    g = gaussian_window()
    mu1, mu2 = _filter_valid(y1, g), _filter_valid(y2, g)
    var1 = _filter_valid(y1 * y1, g) - mu1 * mu1
    var2 = _filter_valid(y2 * y2, g) - mu2 * mu2
    cov = _filter_valid(y1 * y2, g) - mu1 * mu2
    numerator = (2 * mu1 * mu2 + SSIM_C1) * (2 * cov + SSIM_C2)
    denominator = (mu1 * mu1 + mu2 * mu2 + SSIM_C1) * (var1 + var2 + SSIM_C2)
    return numerator / denominator


def ssim(sr: np.ndarray, hr: np.ndarray, scale: int, is_gray: bool = False, quantize: bool = True) -> float:
    """SSIM on the Y channel (or gray values), ``scale`` border pixels cropped.

    Gaussian 11x11 window, sigma 1.5, constants ``(0.01 * 255)^2`` and ``(0.03 * 255)^2`` on the
    ``[0, 255]`` range, mean of the SSIM map over the valid region, as MATLAB's ``ssim_index``.

    Args:
        sr: Super-resolved image, ``H x W x 3`` (or ``H x W``) in ``[0, 1]``.
        hr: Ground truth, same shape.
        scale: SR scale factor; that many pixels are cropped at each border (0: none).
        is_gray: The HR file was single-channel: score channel 0's gray value instead of Y.
        quantize: Round ``sr`` to 8 bits first, as the published MATLAB protocol does.

    Returns:
        SSIM, 1.0 for identical images.

    Raises:
        DataError: Less than 11x11 pixels are left after cropping.
    """
    y_sr, y_hr = _scored_pair(sr, hr, scale, is_gray, quantize, min_side=SSIM_WINDOW)
    return float(np.mean(ssim_map(y_sr, y_hr)))


def rgb_psnr(sr: np.ndarray, hr: np.ndarray, scale: int = 0, quantize: bool = True) -> float:
    """PSNR in dB over all RGB channels in ``[0, 1]`` (peak 1), ``scale`` border pixels cropped.

    Args:
        sr: Super-resolved image, ``H x W x C`` (or ``H x W``) in ``[0, 1]``.
        hr: Ground truth, same shape.
        scale: Pixels cropped at each border (0: none).
        quantize: Round ``sr`` to 8 bits first.

    Returns:
        PSNR in dB; ``inf`` for identical images.
    """
    sr_array, hr_array = _as_hwc(sr, "sr"), _as_hwc(hr, "hr")
    if sr_array.shape != hr_array.shape:
        raise ValueError(f"sr and hr shapes differ: {sr_array.shape} vs {hr_array.shape}")
    if quantize:
        sr_array = _quantize(sr_array)
    diff = _crop(sr_array, scale) - _crop(hr_array, scale)
    if diff.size == 0:
        raise DataError(f"image of {sr_array.shape[0]}x{sr_array.shape[1]} pixels is too small to score")
    return _psnr_from_mse(float(np.mean(diff * diff)), 1.0)
