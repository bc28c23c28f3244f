"""imresize against an independent, slow reference written from MATLAB's definition."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from optuna_srprune.data import imresize
from optuna_srprune.data import to_uint8_range
from optuna_srprune.data._imresize import _weight_matrix
from optuna_srprune.data._imresize import _weight_tensor


def _cubic(x: float) -> float:
    # MATLAB imresize.m, cubic(): Keys' kernel with a = -0.5.
    ax = abs(x)
    if ax <= 1:
        return 1.5 * ax**3 - 2.5 * ax**2 + 1
    if ax <= 2:
        return -0.5 * ax**3 + 2.5 * ax**2 - 4 * ax + 2
    return 0.0


def _mirror(j: int, n: int) -> int:
    # MATLAB pads symmetrically (aux = [1:n, n:-1:1]): 0 -> 1, -1 -> 2, n+1 -> n (1-based).
    while j < 1 or j > n:
        j = 1 - j if j < 1 else 2 * n + 1 - j
    return j


def _reference_resize_axis(a: np.ndarray, axis: int, out_len: int, scale: float) -> np.ndarray:
    """One output pixel at a time, straight from imresize.m's contributions()."""
    n = a.shape[axis]
    width = 4.0 / scale if scale < 1 else 4.0
    moved = np.moveaxis(a, axis, 0)
    out = np.zeros((out_len, *moved.shape[1:]))
    for i in range(1, out_len + 1):
        u = i / scale + 0.5 * (1 - 1 / scale)
        left = math.floor(u - width / 2)
        total = 0.0
        for j in range(left, left + math.ceil(width) + 2):
            w = scale * _cubic(scale * (u - j)) if scale < 1 else _cubic(u - j)
            out[i - 1] += w * moved[_mirror(j, n) - 1]
            total += w
        out[i - 1] /= total
    return np.moveaxis(out, 0, axis)


def reference_imresize(x: np.ndarray, out_hw: tuple[int, int], scales: tuple[float, float]) -> np.ndarray:
    """Resize the last two axes of ``x`` (MATLAB: the dimension with the smaller scale first)."""
    steps = sorted(
        [(x.ndim - 2, out_hw[0], scales[0]), (x.ndim - 1, out_hw[1], scales[1])], key=lambda s: s[2]
    )
    out = x.astype(np.float64)
    for axis, out_len, scale in steps:
        out = _reference_resize_axis(out, axis, out_len, scale)
    return out


@pytest.mark.parametrize("scale", [0.5, 1 / 3, 0.25, 2.0, 3.0, 4.0, 0.7, 1.6])
def test_matches_reference_by_scale(scale: float) -> None:
    rng = np.random.default_rng(int(scale * 1000))
    for _ in range(3):
        h, w = (int(v) for v in rng.integers(3, 30, size=2))
        x = rng.random((3, h, w))
        out = imresize(torch.from_numpy(x), scale=scale)
        expected_hw = (math.ceil(h * scale - 1e-9), math.ceil(w * scale - 1e-9))
        assert tuple(out.shape[-2:]) == expected_hw
        ref = reference_imresize(x, expected_hw, (scale, scale))
        # The contract is 1/255; the weights are the same, so float64 agrees far more closely.
        assert np.abs(out.numpy() - ref).max() < 1e-9


def test_matches_reference_random_sizes_float32() -> None:
    rng = np.random.default_rng(7)
    for _ in range(8):
        h, w = (int(v) for v in rng.integers(2, 40, size=2))
        oh, ow = (int(v) for v in rng.integers(1, 60, size=2))
        x = rng.random((2, 3, h, w)).astype(np.float32)
        out = imresize(torch.from_numpy(x), size=(oh, ow))
        ref = reference_imresize(x, (oh, ow), (oh / h, ow / w))
        assert out.shape == (2, 3, oh, ow)
        assert out.dtype == torch.float32
        assert np.abs(out.numpy() - ref).max() < 1 / 255


def test_quantized_lr_within_one_level_of_reference() -> None:
    x = np.random.default_rng(3).random((3, 24, 36))
    out = imresize(torch.from_numpy(x), scale=1 / 3, quantize=True).numpy()
    ref = np.clip(reference_imresize(x, (8, 12), (1 / 3, 1 / 3)), 0, 1)
    assert np.abs(out - ref).max() <= 0.5 / 255 + 1e-12
    assert np.allclose(out * 255, np.round(out * 255))


def test_batched_equals_one_by_one() -> None:
    x = torch.rand(4, 3, 20, 17)
    batched = imresize(x, scale=0.5)
    for i in range(4):
        assert torch.allclose(batched[i], imresize(x[i], scale=0.5), atol=1e-6)


def test_constant_image_is_preserved_and_identity_scale() -> None:
    x = torch.full((1, 3, 9, 13), 0.25, dtype=torch.float64)
    for scale in (0.25, 0.5, 2.0, 3.0):
        assert torch.allclose(imresize(x, scale=scale), torch.tensor(0.25, dtype=torch.float64))
    y = torch.rand(3, 7, 5)
    assert torch.equal(imresize(y, scale=1.0), y)


def test_shrink_then_enlarge_round_trip_size() -> None:
    hr = torch.rand(3, 48, 36)
    lr = imresize(hr, scale=1 / 3)
    assert lr.shape == (3, 16, 12)
    assert imresize(lr, scale=3).shape == hr.shape


def test_weights_are_cached() -> None:
    _weight_matrix.cache_clear()
    _weight_tensor.cache_clear()
    x = torch.rand(3, 30, 40)
    imresize(x, scale=0.5)
    assert _weight_matrix.cache_info().misses == 2  # one matrix per dimension
    imresize(x, scale=0.5)
    imresize(x.double(), scale=0.5)  # another dtype: converted from the cached float64 matrices
    assert _weight_matrix.cache_info().misses == 2
    assert _weight_tensor.cache_info().hits == 2


def test_antialias_off_uses_narrow_kernel() -> None:
    rng = np.random.default_rng(0)
    x = rng.random((1, 16, 16))
    narrow = imresize(torch.from_numpy(x), scale=0.5, antialias=False).numpy()
    wide = imresize(torch.from_numpy(x), scale=0.5).numpy()
    assert not np.allclose(narrow, wide)


def test_to_uint8_range_rounds_halves_up_and_clamps() -> None:
    x = torch.tensor([-0.2, 0.0, 0.5 / 255, 1.5 / 255, 0.5, 1.0, 1.7], dtype=torch.float64)
    out = (to_uint8_range(x) * 255).tolist()
    assert out == pytest.approx([0, 0, 1, 2, 128, 255, 255])


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"scale": 0.5, "size": (4, 4)}, {"scale": 0.0}, {"scale": -2.0}, {"size": (0, 3)}],
)
def test_bad_arguments(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        imresize(torch.rand(3, 8, 8), **kwargs)  # type: ignore[arg-type]


def test_bad_tensors() -> None:
    with pytest.raises(ValueError, match="CHW or NCHW"):
        imresize(torch.rand(8, 8), scale=0.5)
    with pytest.raises(TypeError, match="floating-point"):
        imresize(torch.zeros(3, 8, 8, dtype=torch.uint8), scale=0.5)
