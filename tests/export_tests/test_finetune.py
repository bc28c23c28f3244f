from __future__ import annotations

import pytest
import torch

from optuna_srprune.data import default_validation_dir
from optuna_srprune.exceptions import ConfigError
from optuna_srprune.export import finetune
from optuna_srprune.export import FinetuneSettings
from optuna_srprune.search_space import SRSearchSpace
from optuna_srprune.supernet import SRSupernet

SPACE = SRSearchSpace(scale=2, max_depth=2, widths=(8, 16), channel_multiple=4)


@pytest.mark.parametrize(
    "bad", [{"steps": -1}, {"batch_size": 0}, {"lr": 0.0}, {"distill_weight": 1.5}, {"min_lr_ratio": 2.0}]
)
def test_settings_are_checked(bad: dict) -> None:
    with pytest.raises(ConfigError):
        FinetuneSettings(**bad)


def _run(steps: int) -> tuple[dict, dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    torch.manual_seed(0)
    supernet = SRSupernet(SPACE).eval()
    net = supernet.extract(SPACE.smallest()).eval()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    largest = SPACE.largest()
    settings = FinetuneSettings(steps=steps, batch_size=2, patch_size=16, lr=1e-3)
    report = finetune(
        net, lambda x: supernet(x, largest), [default_validation_dir()], settings, progress=False
    )
    assert not net.training
    return report, before, net.state_dict()


def test_zero_steps_keep_the_inherited_weights() -> None:
    report, before, after = _run(0)
    assert report["steps"] == 0 and report["loss"] is None
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_training_moves_the_weights_reproducibly() -> None:
    report, before, after = _run(3)
    assert report["steps"] == 3 and report["loss"] > 0 and report["l1_hr"] > 0
    assert any(not torch.equal(before[k], after[k]) for k in before)
    _, _, again = _run(3)
    assert all(torch.equal(after[k], again[k]) for k in after)
