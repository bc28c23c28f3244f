"""How a trial records its network, its figures and its latency constraint.

Attribute names (namespaced, ``srprune:...``) are defined in :mod:`optuna_srprune._names`.
"""

from __future__ import annotations

import optuna

from optuna_srprune._names import BUDGET_MS
from optuna_srprune._names import CONFIG
from optuna_srprune._names import DIRECTIONS
from optuna_srprune._names import DUPLICATE_OF
from optuna_srprune._names import LATENCY_MS
from optuna_srprune._names import MACS
from optuna_srprune._names import MEASURED_MS
from optuna_srprune._names import OBJECTIVE_NAMES
from optuna_srprune._names import PARAMS
from optuna_srprune._names import PSNR
from optuna_srprune._names import SSIM
from optuna_srprune._names import SUMMARY
from optuna_srprune._optuna_compat import set_trial_system_attr
from optuna_srprune.config import count_macs
from optuna_srprune.config import count_params
from optuna_srprune.config import SubnetConfig

__all__ = [
    "BUDGET_MS",
    "CONFIG",
    "DIRECTIONS",
    "DUPLICATE_OF",
    "LATENCY_MS",
    "MACS",
    "MEASURED_MS",
    "OBJECTIVE_NAMES",
    "PARAMS",
    "PSNR",
    "SSIM",
    "SUMMARY",
    "config_of",
    "name_objectives",
    "record_config",
    "record_latency",
    "record_quality",
]

CONSTRAINT_KEY = "latency_ms"
# optuna-dashboard 0.21 reads feasibility from this list-valued system attribute only.
_DASHBOARD_CONSTRAINTS = "constraints"


def record_config(trial: optuna.Trial, config: SubnetConfig, lr_height: int, lr_width: int) -> None:
    """Store ``config`` (JSON), a readable summary, MACs at the given LR size, and params."""
    trial.set_user_attr(CONFIG, config.to_json())
    trial.set_user_attr(SUMMARY, config.summary())
    trial.set_user_attr(MACS, count_macs(config, lr_height, lr_width))
    trial.set_user_attr(PARAMS, count_params(config))


def record_quality(trial: optuna.Trial, psnr: float, ssim: float) -> None:
    trial.set_user_attr(PSNR, float(psnr))
    trial.set_user_attr(SSIM, float(ssim))


def record_latency(trial: optuna.Trial, latency_ms: float, budget_ms: float | None = None) -> None:
    """Store the predicted latency and, with a budget, the constraint ``latency - budget <= 0``.

    The constraint goes where Optuna 5's samplers read it (:meth:`optuna.Trial.set_constraint`) and
    where optuna-dashboard 0.21 reads it (the ``constraints`` system attribute), so over-budget trials
    show as infeasible in both.
    """
    trial.set_user_attr(LATENCY_MS, float(latency_ms))
    if budget_ms is None:
        return
    violation = float(latency_ms) - float(budget_ms)
    trial.set_user_attr(BUDGET_MS, float(budget_ms))
    trial.set_constraint(CONSTRAINT_KEY, violation)
    set_trial_system_attr(trial, _DASHBOARD_CONSTRAINTS, [violation])


def name_objectives(study: optuna.Study) -> None:
    """Name the objectives so plots and the dashboard label them."""
    if study.metric_names != list(OBJECTIVE_NAMES):
        study.set_metric_names(list(OBJECTIVE_NAMES))


def config_of(trial: optuna.trial.FrozenTrial) -> SubnetConfig:
    """The network a finished trial evaluated."""
    return SubnetConfig.from_json(trial.user_attrs[CONFIG])


def find_evaluated(study: optuna.Study, config: SubnetConfig) -> optuna.trial.FrozenTrial | None:
    """The earliest complete trial of ``study`` that evaluated ``config`` (PSNR recorded), if any."""
    text = config.to_json()
    for trial in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)):
        other = trial.user_attrs.get(CONFIG)
        if other is None or PSNR not in trial.user_attrs or SSIM not in trial.user_attrs:
            continue
        if other == text or SubnetConfig.from_json(other) == config:
            return trial
    return None


def distinct_networks(
    trials: list[optuna.trial.FrozenTrial],
) -> list[optuna.trial.FrozenTrial]:
    """``trials`` with each network once (the first trial of each, in the given order)."""
    seen: set[str] = set()
    kept = []
    for trial in trials:
        key = trial.user_attrs.get(CONFIG)
        if key is not None:
            key = config_of(trial).to_json()  # one spelling per network
            if key in seen:
                continue
            seen.add(key)
        kept.append(trial)
    return kept
