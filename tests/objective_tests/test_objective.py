from __future__ import annotations

import json

import optuna
import pytest
import torch

from optuna_srprune.config import count_macs
from optuna_srprune.config import SubnetConfig
from optuna_srprune.evaluation import SupernetEvaluator
from optuna_srprune.exceptions import ConfigError
from optuna_srprune.objective import config_of
from optuna_srprune.objective import name_objectives
from optuna_srprune.objective import SRPruneObjective
from optuna_srprune.search_space import SRSearchSpace
from optuna_srprune.supernet import SRSupernet

SPACE = SRSearchSpace(scale=2, max_depth=2, widths=(8, 16), channel_multiple=4)


class MacsLatency:
    hr_size = (720, 1280)

    def predict(self, config: SubnetConfig) -> float:
        return count_macs(config, 360, 640) / 1e8


@pytest.fixture(scope="module")
def evaluator(tmp_path_factory: pytest.TempPathFactory) -> SupernetEvaluator:
    from PIL import Image

    from optuna_srprune.data import default_validation_dir

    folder = tmp_path_factory.mktemp("val")
    Image.open(default_validation_dir() / "head.png").crop((0, 0, 64, 64)).save(folder / "head.png")
    torch.manual_seed(0)
    return SupernetEvaluator(SRSupernet(SPACE), folder)


def test_trials_record_the_network_and_the_constraint(evaluator: SupernetEvaluator) -> None:
    objective = SRPruneObjective(SPACE, evaluator, MacsLatency(), budget_ms=5.0)
    study = optuna.create_study(directions=objective.directions)
    name_objectives(study)
    study.optimize(objective, n_trials=12)
    assert study.metric_names == ["PSNR (dB)", "Latency (ms)"]
    for trial in study.trials:
        psnr, latency = trial.values
        config = config_of(trial)
        assert json.loads(trial.user_attrs["srprune:config"]) == config.to_dict()
        assert trial.user_attrs["srprune:psnr"] == psnr
        assert trial.user_attrs["srprune:latency_ms"] == latency == MacsLatency().predict(config)
        assert trial.user_attrs["srprune:macs"] == count_macs(config, 360, 640)
        # Optuna 5's form (read by samplers) and optuna-dashboard 0.21's form (a list).
        assert trial.constraints == {"0": latency - 5.0, "latency_ms": latency - 5.0}
        assert trial.system_attrs["constraints"] == [latency - 5.0]
    feasible = [t for t in study.trials if t.values[1] <= 5.0]
    assert {t.number for t in study.best_trials} <= {t.number for t in feasible}


def test_no_budget_no_constraint(evaluator: SupernetEvaluator) -> None:
    objective = SRPruneObjective(SPACE, evaluator, MacsLatency())
    study = optuna.create_study(directions=objective.directions)
    study.optimize(objective, n_trials=2)
    assert all(not t.constraints for t in study.trials)


def test_bad_settings(evaluator: SupernetEvaluator) -> None:
    with pytest.raises(ConfigError, match="positive"):
        SRPruneObjective(SPACE, evaluator, MacsLatency(), budget_ms=0)
    with pytest.raises(ConfigError, match="x4"):
        SRPruneObjective(SRSearchSpace(scale=4), evaluator, MacsLatency())


class _CountingEvaluator:
    """Counts the networks actually evaluated."""

    def __init__(self, inner: SupernetEvaluator) -> None:
        self.inner, self.scale = inner, inner.scale
        self.calls: list[SubnetConfig] = []

    def evaluate(self, config: SubnetConfig):  # noqa: ANN201
        self.calls.append(config)
        return self.inner.evaluate(config)


def _same_network_twice() -> list[dict]:
    # At width 8, pruning 0 and 0.125 both keep 8 channels: two parameter sets, one network.
    network = {"scale": 2, "width": 8, "blocks": [{"kind": "edsr", "channels": [8]}]}
    first = SPACE.encode(SubnetConfig.from_dict(network))
    second = {**first, "srprune:block0.ratio0": 0.125, "srprune:block1.kind": "wdsr"}
    assert SPACE.decode(first) == SPACE.decode(second) and first != second
    return [first, second]


@pytest.mark.parametrize("reuse", [True, False])
def test_a_repeated_network_reuses_the_earlier_result(evaluator: SupernetEvaluator, reuse: bool) -> None:
    counting = _CountingEvaluator(evaluator)
    objective = SRPruneObjective(SPACE, counting, MacsLatency(), budget_ms=5.0, reuse_results=reuse)  # type: ignore[arg-type]
    study = optuna.create_study(directions=objective.directions)
    for params in _same_network_twice():
        study.enqueue_trial(params)
    study.optimize(objective, n_trials=2)
    first, second = study.trials
    assert first.values == second.values and config_of(first) == config_of(second)
    if reuse:
        assert len(counting.calls) == 1
        assert second.user_attrs["srprune:duplicate_of"] == 0
        assert second.user_attrs["srprune:psnr"] == first.user_attrs["srprune:psnr"]
        assert "srprune:duplicate_of" not in first.user_attrs
    else:
        assert len(counting.calls) == 2 and "srprune:duplicate_of" not in second.user_attrs


def test_distinct_networks_keeps_the_first_trial_of_each() -> None:
    from optuna_srprune.objective import distinct_networks

    def trial(config: SubnetConfig | None) -> optuna.trial.FrozenTrial:
        attrs = {} if config is None else {"srprune:config": config.to_json()}
        return optuna.trial.create_trial(values=[1.0, 1.0], user_attrs=attrs)

    small, large = SPACE.smallest(), SPACE.largest()
    trials = [trial(small), trial(large), trial(small), trial(None), trial(None)]
    assert distinct_networks(trials) == [trials[0], trials[1], trials[3], trials[4]]
