"""Image quality as SR papers report it: PSNR and SSIM on the Y channel, borders cropped.

numpy functions (:func:`psnr`, :func:`ssim`, :func:`rgb_psnr`) take ``H x W x 3`` arrays in ``[0, 1]``;
torch functions (:func:`psnr_torch`, :func:`ssim_torch`, :func:`rgb_psnr_torch`) take ``CHW`` or
``NCHW`` tensors and agree with them to 1e-6 dB. Importing this package does not import torch.

Example:
    >>> import numpy as np
    >>> from optuna_srprune.metrics import psnr
    >>> hr = np.full((32, 32, 3), 128 / 255)  # 8-bit data, as read from a PNG
    >>> psnr(hr, hr, scale=2)
    inf
    >>> round(psnr(hr + 1 / 255, hr, scale=2), 2)  # one 8-bit level on R, G and B
    49.45
"""

from __future__ import annotations

from optuna_srprune.metrics._quality import gaussian_window
from optuna_srprune.metrics._quality import luma
from optuna_srprune.metrics._quality import psnr
from optuna_srprune.metrics._quality import rgb_psnr
from optuna_srprune.metrics._quality import ssim
from optuna_srprune.metrics._quality import ssim_map
from optuna_srprune.metrics._torch_quality import psnr_torch
from optuna_srprune.metrics._torch_quality import rgb_psnr_torch
from optuna_srprune.metrics._torch_quality import ssim_torch

__all__ = [
    "gaussian_window",
    "luma",
    "psnr",
    "psnr_torch",
    "rgb_psnr",
    "rgb_psnr_torch",
    "ssim",
    "ssim_map",
    "ssim_torch",
]
