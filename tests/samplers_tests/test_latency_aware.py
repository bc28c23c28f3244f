from __future__ import annotations

from collections.abc import Callable
import subprocess
import sys

import numpy as np
import optuna
from optuna.testing.pytest_samplers import BasicSamplerTestCase
from optuna.testing.pytest_samplers import MultiObjectiveSamplerTestCase
from optuna.testing.pytest_samplers import RelativeSamplerTestCase
import pytest

from optuna_srprune.config import count_macs
from optuna_srprune.config import SubnetConfig
from optuna_srprune.exceptions import ConfigError
from optuna_srprune.samplers import LatencyAwareSampler
from optuna_srprune.search_space import SRSearchSpace

SPACE = SRSearchSpace(scale=2)


class MacsLatency:
    """A linear MACs latency model: the proxy the paper argues against, but a real model."""

    def __init__(self, ms_per_gmac: float = 1.0, overhead_ms: float = 1.0) -> None:
        self.ms_per_gmac, self.overhead_ms = ms_per_gmac, overhead_ms

    def predict(self, config: SubnetConfig) -> float:
        return self.overhead_ms + self.ms_per_gmac * count_macs(config, 360, 640) / 1e9


class StaircaseLatency:
    """Latency that, like a blocked conv kernel, only grows every 16 channels."""

    def predict(self, config: SubnetConfig) -> float:
        from optuna_srprune.config import layer_specs

        total = 0.0
        for layer in layer_specs(config, 360, 640):
            cin, cout = (-(-c // 16) * 16 for c in (layer.in_channels, layer.out_channels))
            total += layer.kernel**2 * cin * cout * 1e-4
        return total


def _factory() -> LatencyAwareSampler:
    return LatencyAwareSampler(SPACE, MacsLatency(), budget_ms=10.0, seed=1)


class TestOptunaContractBasic(BasicSamplerTestCase):
    @pytest.fixture
    def sampler(self) -> Callable[[], optuna.samplers.BaseSampler]:
        return _factory


class TestOptunaContractRelative(RelativeSamplerTestCase):
    @pytest.fixture
    def sampler(self) -> Callable[[], optuna.samplers.BaseSampler]:
        return _factory


class TestOptunaContractMultiObjective(MultiObjectiveSamplerTestCase):
    @pytest.fixture
    def sampler(self) -> Callable[[], optuna.samplers.BaseSampler]:
        return _factory


def _run(sampler: LatencyAwareSampler, n_trials: int) -> optuna.Study:
    study = optuna.create_study(directions=["maximize", "minimize"], sampler=sampler)
    model = MacsLatency()

    def objective(trial: optuna.Trial) -> tuple[float, float]:
        config = SPACE.suggest(trial)
        return float(sum(sum(b.channels) for b in config.blocks)), model.predict(config)

    study.optimize(objective, n_trials=n_trials)
    return study


@pytest.mark.parametrize("base", [None, "tpe"])
def test_every_trial_is_predicted_within_budget(base: str | None) -> None:
    base_sampler = optuna.samplers.TPESampler(seed=0) if base else None
    sampler = LatencyAwareSampler(SPACE, MacsLatency(), 10.0, base_sampler, seed=0)
    study = _run(sampler, 40)
    latencies = [t.values[1] for t in study.trials]
    assert max(latencies) <= 10.0
    # About half of the space is over this budget, so repairs must have happened.
    rng = np.random.default_rng(0)
    over = np.mean([MacsLatency().predict(SPACE.sample(rng)) > 10.0 for _ in range(500)])
    assert over > 0.3


def test_design_spreads_over_latencies() -> None:
    study = _run(LatencyAwareSampler(SPACE, MacsLatency(), 10.0, seed=0), 16)
    latencies = sorted(t.values[1] for t in study.trials)
    assert latencies[0] < 4.0 and latencies[-1] > 7.0


def test_same_seed_same_trials() -> None:
    first = _run(LatencyAwareSampler(SPACE, MacsLatency(), 10.0, seed=3), 30)
    second = _run(LatencyAwareSampler(SPACE, MacsLatency(), 10.0, seed=3), 30)
    assert [t.params for t in first.trials] == [t.params for t in second.trials]


def test_free_channels_are_reclaimed_on_a_staircase() -> None:
    model = StaircaseLatency()
    sampler = LatencyAwareSampler(SPACE, model, budget_ms=1e9, seed=0)
    params = SPACE.encode(SPACE.smallest())
    reclaimed = sampler._make_feasible(params)
    before, after = SPACE.decode(params), SPACE.decode(reclaimed)
    assert model.predict(after) == pytest.approx(model.predict(before))
    assert sum(after.blocks[0].channels) > sum(before.blocks[0].channels)


def test_user_parameters_beside_the_space_are_sampled() -> None:
    sampler = LatencyAwareSampler(SPACE, MacsLatency(), 10.0, seed=0)
    study = optuna.create_study(directions=["maximize", "minimize"], sampler=sampler)

    def objective(trial: optuna.Trial) -> tuple[float, float]:
        lr = trial.suggest_float("lr", 1e-4, 1e-2, log=True)
        config = SPACE.suggest(trial)
        return lr, MacsLatency().predict(config)

    study.optimize(objective, n_trials=25)
    values = [t.params["lr"] for t in study.trials]
    # NSGA-II's uniform crossover copies parents' values, so only the design phase is all distinct.
    assert len(set(values[:20])) == 20
    assert all(1e-4 <= v <= 1e-2 for v in values)


@pytest.mark.parametrize("budget", [0.0, -5.0])
def test_budget_must_be_positive(budget: float) -> None:
    with pytest.raises(ConfigError, match="budget"):
        LatencyAwareSampler(SPACE, MacsLatency(), budget)


def test_importing_samplers_does_not_import_torch() -> None:
    code = (
        "import sys, optuna_srprune.samplers, optuna_srprune.search_space;"
        "assert 'torch' not in sys.modules, 'torch was imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def _networks(study: optuna.Study, space: SRSearchSpace = SPACE) -> list[SubnetConfig]:
    return [space.decode(t.params) for t in study.trials]


@pytest.mark.parametrize("base", [None, "tpe"])
def test_no_network_is_proposed_twice(base: str | None) -> None:
    base_sampler = optuna.samplers.TPESampler(seed=0) if base else None
    # A tight budget: the repaired candidates crowd at the edge, where repeats happened before.
    study = _run(LatencyAwareSampler(SPACE, MacsLatency(), 4.0, base_sampler, seed=0), 60)
    networks = _networks(study)
    assert len(set(networks)) == len(networks) == 60
    assert max(t.values[1] for t in study.trials) <= 4.0


def test_samplers_in_two_processes_share_what_is_taken() -> None:
    storage = optuna.storages.InMemoryStorage()
    model = MacsLatency()

    def objective(trial: optuna.Trial) -> tuple[float, float]:
        config = SPACE.suggest(trial)
        return float(config.width), model.predict(config)

    for _ in range(3):  # a fresh sampler each time, as a new worker process would have
        study = optuna.create_study(
            study_name="s",
            storage=storage,
            directions=["maximize", "minimize"],
            sampler=LatencyAwareSampler(SPACE, model, 10.0, seed=0),
            load_if_exists=True,
        )
        study.optimize(objective, n_trials=8)
    networks = _networks(study)
    assert len(networks) == 24 and len(set(networks)) == 24


def test_exhausted_space_says_so_instead_of_looping() -> None:
    tiny = SRSearchSpace(scale=2, max_depth=1, widths=(8,))
    # edsr keeps 8 or 4 channels; wdsr 32..8 (7 counts) by 8 or 4: 16 networks in all.
    sampler = LatencyAwareSampler(tiny, MacsLatency(), budget_ms=1e9, seed=0, n_startup_trials=4)
    study = optuna.create_study(directions=["maximize", "minimize"], sampler=sampler)

    def objective(trial: optuna.Trial) -> tuple[float, float]:
        config = tiny.suggest(trial)
        return float(sum(config.blocks[0].channels)), MacsLatency().predict(config)

    study.optimize(objective, n_trials=16)
    assert len(set(_networks(study, tiny))) == 16
    with pytest.warns(UserWarning, match="search space is exhausted: every network"):
        study.optimize(objective, n_trials=2)
    assert len(study.trials) == 18 and len(set(_networks(study, tiny))) == 16


def test_nearest_unseen_is_one_step_away_and_feasible() -> None:
    from optuna_srprune.samplers._repair import nearest_unseen

    model = MacsLatency()

    def latency_of(params: dict) -> float:
        return model.predict(SPACE.decode(params))

    params = SPACE.encode(SPACE.sample(np.random.default_rng(4)))
    budget = latency_of(params) + 0.5
    found, searched = nearest_unseen(SPACE, params, {SPACE.decode(params)}, latency_of, budget)
    assert searched and found is not None
    assert SPACE.decode(found) != SPACE.decode(params) and latency_of(found) <= budget
    changed = [k for k in params if params[k] != found[k]]
    assert len(changed) == 1
    # Nothing unseen within the budget: the smallest network alone, and it is taken.
    smallest = SPACE.encode(SPACE.smallest())
    found, searched = nearest_unseen(SPACE, smallest, {SPACE.smallest()}, latency_of, latency_of(smallest))
    assert found is None and searched
