from __future__ import annotations

import dataclasses
import os
from pathlib import Path
import signal
import warnings

import numpy as np
import pytest
import torch

from optuna_srprune.config import count_macs
from optuna_srprune.config import SubnetConfig
from optuna_srprune.exceptions import CheckpointError
from optuna_srprune.exceptions import ConfigError
from optuna_srprune.search_space import SRSearchSpace
from optuna_srprune.supernet import SRSupernet
from optuna_srprune.supernet import strip_checkpoint
from optuna_srprune.supernet import SupernetTrainer
from optuna_srprune.supernet import TrainSettings

SETTINGS = TrainSettings(
    steps=6, batch_size=2, patch_size=8, warmup_steps=2, kind_every=2, checkpoint_every=100, validate_every=0
)


def _trainer(space: SRSearchSpace, images: Path, out: Path, resume: bool = False) -> SupernetTrainer:
    return SupernetTrainer(space, [images], out, SETTINGS, resume=resume)


def test_resume_equals_uninterrupted(tiny_space: SRSearchSpace, tiny_images: Path, tmp_path: Path) -> None:
    whole = _trainer(tiny_space, tiny_images, tmp_path / "whole.pt")
    assert whole.train(progress=False)["step"] == 6

    first = _trainer(tiny_space, tiny_images, tmp_path / "split.pt")
    result = first.train(progress=False, stop_at=3)
    assert (result["step"], result["interrupted"]) == (3, True)
    second = _trainer(tiny_space, tiny_images, tmp_path / "split.pt", resume=True)
    assert second.step == 3
    assert second.train(progress=False)["step"] == 6

    for key, value in whole.supernet.state_dict().items():
        assert torch.equal(value, second.supernet.state_dict()[key]), key
    a, b = whole.optimizer.state_dict()["state"], second.optimizer.state_dict()["state"]
    assert all(torch.equal(a[i]["exp_avg_sq"], b[i]["exp_avg_sq"]) for i in a)
    saved = torch.load(tmp_path / "split.pt", weights_only=True)
    assert saved["step"] == 6 and saved["scale"] == 2 and saved["space"] == tiny_space.to_dict()


def test_sandwich_members(tiny_space: SRSearchSpace, tiny_images: Path, tmp_path: Path) -> None:
    trainer = _trainer(tiny_space, tiny_images, tmp_path / "c.pt")
    every = trainer.settings.kind_every
    plain = trainer.sandwich(0)
    assert plain[:2] == [tiny_space.largest(), tiny_space.smallest()] and len(plain) == 3
    # Every kind_every-th step, one random member is the widest subnet of another kind, in turn.
    others = [trainer.sandwich(every - 1 + k * every)[2] for k in range(2)]
    assert [{b.kind for b in c.blocks} for c in others] == [{"ecb"}, {"wdsr"}]
    assert all(c.width == 16 and c.depth == 3 for c in others)


def test_sigterm_saves_a_checkpoint(tiny_space: SRSearchSpace, tiny_images: Path, tmp_path: Path) -> None:
    trainer = _trainer(tiny_space, tiny_images, tmp_path / "t.pt")
    step = trainer.train_step

    def step_then_signal() -> dict[str, float]:
        losses = step()
        if trainer.step == 2:
            os.kill(os.getpid(), signal.SIGTERM)
        return losses

    trainer.train_step = step_then_signal  # type: ignore[method-assign]
    result = trainer.train(progress=False)
    assert result["interrupted"] and result["step"] == 2
    assert torch.load(tmp_path / "t.pt", weights_only=True)["step"] == 2
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


def test_validation_history_and_strip(tiny_space: SRSearchSpace, tiny_images: Path, tmp_path: Path) -> None:
    from optuna_srprune.data import ValidationSet

    settings = TrainSettings(steps=2, batch_size=2, patch_size=8, validate_every=2)
    trainer = SupernetTrainer(
        tiny_space, [tiny_images], tmp_path / "v.pt", settings, validation=ValidationSet(tiny_images, 2)
    )
    result = trainer.train(progress=False)
    assert result["psnr_largest"] > 10 and result["psnr_smallest"] > 10
    strip_checkpoint(tmp_path / "v.pt", tmp_path / "small.pt")
    small = torch.load(tmp_path / "small.pt", weights_only=True)
    assert "optimizer" not in small and small["step"] == 2
    SRSupernet.load(tmp_path / "small.pt", space=tiny_space, scale=2)
    with pytest.raises(CheckpointError, match="weights only"):
        SupernetTrainer(tiny_space, [tiny_images], tmp_path / "small.pt", settings, resume=True)


def test_resume_rejects_another_scale(tiny_space: SRSearchSpace, tiny_images: Path, tmp_path: Path) -> None:
    SRSupernet(tiny_space).save(tmp_path / "x2.pt")
    x4 = dataclasses.replace(tiny_space, scale=4)
    with pytest.raises(CheckpointError, match="x2, not x4"):
        SupernetTrainer(x4, [tiny_images], tmp_path / "x2.pt", SETTINGS, resume=True)


def test_learning_rate_schedule() -> None:
    settings = TrainSettings(steps=100, lr=1e-3, warmup_steps=10, min_lr_ratio=0.1)
    assert settings.learning_rate(0) == pytest.approx(1e-4)
    assert settings.learning_rate(9) == pytest.approx(1e-3)
    assert settings.learning_rate(55) == pytest.approx(0.55e-3)
    assert settings.learning_rate(100) == pytest.approx(1e-4)


