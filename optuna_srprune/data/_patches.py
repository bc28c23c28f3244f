"""Random training patches with flips and transposes, reproducible and resumable."""

from __future__ import annotations

from typing import Any
from typing import Protocol

import numpy as np
import torch

from optuna_srprune.data._datasets import Pair
from optuna_srprune.exceptions import ConfigError
from optuna_srprune.exceptions import DataError

__all__ = ["PatchSampler"]


class _PairSource(Protocol):
    scale: int

    def __len__(self) -> int: ...

    def __getitem__(self, index: int) -> Pair: ...


class PatchSampler:
    """An endless iterator of random ``(lr_batch, hr_batch)`` training patches.

    Each patch comes from an image drawn uniformly at random, at a random position, then flipped
    left-right, flipped up-down and transposed, each with probability 1/2 (the eight symmetries of
    the square). All randomness comes from one numpy generator seeded with ``seed``, so the sequence
    of batches is fixed by the seed, and :meth:`state_dict` / :meth:`load_state_dict` resume it
    exactly after an interruption.

    Images whose LR side is shorter than ``patch_size`` are skipped.

    Args:
        dataset: A :class:`PairedDataset` (or any indexable set of :class:`Pair` with a ``scale``).
        patch_size: Side of the LR patches in pixels; HR patches are ``scale`` times larger.
        batch_size: Patches per batch.
        seed: Seed of the random generator.
        augment: Apply the random flips and transposes.

    Raises:
        ConfigError: ``patch_size`` or ``batch_size`` is not positive.
        DataError: No image is at least ``patch_size`` LR pixels on each side.

    Example:
        >>> from optuna_srprune.data import PairedDataset, PatchSampler, default_validation_dir
        >>> sampler = PatchSampler(PairedDataset([default_validation_dir()], 2), 24, 4, seed=0)
        >>> lr, hr = next(sampler)
        >>> tuple(lr.shape), tuple(hr.shape)
        ((4, 3, 24, 24), (4, 3, 48, 48))
    """

    def __init__(
        self, dataset: _PairSource, patch_size: int, batch_size: int, seed: int = 0, augment: bool = True
    ) -> None:
        if patch_size < 1 or batch_size < 1:
            raise ConfigError(f"patch_size and batch_size must be positive, got {patch_size}, {batch_size}")
        self.dataset = dataset
        self.scale = int(dataset.scale)
        self.patch_size = int(patch_size)
        self.batch_size = int(batch_size)
        self.seed = int(seed)
        self.augment = augment
        self._images = [self._uint8_pair(i) for i in range(len(dataset))]
        self._eligible = [i for i, (lr, _) in enumerate(self._images) if min(lr.shape[1:]) >= self.patch_size]
        if not self._eligible:
            raise DataError(f"no training image is at least {patch_size} LR pixels on each side")
        self._rng = np.random.Generator(np.random.PCG64(self.seed))
        self.batches_drawn = 0

    def _uint8_pair(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        # PairedDataset keeps 8-bit tensors: crop those and convert only the patch to float.
        uint8_pair = getattr(self.dataset, "uint8_pair", None)
        if uint8_pair is not None:
            return uint8_pair(index)
        pair = self.dataset[index]
        return pair.lr, pair.hr

    def __iter__(self) -> PatchSampler:
        return self

    def __next__(self) -> tuple[torch.Tensor, torch.Tensor]:
        lr_patches, hr_patches = zip(*(self._patch() for _ in range(self.batch_size)))
        self.batches_drawn += 1
        return self._stack(lr_patches), self._stack(hr_patches)

    @staticmethod
    def _stack(patches: tuple[torch.Tensor, ...]) -> torch.Tensor:
        batch = torch.stack(patches)
        return batch.float() / 255.0 if batch.dtype == torch.uint8 else batch.float()

    def _patch(self) -> tuple[torch.Tensor, torch.Tensor]:
        rng = self._rng
        lr, hr = self._images[self._eligible[int(rng.integers(len(self._eligible)))]]
        size, scale = self.patch_size, self.scale
        top = int(rng.integers(lr.shape[1] - size + 1))
        left = int(rng.integers(lr.shape[2] - size + 1))
        lr_patch = lr[:, top : top + size, left : left + size]
        hr_patch = hr[:, top * scale : (top + size) * scale, left * scale : (left + size) * scale]
        if self.augment:
            hflip, vflip, transpose = (bool(v) for v in rng.integers(2, size=3))
            lr_patch = self._augment(lr_patch, hflip, vflip, transpose)
            hr_patch = self._augment(hr_patch, hflip, vflip, transpose)
        return lr_patch, hr_patch

    @staticmethod
    def _augment(patch: torch.Tensor, hflip: bool, vflip: bool, transpose: bool) -> torch.Tensor:
        if hflip:
            patch = patch.flip(-1)
        if vflip:
            patch = patch.flip(-2)
        if transpose:
            patch = patch.transpose(-1, -2)
        return patch

    def state_dict(self) -> dict[str, Any]:
        """The sampler's position: pass it to :meth:`load_state_dict` to resume the same sequence."""
        return {
            "seed": self.seed,
            "batches_drawn": self.batches_drawn,
            "rng": self._rng.bit_generator.state,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Resume from a :meth:`state_dict`: the next batch is the one that would have come next."""
        try:
            self._rng.bit_generator.state = state["rng"]
            self.batches_drawn = int(state["batches_drawn"])
            self.seed = int(state["seed"])
        except (KeyError, TypeError, ValueError) as err:
            raise DataError(f"not a PatchSampler state: {err}") from None
