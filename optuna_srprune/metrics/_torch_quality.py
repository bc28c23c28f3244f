"""PSNR and SSIM on torch tensors (``CHW`` or ``NCHW``), same protocol as the numpy versions.

Computed in float64 so the figures agree with :func:`~optuna_srprune.metrics.psnr` and
:func:`~optuna_srprune.metrics.ssim` to far below the 0.01 dB that papers print. torch is imported
lazily, so importing :mod:`optuna_srprune.metrics` never imports it.
"""

from __future__ import annotations

from collections.abc import Sequence
import math
from typing import Literal
from typing import overload
from typing import TYPE_CHECKING

from optuna_srprune.exceptions import DataError
from optuna_srprune.metrics._quality import gaussian_window
from optuna_srprune.metrics._quality import SSIM_C1
from optuna_srprune.metrics._quality import SSIM_C2
from optuna_srprune.metrics._quality import SSIM_WINDOW
from optuna_srprune.metrics._quality import Y_COEFFS
from optuna_srprune.metrics._quality import Y_OFFSET

if TYPE_CHECKING:
    import torch

__all__ = ["psnr_torch", "rgb_psnr_torch", "ssim_torch"]

Reduction = Literal["mean", "none"]


def _as_nchw(x: torch.Tensor, what: str) -> torch.Tensor:
    import torch

    if x.dim() == 3:
        x = x.unsqueeze(0)
    if x.dim() != 4 or x.shape[1] not in (1, 3):
        raise ValueError(f"{what} must be a CHW or NCHW tensor with 1 or 3 channels, got {tuple(x.shape)}")
    return x.detach().to(dtype=torch.float64, device="cpu")


def _gray_flags(is_gray: bool | Sequence[bool], n: int) -> list[bool]:
    flags = [bool(is_gray)] * n if isinstance(is_gray, bool) else [bool(v) for v in is_gray]
    if len(flags) != n:
        raise ValueError(f"is_gray has {len(flags)} entries for {n} images")
    return flags


def _luma(x: torch.Tensor, flags: list[bool]) -> torch.Tensor:
    """``N x H x W`` in ``[0, 255]``: Y of BT.601, or channel 0 for gray images."""
    import torch

    gray = x[:, 0] * 255.0
    if x.shape[1] == 1:
        return gray
    y = Y_OFFSET + Y_COEFFS[0] * x[:, 0] + Y_COEFFS[1] * x[:, 1] + Y_COEFFS[2] * x[:, 2]
    mask = torch.tensor(flags, dtype=torch.bool).view(-1, 1, 1)
    return torch.where(mask, gray, y)


def _quantize(x: torch.Tensor) -> torch.Tensor:
    import torch

    return torch.floor(x.clamp(0.0, 1.0) * 255.0 + 0.5) / 255.0


def _crop(x: torch.Tensor, border: int) -> torch.Tensor:
    if border < 0:
        raise ValueError(f"scale (border crop) must be >= 0, got {border}")
    return x[..., border : x.shape[-2] - border, border : x.shape[-1] - border] if border else x


def _scored(
    sr: torch.Tensor,
    hr: torch.Tensor,
    scale: int,
    is_gray: bool | Sequence[bool],
    quantize: bool,
    min_side: int,
) -> tuple[torch.Tensor, torch.Tensor]:
    sr64, hr64 = _as_nchw(sr, "sr"), _as_nchw(hr, "hr")
    if sr64.shape != hr64.shape:
        raise ValueError(f"sr and hr shapes differ: {tuple(sr.shape)} vs {tuple(hr.shape)}")
    if quantize:
        sr64 = _quantize(sr64)
    flags = _gray_flags(is_gray, sr64.shape[0])
    y_sr, y_hr = _crop(_luma(sr64, flags), scale), _crop(_luma(hr64, flags), scale)
    if min(y_sr.shape[-2:]) < min_side:
        raise DataError(
            f"image of {sr64.shape[-2]}x{sr64.shape[-1]} pixels is too small to score: cropping {scale} "
            f"border pixels leaves {y_sr.shape[-2]}x{y_sr.shape[-1]}, less than {min_side}x{min_side}"
        )
    return y_sr, y_hr


