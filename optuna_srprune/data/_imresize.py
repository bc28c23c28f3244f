"""MATLAB-compatible bicubic ``imresize`` in torch.

MATLAB's ``imresize(I, scale, 'bicubic')`` is separable: along each dimension every output pixel is a
weighted sum of a few input pixels. The weights depend only on ``(in_size, out_size, scale)``, so they
are built once as a dense ``out x in`` matrix, cached, and applied as one matrix product per dimension.
That is both exact (the same weights MATLAB uses) and fast (BLAS instead of Python loops).

The definition followed here is MATLAB's ``imresize.m``:

- cubic kernel with ``a = -0.5`` (Keys), support 4;
- when shrinking (``scale < 1``) the kernel is stretched by ``1 / scale`` (antialiasing);
- input coordinate of output pixel ``x`` (1-based): ``u = x / scale + 0.5 * (1 - 1 / scale)``;
- pixels outside the image are mirrored (``symmetric`` padding: ``... 2 1 1 2 ... n n n-1 ...``);
- weights of each output pixel are normalised to sum to one;
- the dimension with the smaller scale is resized first.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import torch

from optuna_srprune._matlab import uint8_levels

__all__ = ["imresize", "to_uint8_range"]

_KERNEL_WIDTH = 4.0  # support of the cubic kernel, in input pixels, before antialiasing


def _cubic(x: np.ndarray) -> np.ndarray:
    """Keys' cubic convolution kernel with ``a = -0.5`` (MATLAB's ``cubic``)."""
    ax = np.abs(x)
    ax2 = ax * ax
    ax3 = ax2 * ax
    near = (1.5 * ax3 - 2.5 * ax2 + 1.0) * (ax <= 1)
    far = (-0.5 * ax3 + 2.5 * ax2 - 4.0 * ax + 2.0) * ((ax > 1) & (ax <= 2))
    return near + far


@functools.lru_cache(maxsize=128)
def _weight_matrix(in_size: int, out_size: int, scale: float, antialias: bool) -> np.ndarray:
    """The dense ``(out_size, in_size)`` float64 matrix resizing one dimension, as MATLAB builds it."""
    shrink = scale < 1 and antialias
    width = _KERNEL_WIDTH / scale if shrink else _KERNEL_WIDTH
    x = np.arange(1, out_size + 1, dtype=np.float64)
    u = x / scale + 0.5 * (1 - 1 / scale)
    left = np.floor(u - width / 2)
    taps = int(math.ceil(width)) + 2
    indices = left[:, None] + np.arange(taps, dtype=np.float64)[None, :]  # 1-based
    distance = u[:, None] - indices
    weights = scale * _cubic(scale * distance) if shrink else _cubic(distance)
    weights /= weights.sum(axis=1, keepdims=True)
    # Symmetric padding: index i (1-based, possibly out of range) reads pixel mirror[i - 1 mod 2n].
    mirror = np.concatenate([np.arange(in_size), np.arange(in_size - 1, -1, -1)])
    columns = mirror[np.mod(indices.astype(np.int64) - 1, 2 * in_size)]
    matrix = np.zeros((out_size, in_size), dtype=np.float64)
    rows = np.broadcast_to(np.arange(out_size)[:, None], columns.shape)
    np.add.at(matrix, (rows, columns), weights)  # add: mirrored taps can land on the same pixel
    matrix.flags.writeable = False
    return matrix


@functools.lru_cache(maxsize=128)
def _weight_tensor(
    in_size: int, out_size: int, scale: float, antialias: bool, dtype: torch.dtype, device: str
) -> torch.Tensor:
    matrix = _weight_matrix(in_size, out_size, scale, antialias)
    return torch.from_numpy(matrix.copy()).to(dtype=dtype, device=device)


def _output_size(in_size: int, scale: float) -> int:
    # MATLAB: ceil(scale * in). The tolerance stops 1/3 * 255 = 85.00000000000001 from becoming 86.
    return max(1, int(math.ceil(in_size * scale - 1e-9)))


def _plan(
    in_hw: tuple[int, int], scale: float | None, size: tuple[int, int] | None
) -> list[tuple[int, int, int, float]]:
    """Per dimension (tensor axis -2 or -1): (axis, in_size, out_size, scale), in MATLAB's order."""
    if (scale is None) == (size is None):
        raise ValueError("give exactly one of `scale` and `size`")
    if size is not None:
        out_hw = (int(size[0]), int(size[1]))
        if min(out_hw) < 1:
            raise ValueError(f"`size` must be positive, got {size}")
        scales = (out_hw[0] / in_hw[0], out_hw[1] / in_hw[1])
    else:
        assert scale is not None
        if not scale > 0 or not math.isfinite(scale):
            raise ValueError(f"`scale` must be positive and finite, got {scale}")
        scales = (float(scale), float(scale))
        out_hw = (_output_size(in_hw[0], scale), _output_size(in_hw[1], scale))
    steps = [(-2, in_hw[0], out_hw[0], scales[0]), (-1, in_hw[1], out_hw[1], scales[1])]
    # MATLAB resizes the dimension with the smallest scale first (stable: height first on ties).
    return sorted(steps, key=lambda step: step[3])


