"""PatchSampler: shapes, LR/HR alignment under augmentation, determinism and exact resume."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from optuna_srprune.data import default_validation_dir
from optuna_srprune.data import Pair
from optuna_srprune.data import PairedDataset
from optuna_srprune.data import PatchSampler
from optuna_srprune.exceptions import ConfigError
from optuna_srprune.exceptions import DataError


class _CoordinatePairs:
    """LR pixels hold unique values; HR is their nearest-neighbour enlargement, so alignment is exact."""

    def __init__(self, sizes: list[tuple[int, int]], scale: int = 3) -> None:
        self.scale = scale
        self.pairs = []
        for i, (h, w) in enumerate(sizes):
            values = torch.arange(3 * h * w, dtype=torch.float32).reshape(3, h, w) + 1000 * i
            hr = values.repeat_interleave(scale, dim=1).repeat_interleave(scale, dim=2)
            self.pairs.append(Pair(f"img{i}", values, hr, False))

    def __len__(self) -> int:
        return len(self.pairs)

    def __getitem__(self, index: int) -> Pair:
        return self.pairs[index]


def _enlarge(lr: torch.Tensor, scale: int) -> torch.Tensor:
    return lr.repeat_interleave(scale, dim=-2).repeat_interleave(scale, dim=-1)


def test_hr_patches_stay_aligned_with_lr_patches_under_augmentation() -> None:
    data = _CoordinatePairs([(10, 14), (9, 7), (20, 5)])
    sampler = PatchSampler(data, patch_size=5, batch_size=8, seed=1)
    symmetries = set()
    for _ in range(10):
        lr, hr = next(sampler)
        assert lr.shape == (8, 3, 5, 5) and hr.shape == (8, 3, 15, 15)
        assert torch.equal(hr, _enlarge(lr, 3))
        # Which of the 8 symmetries was applied shows in where the smallest value of the patch sits.
        for patch in lr:
            symmetries.add(tuple(int(v) for v in np.unravel_index(int(patch[0].argmin()), (5, 5))))
    assert len(symmetries) >= 4
    assert sampler.batches_drawn == 10


def test_images_too_small_for_the_patch_are_skipped() -> None:
    data = _CoordinatePairs([(4, 4), (6, 6)])
    lr, _ = next(PatchSampler(data, patch_size=5, batch_size=16, seed=0))
    assert bool((lr >= 1000).all())  # every patch from image 1
    with pytest.raises(DataError, match="at least 7"):
        PatchSampler(data, patch_size=7, batch_size=2)
    with pytest.raises(ConfigError):
        PatchSampler(data, patch_size=0, batch_size=2)


def test_real_pairs_float_range_and_seed_determinism() -> None:
    data = PairedDataset([default_validation_dir()], scale=2)
    batches = [next(PatchSampler(data, 16, 4, seed=3)) for _ in range(2)]
    lr, hr = batches[0]
    assert lr.dtype == torch.float32 and 0 <= float(lr.min()) and float(hr.max()) <= 1
    assert torch.equal(batches[0][0], batches[1][0]) and torch.equal(batches[0][1], batches[1][1])
    other, _ = next(PatchSampler(data, 16, 4, seed=4))
    assert not torch.equal(lr, other)


def test_state_dict_resumes_exactly() -> None:
    data = _CoordinatePairs([(12, 12), (8, 15)])
    reference = PatchSampler(data, 4, 3, seed=11)
    expected = [next(reference) for _ in range(6)]
    first = PatchSampler(data, 4, 3, seed=11)
    for _ in range(3):
        next(first)
    state = first.state_dict()
    resumed = PatchSampler(data, 4, 3, seed=0)  # a new process: seed does not matter, the state does
    resumed.load_state_dict(state)
    assert resumed.batches_drawn == 3 and resumed.seed == 11
    for lr, hr in expected[3:]:
        got_lr, got_hr = next(resumed)
        assert torch.equal(got_lr, lr) and torch.equal(got_hr, hr)
    with pytest.raises(DataError, match="not a PatchSampler state"):
        resumed.load_state_dict({"seed": 1})


def test_without_augmentation_patches_are_plain_crops() -> None:
    data = _CoordinatePairs([(6, 6)], scale=2)
    lr, _ = next(PatchSampler(data, 3, 32, seed=0, augment=False))
    # Plain crops keep increasing values along rows and columns.
    assert bool((lr[:, :, :, 1:] > lr[:, :, :, :-1]).all()) and bool((lr[:, :, 1:] > lr[:, :, :-1]).all())
