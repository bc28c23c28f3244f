"""PSNR and SSIM on torch tensors (``CHW`` or ``NCHW``), same protocol as the numpy versions.

The tensors are copied to CPU float64 and scored by the numpy implementation, image by image. That
makes the two agree exactly (the contract is 1e-6 dB), and it is faster: the metrics are a few
element-wise passes and a separable filter, where numpy on CPU beats float64 torch kernels (about 10x
for the SSIM filter), and quantised, border-cropped PSNR is not differentiable anyway. torch is
imported lazily, so importing :mod:`optuna_srprune.metrics` never imports it.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Sequence
import math
from typing import Literal
from typing import overload
from typing import TYPE_CHECKING

import numpy as np

from optuna_srprune.metrics._quality import psnr
from optuna_srprune.metrics._quality import rgb_psnr
from optuna_srprune.metrics._quality import ssim

if TYPE_CHECKING:
    import torch

__all__ = ["psnr_torch", "rgb_psnr_torch", "ssim_torch"]

Reduction = Literal["mean", "none"]


def _as_hwc_batch(x: torch.Tensor, what: str) -> np.ndarray:
    """``N x H x W x C`` float64 numpy copy of a ``CHW`` / ``NCHW`` tensor with 1 or 3 channels."""
    import torch

    if x.dim() == 3:
        x = x.unsqueeze(0)
    if x.dim() != 4 or x.shape[1] not in (1, 3):
        raise ValueError(f"{what} must be a CHW or NCHW tensor with 1 or 3 channels, got {tuple(x.shape)}")
    return x.detach().to(device="cpu", dtype=torch.float64).permute(0, 2, 3, 1).numpy()


def _pairs(sr: torch.Tensor, hr: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    sr_batch, hr_batch = _as_hwc_batch(sr, "sr"), _as_hwc_batch(hr, "hr")
    if sr_batch.shape != hr_batch.shape:
        raise ValueError(f"sr and hr shapes differ: {tuple(sr.shape)} vs {tuple(hr.shape)}")
    return sr_batch, hr_batch


def _gray_flags(is_gray: bool | Sequence[bool], n: int) -> list[bool]:
    flags = [bool(is_gray)] * n if isinstance(is_gray, bool) else [bool(v) for v in is_gray]
    if len(flags) != n:
        raise ValueError(f"is_gray has {len(flags)} entries for {n} images")
    return flags


def _reduce(values: list[float], reduction: Reduction) -> float | list[float]:
    if reduction == "none":
        return values
    if reduction != "mean":
        raise ValueError(f"reduction must be 'mean' or 'none', got {reduction!r}")
    # Mean of per-image scores, as papers report; fsum keeps inf (identical images) as inf.
    return math.fsum(values) / len(values)


def _per_image(
    metric: Callable[[np.ndarray, np.ndarray, int, bool, bool], float],
    sr: torch.Tensor,
    hr: torch.Tensor,
    scale: int,
    is_gray: bool | Sequence[bool],
    quantize: bool,
) -> list[float]:
    sr_batch, hr_batch = _pairs(sr, hr)
    flags = _gray_flags(is_gray, len(sr_batch))
    return [metric(s, h, scale, g, quantize) for s, h, g in zip(sr_batch, hr_batch, flags)]


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

    Same protocol and same figures as :func:`~optuna_srprune.metrics.psnr`: SR rounded to 8 bits
    (``quantize``), Y of BT.601 studio range, ``scale`` border pixels cropped, peak 255.

    Args:
        sr: Super-resolved images, ``C x H x W`` or ``N x C x H x W``, 1 or 3 channels, any device.
        hr: Ground truth, same shape.
        scale: SR scale factor; that many pixels are cropped at each border.
        is_gray: Score gray values instead of Y: one flag for all images or one per image.
        quantize: Round ``sr`` to 8 bits first.
        reduction: ``"mean"``: the mean of the per-image PSNRs (what papers report); ``"none"``: the
            list of per-image PSNRs.

    Returns:
        PSNR in dB (``inf`` for identical images), or a list of them.
    """
    return _reduce(_per_image(psnr, sr, hr, scale, is_gray, quantize), reduction)


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

    Same protocol and same figures as :func:`~optuna_srprune.metrics.ssim` (MATLAB ``ssim_index``:
    11x11 Gaussian, sigma 1.5, on the ``[0, 255]`` range, valid region).

    Args:
        sr: Super-resolved images, ``C x H x W`` or ``N x C x H x W``, 1 or 3 channels, any device.
        hr: Ground truth, same shape.
        scale: SR scale factor; that many pixels are cropped at each border.
        is_gray: Score gray values instead of Y: one flag for all images or one per image.
        quantize: Round ``sr`` to 8 bits first.
        reduction: ``"mean"`` over images, or ``"none"`` for the per-image list.

    Returns:
        SSIM, or a list of them.
    """
    return _reduce(_per_image(ssim, sr, hr, scale, is_gray, quantize), reduction)


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
        sr: Super-resolved images, ``C x H x W`` or ``N x C x H x W``, any device.
        hr: Ground truth, same shape.
        scale: Pixels cropped at each border (0: none).
        quantize: Round ``sr`` to 8 bits first.
        reduction: ``"mean"`` over images, or ``"none"`` for the per-image list.

    Returns:
        PSNR in dB (``inf`` for identical images), or a list of them.
    """
    sr_batch, hr_batch = _pairs(sr, hr)
    values = [rgb_psnr(s, h, scale, quantize) for s, h in zip(sr_batch, hr_batch)]
    return _reduce(values, reduction)