def test_init_from_another_scale(tiny_space: SRSearchSpace, tiny_images: Path, tmp_path: Path) -> None:
    x2 = SRSupernet(tiny_space)
    x2.save(tmp_path / "x2.pt")
    x4_space = dataclasses.replace(tiny_space, scale=4)
    settings = TrainSettings(steps=1, batch_size=1, patch_size=8)
    x4 = SupernetTrainer(x4_space, [tiny_images], tmp_path / "x4.pt", settings, init_from=tmp_path / "x2.pt")
    ours, theirs = x4.supernet.state_dict(), x2.state_dict()
    assert torch.equal(ours["convs.block2_wdsr_conv1.weight"], theirs["convs.block2_wdsr_conv1.weight"])
    assert ours["convs.tail.weight"].shape[0] == 48
    other = dataclasses.replace(tiny_space, scale=4, max_depth=2)
    with pytest.raises(CheckpointError, match="another search space"):
        SupernetTrainer(other, [tiny_images], tmp_path / "o.pt", settings, init_from=tmp_path / "x2.pt")


def _macs(config: SubnetConfig) -> float:
    return count_macs(config, 10, 10) / 1e3


def test_band_draws_cover_the_band_and_cap_the_teacher(
    tiny_space: SRSearchSpace, tiny_images: Path, tmp_path: Path
) -> None:
    costs = sorted(_macs(tiny_space.sample(np.random.default_rng(i))) for i in range(200))
    band = (costs[20], costs[100])  # the cheaper half of the space, most of it
    settings = dataclasses.replace(SETTINGS, band=band, band_cost="kmacs@20x20", band_share=1.0)
    trainer = SupernetTrainer(tiny_space, [tiny_images], tmp_path / "b.pt", settings, cost=_macs)
    drawn = [_macs(trainer._draw()) for _ in range(300)]
    inside = [band[0] / 1.1 <= c <= band[1] * 1.1 for c in drawn]
    assert sum(inside) >= 0.95 * len(drawn)
    # Log-uniform in the band: as many draws in its lower half (in log) as in its upper half.
    middle = (band[0] * band[1]) ** 0.5
    lower = sum(c < middle for c in drawn)
    assert 0.3 * len(drawn) < lower < 0.7 * len(drawn)
    # The teacher is the costliest one-kind subnet within twice the band's top, not the largest.
    assert _macs(trainer.teacher) <= 2 * band[1] < _macs(tiny_space.largest())
    assert trainer.sandwich(0)[0] == trainer.teacher
    assert len(trainer.band_probes) == 3
    assert all(band[0] / 1.1 <= _macs(c) <= band[1] * 1.1 for c in trainer.band_probes)
    with pytest.raises(ConfigError, match="cost function"):
        SupernetTrainer(tiny_space, [tiny_images], tmp_path / "n.pt", settings)
    with pytest.raises(ConfigError, match="band"):
        TrainSettings(steps=1, band=(5.0, 1.0))
    with pytest.raises(ConfigError, match="grad_clip"):
        TrainSettings(steps=1, grad_clip=-1.0)


def test_moving_average_is_validated_and_shipped(
    tiny_space: SRSearchSpace, tiny_images: Path, tmp_path: Path
) -> None:
    settings = dataclasses.replace(SETTINGS, ema_decay=0.5, validate_every=3)
    trainer = SupernetTrainer(tiny_space, [tiny_images], tmp_path / "e.pt", settings)
    trainer.train(progress=False)
    raw, ema = trainer.supernet.state_dict(), trainer.ema.state_dict()
    assert any(not torch.equal(raw[k], ema[k]) for k in raw)
    assert {"psnr_largest", "psnr_smallest", "score"} <= set(trainer.history[-1])
    best = max(trainer.history, key=lambda h: h["score"])  # a diverged run can resume from it
    assert torch.load(tmp_path / "e.best.pt", weights_only=True)["step"] == best["step"]
    strip_checkpoint(tmp_path / "e.pt", tmp_path / "ship.pt")
    shipped = SRSupernet.load(tmp_path / "ship.pt").state_dict()
    assert all(torch.equal(shipped[k], ema[k]) for k in ema)
    resumed = SupernetTrainer(tiny_space, [tiny_images], tmp_path / "e.pt", settings, resume=True)
    assert all(torch.equal(resumed.ema.state_dict()[k], ema[k]) for k in ema)


def test_bf16_training_changes_weights_and_keeps_them_float32(
    tiny_space: SRSearchSpace, tiny_images: Path, tmp_path: Path
) -> None:
    settings = dataclasses.replace(SETTINGS, bf16=True, steps=2)
    trainer = SupernetTrainer(tiny_space, [tiny_images], tmp_path / "bf.pt", settings)
    before = {k: v.clone() for k, v in trainer.supernet.state_dict().items()}
    losses = trainer.train_step()
    assert all(np.isfinite(v) for v in losses.values())
    after = trainer.supernet.state_dict()
    assert all(v.dtype == torch.float32 for v in after.values())
    assert any(not torch.equal(before[k], after[k]) for k in before)


@pytest.mark.parametrize("native", [True, False])
def test_bf16_on_a_cpu_without_native_bfloat16_warns(
    tiny_space: SRSearchSpace,
    tiny_images: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    native: bool,
) -> None:
    from optuna_srprune.supernet import _train

    monkeypatch.setattr(_train, "cpu_has_native_bf16", lambda: native)
    settings = dataclasses.replace(SETTINGS, bf16=True, steps=2)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        SupernetTrainer(tiny_space, [tiny_images], tmp_path / "bf.pt", settings)
    emulated = [w for w in caught if "bfloat16 is emulated" in str(w.message)]
    assert len(emulated) == (0 if native else 1)
    if not native:
        assert "--no-bf16" in str(emulated[0].message)
