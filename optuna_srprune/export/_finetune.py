"""Fine-tuning an extracted network alone, distilled from the supernet's largest subnet."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Sequence
import dataclasses
import math
import os
import time
from typing import Any

import torch

from optuna_srprune.data import PairedDataset
from optuna_srprune.data import PatchSampler
from optuna_srprune.exceptions import ConfigError
from optuna_srprune.supernet import distillation_loss
from optuna_srprune.supernet import progress_bar
from optuna_srprune.supernet import SRNet
from optuna_srprune.supernet import warmup_cosine

Teacher = Callable[[torch.Tensor], torch.Tensor]


@dataclasses.dataclass(frozen=True)
class FinetuneSettings:
    """Hyper-parameters of fine-tuning one extracted network.

    Each step draws a batch of LR/HR patches (the supernet's :class:`~optuna_srprune.data.PatchSampler`)
    and minimises ``(1 - distill_weight) * L1(sr, hr) + distill_weight * L1(sr, teacher)``, the
    teacher being the supernet's largest subnet, with Adam and a cosine decay from ``lr`` to
    ``min_lr_ratio * lr`` (after ``warmup_steps`` of linear warm-up): the supernet's own loss and
    schedule, for one network.

    Example:

        .. code::

            from optuna_srprune.export import FinetuneSettings

            settings = FinetuneSettings(steps=500, lr=1e-4)
            assert FinetuneSettings(**settings.to_dict()) == settings

    Args:
        steps: Optimizer steps; 0 keeps the inherited weights.
        batch_size: LR patches per step.
        patch_size: Side of the LR patches in pixels.
        lr: Peak learning rate.
        min_lr_ratio: Final learning rate as a fraction of ``lr``.
        warmup_steps: Steps of linear warm-up.
        distill_weight: Weight of the L1 to the teacher's output (the rest on the HR patch).
        seed: Seed of the patches.
        channels_last: Run convolutions in channels-last memory format (faster on CPU).
    """

    steps: int = 1000
    batch_size: int = 16
    patch_size: int = 32
    lr: float = 1e-4
    min_lr_ratio: float = 0.01
    warmup_steps: int = 0
    distill_weight: float = 0.5
    seed: int = 0
    channels_last: bool = True

    def __post_init__(self) -> None:
        if self.steps < 0 or self.warmup_steps < 0:
            raise ConfigError(
                f"Fine-tuning steps must be >= 0, got steps={self.steps}, warmup_steps={self.warmup_steps}."
            )
        if self.batch_size < 1 or self.patch_size < 1:
            raise ConfigError(
                f"batch_size and patch_size must be >= 1, got {self.batch_size} and {self.patch_size}."
            )
        if not 0 < self.lr < math.inf or not 0 <= self.min_lr_ratio <= 1 or not 0 <= self.distill_weight <= 1:
            raise ConfigError("Need lr > 0, 0 <= min_lr_ratio <= 1 and 0 <= distill_weight <= 1.")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def finetune(
    net: SRNet,
    teacher: Teacher,
    folders: Sequence[str | os.PathLike[str]],
    settings: FinetuneSettings,
    progress: bool = True,
) -> dict[str, Any]:
    """Train ``net`` in place on patches of the HR images in ``folders``, distilled from ``teacher``.

    Example:

        .. code::

            from optuna_srprune.data import default_validation_dir
            from optuna_srprune.export import FinetuneSettings, finetune
            from optuna_srprune.search_space import SRSearchSpace
            from optuna_srprune.supernet import SRSupernet

            space = SRSearchSpace(scale=2, max_depth=2, widths=(8, 16), channel_multiple=4)
            supernet = SRSupernet(space).eval()
            net = supernet.extract(supernet.space.smallest())
            teacher = lambda x: supernet(x, supernet.space.largest())
            report = finetune(net, teacher, [default_validation_dir()], FinetuneSettings(steps=2))
            assert report["steps"] == 2

    Args:
        net: The network to train (left in eval mode afterwards), on the device to train on.
        teacher: The network distilled from: LR batch in, SR batch out (run without gradients).
        folders: Folders of HR training images.
        settings: Hyper-parameters.
        progress: Show a progress bar on stderr.

    Returns:
        ``steps``, ``elapsed_s``, ``loss`` (the smoothed training loss at the end, ``None`` without
        steps) and ``l1_hr`` (its L1-to-HR part).
    """
    report: dict[str, Any] = {"steps": 0, "elapsed_s": 0.0, "loss": None, "l1_hr": None}
    if settings.steps == 0:
        return report
    sampler = PatchSampler(
        PairedDataset(list(folders), net.config.scale),
        settings.patch_size,
        settings.batch_size,
        settings.seed,
    )
    optimizer = torch.optim.Adam(net.parameters(), lr=settings.lr)
    device = next(net.parameters()).device  # batches go where the network is
    smooth: dict[str, float] = {}
    start = time.perf_counter()
    net.train()
    with progress_bar(settings.steps, f"fine-tune {net.config.summary()}", progress) as bar:
        for step in range(settings.steps):
            lr_batch, hr_batch = next(sampler)
            lr_batch, hr_batch = lr_batch.to(device), hr_batch.to(device)
            if settings.channels_last:
                lr_batch = lr_batch.contiguous(memory_format=torch.channels_last)
            for group in optimizer.param_groups:
                group["lr"] = warmup_cosine(
                    step, settings.steps, settings.lr, settings.warmup_steps, settings.min_lr_ratio
                )
            with torch.no_grad():
                target = teacher(lr_batch)
            loss, l1_hr = distillation_loss(net(lr_batch), hr_batch, target, settings.distill_weight)
            loss.backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            values = {"loss": loss.item(), "l1_hr": l1_hr.item()}
            if not math.isfinite(values["loss"]):
                raise ConfigError(
                    f"Fine-tuning diverged at step {step + 1} (loss {values['loss']}) with lr "
                    f"{settings.lr:g}; nothing was written. Use a smaller --lr (default 1e-4)."
                )
            smooth = {k: 0.95 * smooth.get(k, v) + 0.05 * v for k, v in values.items()}
            bar.update(1)
            bar.set_postfix({"L1": f"{smooth['l1_hr']:.4f}"}, refresh=False)
    net.eval()
    report.update(steps=settings.steps, elapsed_s=round(time.perf_counter() - start, 1), **smooth)
    return report