def imresize(
    x: torch.Tensor,
    scale: float | None = None,
    size: tuple[int, int] | None = None,
    *,
    antialias: bool = True,
    quantize: bool = False,
) -> torch.Tensor:
    """Resize images with MATLAB's bicubic ``imresize``.

    Args:
        x: Float tensor of shape ``CHW`` or ``NCHW`` (any value range; ``[0, 1]`` for images).
        scale: Scale factor for both dimensions (``0.5`` halves, ``4`` enlarges four times). The output
            size is ``ceil(scale * input size)``, as in MATLAB.
        size: Output ``(height, width)``; give this or ``scale``, not both.
        antialias: Stretch the kernel when shrinking, as MATLAB does by default.
        quantize: Round the result to 8 bits (see :func:`to_uint8_range`), as MATLAB's ``uint8``
            output is.

    Returns:
        The resized tensor, with ``x``'s dtype, device and leading dimensions.

    Example:
        >>> import torch
        >>> imresize(torch.rand(3, 64, 48), scale=0.5).shape
        torch.Size([3, 32, 24])
    """
    if x.dim() not in (3, 4):
        raise ValueError(f"expected a CHW or NCHW tensor, got shape {tuple(x.shape)}")
    if not x.is_floating_point():
        raise TypeError(f"expected a floating-point tensor, got {x.dtype}")
    out = x
    for axis, in_size, out_size, dim_scale in _plan((x.shape[-2], x.shape[-1]), scale, size):
        if in_size == out_size and dim_scale == 1:
            continue  # identity: MATLAB's weights are exactly one-hot here
        weights = _weight_tensor(in_size, out_size, dim_scale, antialias, x.dtype, str(x.device))
        if axis == -1:
            out = torch.matmul(out, weights.t())
        else:
            out = torch.matmul(weights, out)
    if quantize:
        out = to_uint8_range(out)
    return out.contiguous()


def to_uint8_range(x: torch.Tensor) -> torch.Tensor:
    """Round ``[0, 1]`` values to the nearest of the 256 levels of an 8-bit image, clamping first.

    This is what MATLAB does when it writes a ``uint8`` result: ``round(clamp(x, 0, 1) * 255) / 255``,
    with MATLAB's rounding of halves upwards (``floor(v + 0.5)``), not torch's round-half-to-even.

    Example:
        >>> import torch
        >>> to_uint8_range(torch.tensor([-0.1, 0.5, 1.2]))
        tensor([0.0000, 0.5020, 1.0000])
    """
    return uint8_levels(x) / 255.0
