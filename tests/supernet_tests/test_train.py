from __future__ import annotations

import dataclasses
import os
from pathlib import Path
import signal

import pytest
import torch

from optuna_srprune.exceptions import CheckpointError
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