def _psnr_values(mse: torch.Tensor, peak: float) -> list[float]:
    return [math.inf if m == 0 else 10.0 * math.log10(peak * peak / m) for m in mse.tolist()]


@overload
def _reduce(values: list[float], reduction: Literal["mean"]) -> float: ...


@overload
def _reduce(values: list[float], reduction: Literal["none"]) -> list[float]: ...


@overload
def _reduce(values: list[float], reduction: Reduction) -> float | list[float]: ...


def _reduce(values: list[float], reduction: Reduction) -> float | list[float]:
    if reduction == "none":
        return values
    if reduction != "mean":
        raise ValueError(f"reduction must be 'mean' or 'none', got {reduction!r}")
    return math.fsum(values) / len(values)


@overload
def psnr_torch(
    sr: torch.Tensor,
    hr: torch.Tensor,
    scale: int,
    is_gray: bool | Sequence[bool] = ...,
    quantize: bool = ...,
    *,
    reduction: Literal["mean"] = ...,
) -> float: ...


@overload
def psnr_torch(
    sr: torch.Tensor,
    hr: torch.Tensor,
    scale: int,
    is_gray: bool | Sequence[bool] = ...,
    quantize: bool = ...,
    *,
    reduction: Literal["none"],
) -> list[float]: ...


def psnr_torch(
    sr: torch.Tensor,
    hr: torch.Tensor,
    scale: int,
    is_gray: bool | Sequence[bool] = False,
    quantize: bool = True,
    *,
    reduction: Reduction = "mean",
) -> float | list[float]:
    """PSNR in dB on the Y channel (or gray values) of ``CHW`` / ``NCHW`` tensors in ``[0, 1]``.

    Same protocol as :func:`~optuna_srprune.metrics.psnr`: SR rounded to 8 bits (``quantize``), Y of
    BT.601 studio range, ``scale`` border pixels cropped, peak 255.

    Args:
        sr: Super-resolved images, ``C x H x W`` or ``N x C x H x W``, 1 or 3 channels.
        hr: Ground truth, same shape.
        scale: SR scale factor; that many pixels are cropped at each border.
        is_gray: Score gray values instead of Y: one flag for all images or one per image.
        quantize: Round ``sr`` to 8 bits first.
        reduction: ``"mean"``: the mean of the per-image PSNRs (what papers report); ``"none"``: the
            list of per-image PSNRs.

    Returns:
        PSNR in dB (``inf`` for identical images), or a list of them.
    """
    y_sr, y_hr = _scored(sr, hr, scale, is_gray, quantize, min_side=1)
    mse = ((y_sr - y_hr) ** 2).mean(dim=(-2, -1))
    return _reduce(_psnr_values(mse, 255.0), reduction)


def _filter_valid(x: torch.Tensor, window: torch.Tensor) -> torch.Tensor:
    # Separable 'valid' correlation, as filter2 does: a weighted sum of shifted views, much faster on
    # CPU than float64 conv2d or matmuls on unfolded (copied) windows.
    taps = window.tolist()
    height, width = x.shape[-2] - len(taps) + 1, x.shape[-1] - len(taps) + 1
    rows = sum(w * x[..., k : k + height, :] for k, w in enumerate(taps))
    return sum(w * rows[..., :, k : k + width] for k, w in enumerate(taps))


@overload
def ssim_torch(
    sr: torch.Tensor,
    hr: torch.Tensor,
    scale: int,
    is_gray: bool | Sequence[bool] = ...,
    quantize: bool = ...,
    *,
    reduction: Literal["mean"] = ...,
) -> float: ...


@overload
def ssim_torch(
    sr: torch.Tensor,
    hr: torch.Tensor,
    scale: int,
    is_gray: bool | Sequence[bool] = ...,
    quantize: bool = ...,
    *,
    reduction: Literal["none"],
) -> list[float]: ...


