"""Small studies made with the objective's own recording functions (no search, no supernet)."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Sequence

import optuna
import pytest

from optuna_srprune.config import BlockConfig
from optuna_srprune.config import SubnetConfig
from optuna_srprune.objective import DIRECTIONS
from optuna_srprune.objective import name_objectives
from optuna_srprune.objective import record_config
from optuna_srprune.objective import record_latency
from optuna_srprune.objective import record_quality
from optuna_srprune.orchestration import save_settings
from optuna_srprune.orchestration import SearchSettings

MakeStudy = Callable[..., optuna.Study]


def _make_study(
    points: Sequence[tuple[float, float]],
    budget_ms: float | None = 10.0,
    storage: str | None = None,
    name: str | None = None,
    measured_ms: dict[int, float] | None = None,
) -> optuna.Study:
    """A study of ``(psnr, latency_ms)`` trials recorded as ``SRPruneObjective`` records them."""
    study = optuna.create_study(directions=list(DIRECTIONS), storage=storage, study_name=name)
    save_settings(study, SearchSettings(scale=2, budget_ms=budget_ms, n_trials=len(points)))
    name_objectives(study)
    for index, (psnr, latency) in enumerate(points):
        trial = study.ask()
        config = SubnetConfig(scale=2, width=8 + index, blocks=(BlockConfig("edsr", (4,)),))
        record_config(trial, config, 32, 32)
        record_quality(trial, psnr, 0.9)
        record_latency(trial, latency, budget_ms)
        if measured_ms and index in measured_ms:
            trial.set_user_attr("srprune:measured_ms", measured_ms[index])
        study.tell(trial, [psnr, latency])
    return study


@pytest.fixture
def make_study() -> MakeStudy:
    return _make_study
