"""Supernet training: sandwich rule with in-place distillation, exact resume, periodic Set5 PSNR."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Sequence
import contextlib
import copy
import dataclasses
import itertools
import math
import os
from pathlib import Path
import signal
import sys
import time
from typing import Any
import warnings

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from optuna_srprune.config import SubnetConfig
from optuna_srprune.data import PairedDataset
from optuna_srprune.data import PatchSampler
from optuna_srprune.data import ValidationSet
from optuna_srprune.exceptions import CheckpointError
from optuna_srprune.exceptions import ConfigError
from optuna_srprune.metrics import psnr_torch
from optuna_srprune.search_space import SRSearchSpace
from optuna_srprune.supernet._checkpoint import check_compatible
from optuna_srprune.supernet._checkpoint import read_checkpoint
from optuna_srprune.supernet._checkpoint import write_checkpoint
from optuna_srprune.supernet._supernet import SRSupernet

PathLike = str | os.PathLike[str]


def cpu_has_native_bf16() -> bool:
    """Whether this CPU computes bfloat16 convolutions natively (AVX-512 BF16 or AMX tiles).

    torch names these checks privately; if they move, assume native support rather than warn wrongly.
    """
    checks = [
        getattr(torch.cpu, name, None) for name in ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    ]
    callables = [check for check in checks if callable(check)]
    if len(callables) < len(checks):
        return True
    return any(check() for check in callables)


@dataclasses.dataclass(frozen=True)
class TrainSettings:
    """Hyper-parameters of supernet training.

    Every training step draws one batch of LR patches and runs the *sandwich*: the largest subnet
    (L1 to HR), the smallest and ``num_random`` random subnets (L1 to HR and L1 to the largest's
    detached output, weighted by ``distill_weight``: in-place distillation). Since the largest subnet
    is made of one block kind, every ``kind_every``-th step one random member is replaced by the widest
    subnet of the other block kinds in turn (e.g. all ``ecb`` blocks, unpruned). With a ``band`` and a
    cost function (the trainer's ``cost``: predicted latency, or MACs), a share ``band_share`` of the
    random subnets is drawn inside the band, where searches look. Adam with a linear warm-up then a
    cosine decay to ``min_lr_ratio * lr``; an exponential moving average of the weights (``ema_decay``)
    is what validation scores and what ships.

    Example:

        .. code::

            from optuna_srprune.supernet import TrainSettings

            settings = TrainSettings(steps=1000, batch_size=8, patch_size=32)
            assert TrainSettings.from_dict(settings.to_dict()) == settings

    Args:
        steps: Total optimizer steps (the cosine schedule ends there).
        batch_size: LR patches per step.
        patch_size: Side of the LR patches in pixels.
        lr: Peak learning rate.
        min_lr_ratio: Final learning rate as a fraction of ``lr``.
        warmup_steps: Steps of linear warm-up.
        num_random: Random subnets per step besides the largest and the smallest.
        kind_every: Every that many steps, a random member is the widest subnet of another block kind.
        distill_weight: Weight of the distillation term of non-largest members (the rest on HR).
        seed: Seed of the weights, the patches and the subnet draws.
        checkpoint_every: Save a checkpoint every that many steps.
        validate_every: Set5 PSNR of the largest and smallest subnets every that many steps (0: never).
        channels_last: Run convolutions in channels-last memory format (faster on CPU).
        band: ``(low, high)`` cost range (in the unit of the trainer's ``cost``) that random subnets
            are drawn from, or ``None`` for uniform draws.
        band_cost: What the band is measured in, for the record and for resuming (e.g.
            ``"ms:onnxruntime:threads=2@720x1280"`` or ``"gmacs@720x1280"``).
        band_share: Share of the random subnets drawn inside ``band`` (the rest uniformly).
        ema_decay: Decay of the weights' moving average (0: none; the raw weights are validated).
        bf16: Run the forward and backward passes in bfloat16 autocast (weights, optimizer and
            moving average stay float32): about 1.3-2x faster on CPUs with AVX-512 BF16, several
            times slower on CPUs without it (a warning says so).
        grad_clip: Largest norm of the summed gradients of a step (0: no clipping).
    """

    steps: int
    batch_size: int = 16
    patch_size: int = 48
    lr: float = 1e-3
    min_lr_ratio: float = 0.01
    warmup_steps: int = 200
    num_random: int = 1
    kind_every: int = 4
    distill_weight: float = 0.5
    seed: int = 0
    checkpoint_every: int = 500
    validate_every: int = 500
    channels_last: bool = True
    band: tuple[float, float] | None = None
    band_cost: str = ""
    band_share: float = 0.75
    ema_decay: float = 0.999
    bf16: bool = False
    grad_clip: float = 1.0

    def __post_init__(self) -> None:
        for name in ("steps", "batch_size", "patch_size", "checkpoint_every", "kind_every"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be >= 1, got {getattr(self, name)}.")
        for name in ("warmup_steps", "num_random", "validate_every"):
            if getattr(self, name) < 0:
                raise ConfigError(f"{name} must be >= 0, got {getattr(self, name)}.")
        if self.lr <= 0 or not 0 <= self.min_lr_ratio <= 1 or not 0 <= self.distill_weight <= 1:
            raise ConfigError("Need lr > 0, 0 <= min_lr_ratio <= 1 and 0 <= distill_weight <= 1.")
        if not 0 <= self.band_share <= 1 or not 0 <= self.ema_decay < 1 or not self.grad_clip >= 0:
            raise ConfigError("Need 0 <= band_share <= 1, 0 <= ema_decay < 1 and grad_clip >= 0.")
        if self.band is not None:
            low, high = self.band
            if not 0 <= low < high:
                raise ConfigError(f"band must be (low, high) with 0 <= low < high, got {self.band}.")
            object.__setattr__(self, "band", (float(low), float(high)))

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainSettings:
        known = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        if values.get("band") is not None:
            values["band"] = tuple(values["band"])
        return cls(**values)

    def learning_rate(self, step: int) -> float:
        """Learning rate of step ``step`` (0-based): linear warm-up, then cosine decay."""
        return warmup_cosine(step, self.steps, self.lr, self.warmup_steps, self.min_lr_ratio)


def warmup_cosine(step: int, steps: int, lr: float, warmup_steps: int, min_lr_ratio: float) -> float:
    """Learning rate of step ``step`` (0-based) of ``steps``: linear warm-up, then cosine decay.

    The rate climbs linearly to ``lr`` over ``warmup_steps``, then falls along a half cosine to
    ``min_lr_ratio * lr`` at step ``steps``.

    Example:
        >>> warmup_cosine(0, 100, 1e-3, 0, 0.0), warmup_cosine(100, 100, 1e-3, 0, 0.0)
        (0.001, 0.0)
    """
    if step < warmup_steps:
        return lr * (step + 1) / warmup_steps
    span = max(1, steps - warmup_steps)
    progress = min(1.0, (step - warmup_steps) / span)
    floor = min_lr_ratio
    return lr * (floor + (1.0 - floor) * 0.5 * (1.0 + math.cos(math.pi * progress)))


def distillation_loss(
    sr: torch.Tensor, hr: torch.Tensor, teacher: torch.Tensor, weight: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(1 - weight) * L1(sr, hr) + weight * L1(sr, teacher)``, and the L1 to ``hr`` alone.

    ``teacher`` is the (detached) output of a larger network on the same input: knowledge
    distillation, as the supernet's students learn from its largest subnet.
    """
    l1_hr = F.l1_loss(sr, hr)
    return (1.0 - weight) * l1_hr + weight * F.l1_loss(sr, teacher), l1_hr


def progress_bar(total: int, desc: str, progress: bool = True, initial: int = 0) -> tqdm:
    """A step counter on stderr: live on a terminal, a line every 30 s in logs."""
    return tqdm(
        total=total,
        initial=initial,
        disable=not progress,
        dynamic_ncols=True,
        mininterval=1.0 if sys.stderr.isatty() else 30.0,
        desc=desc,
    )


# Settings that may change on resume without breaking the continuation of the same run.
_RESUMABLE = ("steps", "checkpoint_every", "validate_every")


class SupernetTrainer:
    """Trains an :class:`SRSupernet` on LR/HR patches; checkpoints resume bit-for-bit.

    Example:

        .. code::

            from optuna_srprune.data import default_validation_dir
            from optuna_srprune.search_space import SRSearchSpace
            from optuna_srprune.supernet import SupernetTrainer, TrainSettings

            space = SRSearchSpace(scale=2, max_depth=2, widths=(8, 16), channel_multiple=4)
            trainer = SupernetTrainer(
                space, [default_validation_dir()], "/tmp/supernet.pt", TrainSettings(steps=2, batch_size=2)
            )
            result = trainer.train(progress=False)
            assert result["step"] == 2

    Args:
        space: The search space (and scale) of the supernet.
        folders: Folders of HR training images (e.g. T91 and BSD200).
        out: Checkpoint path, written every ``settings.checkpoint_every`` steps, on interruption and at
            the end.
        settings: Hyper-parameters.
        resume: Continue from ``out`` if it exists. ``settings`` should be the checkpoint's (the
            command line fills in what is not given): a warning names any difference other than
            ``steps``, ``checkpoint_every`` and ``validate_every``, since the run is then no longer an
            exact continuation. A larger ``steps`` stretches the cosine schedule from the current step.
        validation: Images for the periodic PSNR (default: the embedded Set5).
        init_from: A supernet checkpoint of the same space at any scale whose weights start a new run
            (every layer but the scale-specific tail; e.g. x4 from x2). Ignored when resuming.
        cost: A subnet's cost in the unit of ``settings.band`` (e.g. a latency predictor's
            ``predict``); needed when ``settings.band`` is set.
        device: Where to train (``"cpu"``, ``"cuda"``...; see :func:`resolve_device`). Checkpoints
            load on any device.
    """

    def __init__(
        self,
        space: SRSearchSpace,
        folders: Sequence[PathLike],
        out: PathLike,
        settings: TrainSettings,
        resume: bool = False,
        validation: ValidationSet | None = None,
        init_from: PathLike | None = None,
        cost: Callable[[SubnetConfig], float] | None = None,
        device: str | torch.device = "cpu",
    ) -> None:
        self.space, self.out, self.folders = space, Path(out), [str(f) for f in folders]
        ckpt = self._read_resume(resume)
        if ckpt is not None:
            settings = self._merge_settings(TrainSettings.from_dict(ckpt["train"]), settings)
        self.settings = settings
        if settings.band is not None and cost is None:
            raise ConfigError("Training in a cost band needs a cost function (e.g. a latency predictor).")
        self.cost = cost
        torch.manual_seed(settings.seed)
        self.device = torch.device(device)
        if settings.bf16 and self.device.type == "cpu" and not cpu_has_native_bf16():
            warnings.warn(
                "bfloat16 is emulated on this CPU (no AVX-512 BF16 or AMX): training runs several times "
                "slower than in float32 (a supernet step took 5.1 s instead of 0.5 s on an AVX2 EPYC); "
                "pass --no-bf16.",
                stacklevel=2,
            )
        self.supernet = SRSupernet(space).to(self.device)
        self.optimizer = torch.optim.Adam(self.supernet.parameters(), lr=settings.lr)
        self.sampler = PatchSampler(
            PairedDataset(self.folders, space.scale), settings.patch_size, settings.batch_size, settings.seed
        )
        self.rng = np.random.Generator(np.random.PCG64(settings.seed + 1))
        self.step, self.elapsed = 0, 0.0
        self.history: list[dict[str, Any]] = []
        self._validation = validation
        self._stop_requested = False
        self.ema = copy.deepcopy(self.supernet).requires_grad_(False)
        if ckpt is not None:
            self._restore(ckpt)
        elif init_from is not None:
            self._init_from(init_from)
            self.ema.load_state_dict(self.supernet.state_dict())
        self.teacher = self._teacher()
        self.band_probes = self._band_probes()

    # ----------------------------------------------------------------- resume
    def _read_resume(self, resume: bool) -> dict[str, Any] | None:
        if not resume or not self.out.exists():
            return None
        ckpt = read_checkpoint(self.out)
        check_compatible(ckpt, self.space, self.space.scale, self.out)
        if "optimizer" not in ckpt or "train" not in ckpt:
            raise CheckpointError(f"{str(self.out)!r} holds weights only; it cannot resume training.")
        return ckpt

    @staticmethod
    def _merge_settings(saved: TrainSettings, given: TrainSettings) -> TrainSettings:
        changed = {k: v for k, v in given.to_dict().items() if k not in _RESUMABLE and v != getattr(saved, k)}
        if changed:
            warnings.warn(
                f"Resuming with changed settings {changed}: the run is no longer an exact continuation.",
                stacklevel=3,
            )
        return given

    def _restore(self, ckpt: dict[str, Any]) -> None:
        self.supernet.load_weights(ckpt["model"], self.out)
        self.ema.load_weights(ckpt.get("ema", ckpt["model"]), self.out)
        try:
            self.optimizer.load_state_dict(ckpt["optimizer"])
            self.sampler.load_state_dict(ckpt["sampler"])
            self.rng.bit_generator.state = ckpt["rng"]["subnets"]
            torch.set_rng_state(ckpt["rng"]["torch"])
        except (KeyError, ValueError, TypeError, RuntimeError) as err:
            raise CheckpointError(f"Cannot resume from {str(self.out)!r}: {err}") from err
        self.step = int(ckpt["step"])
        self.elapsed = float(ckpt.get("elapsed_s", 0.0))
        self.history = list(ckpt.get("history", []))

    def _init_from(self, path: PathLike) -> None:
        ckpt = read_checkpoint(path)
        check_compatible(ckpt, dataclasses.replace(self.space, scale=int(ckpt["scale"])), None, path)
        own = self.supernet.state_dict()
        shared = {k: v for k, v in ckpt["model"].items() if k in own and own[k].shape == v.shape}
        self.supernet.load_state_dict(shared, strict=False)

    def save(self, path: PathLike | None = None) -> None:
        """Write a full, resumable checkpoint (weights, optimizer, schedule, sampler and RNG states)."""
        write_checkpoint(
            self.out if path is None else path,
            {
                **self.supernet.checkpoint_header(),
                "model": self.supernet.state_dict(),
                "ema": self.ema.state_dict(),
                "optimizer": self.optimizer.state_dict(),
                "train": self.settings.to_dict(),
                "step": self.step,
                "sampler": self.sampler.state_dict(),
                "rng": {"subnets": self.rng.bit_generator.state, "torch": torch.get_rng_state()},
                "elapsed_s": self.elapsed,
                "history": self.history,
                "data": self.folders,
            },
        )

    # ----------------------------------------------------------------- one step
    def sandwich(self, step: int) -> list[SubnetConfig]:
        """The subnets trained at ``step``: the teacher first, then the students."""
        members = [self.teacher, self.space.smallest()]
        randoms = [self._draw() for _ in range(self.settings.num_random)]
        others = self._other_kinds()
        if others and step % self.settings.kind_every == self.settings.kind_every - 1:
            widest = others[(step // self.settings.kind_every) % len(others)]
            randoms = [widest, *randoms[1:]]
        return members + randoms

    def _teacher(self, kind: str | None = None) -> SubnetConfig:
        """The largest subnet; with a band, the costliest unpruned one-kind subnet within twice the
        band's top (compute goes where searches look, not to networks 10x over every budget).

        Args:
            kind: Only subnets of this block kind (default: any).
        """
        space = self.space
        if self.settings.band is None:
            return space.largest() if kind is None else space.full(kind)
        assert self.cost is not None
        cap = 2.0 * self.settings.band[1]
        kinds = space.block_kinds if kind is None else (kind,)
        shapes = itertools.product(kinds, space.widths, range(space.min_depth, space.max_depth + 1))
        candidates = [space.full(k, width, depth) for k, width, depth in shapes]
        within = [c for c in candidates if self.cost(c) <= cap]
        return max(within, key=self.cost) if within else min(candidates, key=self.cost)

    def _other_kinds(self) -> list[SubnetConfig]:
        """The teacher-like subnet of every other block kind."""
        return [self._teacher(kind) for kind in self.space.block_kinds if kind != self.teacher.blocks[0].kind]

    def _draw(self, rng: np.random.Generator | None = None, in_band: bool | None = None) -> SubnetConfig:
        """A random subnet: with probability ``band_share`` one whose cost is log-uniform in the band
        (a target cost is drawn, then the first subnet within 10% of it: uniform draws of the space
        would crowd the expensive end), else a uniform draw of the space."""
        rng = self.rng if rng is None else rng
        band = self.settings.band
        if band is None or not (in_band if in_band is not None else rng.random() < self.settings.band_share):
            return self.space.sample(rng)
        assert self.cost is not None
        low = max(band[0], 1e-9)
        target = math.exp(rng.uniform(math.log(low), math.log(band[1])))
        best, best_gap = None, math.inf
        for _ in range(512):  # the nearest draw if no subnet is that close
            config = self.space.sample(rng)
            gap = abs(math.log(self.cost(config) / target))
            if gap <= math.log(1.1):
                return config
            if gap < best_gap:
                best, best_gap = config, gap
        assert best is not None
        return best

    def _band_probes(self, count: int = 3) -> list[SubnetConfig]:
        """Fixed subnets inside the band whose PSNR is tracked by :meth:`validate`."""
        if self.settings.band is None:
            return []
        rng = np.random.Generator(np.random.PCG64(self.settings.seed + 2))
        return [self._draw(rng, in_band=True) for _ in range(count)]

    def train_step(self) -> dict[str, float]:
        """One optimizer step on the next batch; returns the L1 losses of the members."""
        lr_batch, hr_batch = next(self.sampler)
        lr_batch, hr_batch = lr_batch.to(self.device), hr_batch.to(self.device)
        if self.settings.channels_last:
            lr_batch = lr_batch.contiguous(memory_format=torch.channels_last)
        for group in self.optimizer.param_groups:
            group["lr"] = self.settings.learning_rate(self.step)
        members = self.sandwich(self.step)
        self.supernet.train()
        teacher = self._forward(lr_batch, members[0])
        loss = F.l1_loss(teacher, hr_batch)
        loss.backward()
        losses = {"largest": loss.item()}
        target, alpha = teacher.detach(), self.settings.distill_weight
        for index, config in enumerate(members[1:]):
            student_loss, l1_hr = distillation_loss(self._forward(lr_batch, config), hr_batch, target, alpha)
            student_loss.backward()
            if index == 0:
                losses["smallest"] = l1_hr.item()
        if self.settings.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(self.supernet.parameters(), self.settings.grad_clip)
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        self.step += 1
        self._update_ema()
        return losses

    def _forward(self, lr_batch: torch.Tensor, config: SubnetConfig) -> torch.Tensor:
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.settings.bf16):
            return self.supernet(lr_batch, config).float()

    @torch.no_grad()
    def _update_ema(self) -> None:
        decay = self.settings.ema_decay
        if decay == 0:
            self.ema.load_state_dict(self.supernet.state_dict())
            return
        decay = min(decay, (1 + self.step) / (10 + self.step))  # average over few steps at first
        ema: list[torch.Tensor] = list(self.ema.parameters())
        torch._foreach_lerp_(ema, list(self.supernet.parameters()), 1.0 - decay)

    # ----------------------------------------------------------------- validation
    @torch.no_grad()
    def validate(self) -> dict[str, float]:
        """Set5 PSNR (dB) of the moving-average weights: the largest, the smallest and the band probes."""
        if self._validation is None:
            self._validation = ValidationSet(None, self.space.scale)
        self.ema.eval()
        probes = [("largest", self.space.largest()), ("smallest", self.space.smallest())]
        if self.teacher != self.space.largest():
            probes.append(("teacher", self.teacher))
        probes += [(f"band{i}", config) for i, config in enumerate(self.band_probes)]
        result = {}
        for name, config in probes:
            scale = self.space.scale
            values = [
                psnr_torch(
                    self.ema(p.lr[None].to(self.device), config).clamp(0, 1).cpu(),
                    p.hr[None],
                    scale,
                    p.is_gray,
                )
                for p in self._validation
            ]
            result[f"psnr_{name}"] = float(np.mean(values))
        return result

    # ----------------------------------------------------------------- the loop
    def train(self, progress: bool = True, stop_at: int | None = None) -> dict[str, Any]:
        """Train up to ``settings.steps`` (or ``stop_at``), checkpointing; Ctrl-C / SIGTERM save and stop.

        Returns:
            ``step``, ``steps``, ``interrupted`` (stopped before ``steps``), ``elapsed_s``,
            ``checkpoint`` and the last ``psnr_largest`` / ``psnr_smallest`` measured (``None`` if never).
        """
        end = self.settings.steps if stop_at is None else min(stop_at, self.settings.steps)
        bar = progress_bar(self.settings.steps, f"supernet x{self.space.scale}", progress, self.step)
        smooth: dict[str, float] = {}
        with bar, self._stop_on_signals():
            while self.step < end and not self._stop_requested:
                start = time.perf_counter()
                losses = self.train_step()
                self.elapsed += time.perf_counter() - start
                smooth = {k: 0.98 * smooth.get(k, v) + 0.02 * v for k, v in losses.items()}
                bar.update(1)
                bar.set_postfix(self._postfix(smooth), refresh=False)
                self._periodic(bar, smooth)
            interrupted = self.step < self.settings.steps
            self.save()
        if interrupted:
            tqdm.write(
                f"Stopped at step {self.step} of {self.settings.steps}; checkpoint saved to {self.out} "
                "(resume with --resume).",
                file=sys.stderr,
            )
        last = self.history[-1] if self.history else {}
        return {
            "step": self.step,
            "steps": self.settings.steps,
            "interrupted": interrupted,
            "elapsed_s": round(self.elapsed, 1),
            "checkpoint": str(self.out),
            "psnr_largest": last.get("psnr_largest"),
            "psnr_smallest": last.get("psnr_smallest"),
        }

    def _periodic(self, bar: tqdm, smooth: dict[str, float]) -> None:
        every = self.settings.validate_every
        if every and self.step % every == 0:
            record = {"step": self.step, "elapsed_s": round(self.elapsed, 1), **self.validate()}
            record.update({f"loss_{k}": round(v, 5) for k, v in smooth.items()})
            self.history.append(record)
            self._keep_best(record)
            bar.set_postfix(self._postfix(smooth), refresh=False)
            band = " ".join(f"{record[k]:.2f}" for k in sorted(record) if k.startswith("psnr_band"))
            bar.write(
                f"step {self.step}: Set5 PSNR largest {record['psnr_largest']:.2f} dB, smallest "
                f"{record['psnr_smallest']:.2f} dB{', band ' + band if band else ''}, loss "
                f"{smooth.get('largest', 0):.4f} ({self.elapsed / 60:.1f} min)",
                file=sys.stderr,
            )
        if self.step % self.settings.checkpoint_every == 0:
            self.save()

    def _keep_best(self, record: dict[str, Any]) -> None:
        """Copy the checkpoint to ``<out>.best.pt`` when the in-band subnets (or, without a band, the
        largest) score best so far: a run that diverges can go back to it with ``--resume``."""
        band = [v for k, v in record.items() if k.startswith("psnr_band")]
        score = float(np.mean(band)) if band else record["psnr_largest"]
        best = [h.get("score", -math.inf) for h in self.history[:-1]]
        record["score"] = round(score, 4)
        if not best or score > max(best):
            self.save(self.out.with_name(self.out.stem + ".best.pt"))

    def _postfix(self, smooth: dict[str, float]) -> dict[str, str]:
        postfix = {f"L1_{k}": f"{v:.4f}" for k, v in smooth.items()}
        if self.history:
            last = self.history[-1]
            postfix["psnr"] = f"{last['psnr_largest']:.2f}/{last['psnr_smallest']:.2f}"
        return postfix

    @contextlib.contextmanager
    def _stop_on_signals(self) -> Iterator[None]:
        """Turn SIGINT/SIGTERM into a request to stop after the current step (then save)."""

        def request_stop(signum: int, frame: Any) -> None:
            self._stop_requested = True

        self._stop_requested = False
        previous = {}
        try:
            for sig in (signal.SIGINT, signal.SIGTERM):
                previous[sig] = signal.signal(sig, request_stop)
        except ValueError:  # not the main thread: no signal handling
            pass
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def strip_checkpoint(source: PathLike, target: PathLike) -> None:
    """Copy the weights of a training checkpoint to a small, weights-only checkpoint (for shipping).

    The moving average of the weights is what ships (the raw weights if the run kept none). The step,
    elapsed time and validation history are kept for the record.
    """
    ckpt = read_checkpoint(source)
    supernet = SRSupernet.load(source)
    if "ema" in ckpt:
        supernet.load_weights(ckpt["ema"], source)
    keep = {k: ckpt[k] for k in ("step", "elapsed_s", "history", "train", "data") if k in ckpt}
    supernet.save(target, **keep)