def ssim_torch(
    sr: torch.Tensor,
    hr: torch.Tensor,
    scale: int,
    is_gray: bool | Sequence[bool] = False,
    quantize: bool = True,
    *,
    reduction: Reduction = "mean",
) -> float | list[float]:
    """SSIM on the Y channel (or gray values) of ``CHW`` / ``NCHW`` tensors in ``[0, 1]``.

    Same protocol as :func:`~optuna_srprune.metrics.ssim` (MATLAB ``ssim_index``: 11x11 Gaussian,
    sigma 1.5, on the ``[0, 255]`` range, valid region).

    Args:
        sr: Super-resolved images, ``C x H x W`` or ``N x C x H x W``, 1 or 3 channels.
        hr: Ground truth, same shape.
        scale: SR scale factor; that many pixels are cropped at each border.
        is_gray: Score gray values instead of Y: one flag for all images or one per image.
        quantize: Round ``sr`` to 8 bits first.
        reduction: ``"mean"`` over images, or ``"none"`` for the per-image list.

    Returns:
        SSIM, or a list of them.
    """
    import torch

    y_sr, y_hr = _scored(sr, hr, scale, is_gray, quantize, min_side=SSIM_WINDOW)
    window = torch.from_numpy(gaussian_window())
    y1, y2 = y_sr, y_hr
    mu1, mu2 = _filter_valid(y1, window), _filter_valid(y2, window)
    var1 = _filter_valid(y1 * y1, window) - mu1 * mu1
    var2 = _filter_valid(y2 * y2, window) - mu2 * mu2
    cov = _filter_valid(y1 * y2, window) - mu1 * mu2
    numerator = (2 * mu1 * mu2 + SSIM_C1) * (2 * cov + SSIM_C2)
    denominator = (mu1 * mu1 + mu2 * mu2 + SSIM_C1) * (var1 + var2 + SSIM_C2)
    values = (numerator / denominator).mean(dim=(-2, -1))
    return _reduce([float(v) for v in values.tolist()], reduction)


@overload
def rgb_psnr_torch(
    sr: torch.Tensor,
    hr: torch.Tensor,
    scale: int = ...,
    quantize: bool = ...,
    *,
    reduction: Literal["mean"] = ...,
) -> float: ...


@overload
def rgb_psnr_torch(
    sr: torch.Tensor,
    hr: torch.Tensor,
    scale: int = ...,
    quantize: bool = ...,
    *,
    reduction: Literal["none"],
) -> list[float]: ...


def rgb_psnr_torch(
    sr: torch.Tensor,
    hr: torch.Tensor,
    scale: int = 0,
    quantize: bool = True,
    *,
    reduction: Reduction = "mean",
) -> float | list[float]:
    """PSNR in dB over all channels of ``CHW`` / ``NCHW`` tensors in ``[0, 1]`` (peak 1).

    Args:
        sr: Super-resolved images, ``C x H x W`` or ``N x C x H x W``.
        hr: Ground truth, same shape.
        scale: Pixels cropped at each border (0: none).
        quantize: Round ``sr`` to 8 bits first.
        reduction: ``"mean"`` over images, or ``"none"`` for the per-image list.

    Returns:
        PSNR in dB (``inf`` for identical images), or a list of them.
    """
    sr64, hr64 = _as_nchw(sr, "sr"), _as_nchw(hr, "hr")
    if sr64.shape != hr64.shape:
        raise ValueError(f"sr and hr shapes differ: {tuple(sr.shape)} vs {tuple(hr.shape)}")
    if quantize:
        sr64 = _quantize(sr64)
    diff = _crop(sr64, scale) - _crop(hr64, scale)
    if diff.numel() == 0:
        raise DataError(f"image of {sr64.shape[-2]}x{sr64.shape[-1]} pixels is too small to score")
    return _reduce(_psnr_values((diff * diff).mean(dim=(1, 2, 3)), 1.0), reduction)
