"""``LatencyAwareSampler``: spend real evaluations only on candidates predicted to fit a budget."""

from __future__ import annotations

from collections.abc import Sequence
import functools
from typing import Any
import warnings

import numpy as np
from optuna.distributions import BaseDistribution
from optuna.samplers import BaseSampler
from optuna.samplers import NSGAIISampler
from optuna.study import Study
from optuna.trial import FrozenTrial
from optuna.trial import TrialState

from optuna_srprune._names import CONFIG
from optuna_srprune.config import SubnetConfig
from optuna_srprune.exceptions import ConfigError
from optuna_srprune.exceptions import SRPruneError
from optuna_srprune.latency import LatencyModel
from optuna_srprune.samplers._repair import nearest_unseen
from optuna_srprune.samplers._repair import reclaim_free_channels
from optuna_srprune.samplers._repair import repair
from optuna_srprune.search_space import SRSearchSpace

# Relative slack allowed when giving channels back for free (predictions are not exact).
_RECLAIM_TOLERANCE = 0.01
# Size of the pool the first generation is drawn from.
_DESIGN_POOL = 4096
# Most networks the search for an untaken one visits (decodes and predicts) before it gives up.
_UNSEEN_MAX_VISITS = 4096
# Trial states whose network counts as taken: evaluated or being evaluated (a failed one may be retried).
_TAKEN_STATES = (TrialState.COMPLETE, TrialState.RUNNING, TrialState.PRUNED)


class LatencyAwareSampler(BaseSampler):
    """A multi-objective sampler that only proposes networks predicted to fit a latency budget.

    Candidates come from ``base_sampler`` (NSGA-II by default; TPE works too). A candidate whose
    predicted latency exceeds ``budget_ms`` is repaired by pruning more (the pruning step that saves
    the most latency first, then depth and width), and pruning that saves no latency on the
    back-end's staircase is given back. The base sampler sees the repaired parameters, so it learns
    from what was evaluated. The first ``n_startup_trials`` trials are a design spread evenly over the
    latencies under the budget instead of random points, half of which would be over budget.

    It never proposes a network twice: a candidate that decodes to the network (the
    :class:`~optuna_srprune.config.SubnetConfig`, not the raw parameters: ratios that round to the same
    kept channels are one network) of another trial of the study (complete, pruned or running) is
    moved to the nearest network that is neither taken nor over budget (breadth-first over
    one-step changes, see ``nearest_unseen``). When every network predicted within the budget is
    taken, it warns once per process that the space is exhausted and proposes the repaired
    candidate again (:class:`~optuna_srprune.objective.SRPruneObjective` then reuses the earlier
    result instead of evaluating it again). Two processes sampling at the very same moment can still
    draw one network; the objective catches that too.

    The sampler keeps no state of its own between trials: the design is a function of the seed and
    the trial number, the taken networks are read from the study's trials, and the base sampler keeps
    its state in the storage, so several processes that share one storage can run the same study.

    Parameters outside ``space`` (a user's own) are left to the base sampler.

    Example:

        .. code::

            import optuna
            from optuna_srprune.config import count_macs
            from optuna_srprune.samplers import LatencyAwareSampler
            from optuna_srprune.search_space import SRSearchSpace


            class MacsLatency:  # any object with predict(config) -> ms
                def predict(self, config):
                    return count_macs(config, 360, 640) / 1e9


            space = SRSearchSpace(scale=2)
            sampler = LatencyAwareSampler(space, MacsLatency(), budget_ms=10.0, seed=0)
            study = optuna.create_study(directions=["maximize", "minimize"], sampler=sampler)

            def objective(trial):
                config = space.suggest(trial)
                return config.width * config.depth, MacsLatency().predict(config)

            study.optimize(objective, n_trials=10)

    Args:
        space: The SR search space whose parameters this sampler controls.
        predictor: The latency model, e.g. a ``LatencyPredictor``.
        budget_ms: Latency budget in milliseconds; must be positive.
        base_sampler: Where candidates come from. Defaults to NSGA-II with a population of
            ``n_startup_trials``.
        n_startup_trials: Size of the initial design.
        reclaim_free_channels: Give back pruned channels that cost no predicted latency.
        seed: Seed for the design and the default base sampler.
    """

    def __init__(
        self,
        space: SRSearchSpace,
        predictor: LatencyModel,
        budget_ms: float,
        base_sampler: BaseSampler | None = None,
        *,
        n_startup_trials: int = 20,
        reclaim_free_channels: bool = True,
        seed: int | None = None,
    ) -> None:
        if not budget_ms > 0:
            raise ConfigError(f"The latency budget must be positive, got {budget_ms} ms.")
        if n_startup_trials < 1:
            raise ConfigError(f"n_startup_trials must be >= 1, got {n_startup_trials}.")
        self._space = space
        self._predictor = predictor
        self._budget_ms = float(budget_ms)
        self._n_startup_trials = n_startup_trials
        self._reclaim = reclaim_free_channels
        self._seed = seed
        self._base = base_sampler or NSGAIISampler(population_size=n_startup_trials, seed=seed)
        self._dists = space.distributions()
        self._latency_ms: dict[SubnetConfig, float] = {}
        self._warned_exhausted = False

    @property
    def budget_ms(self) -> float:
        return self._budget_ms

    @property
    def base_sampler(self) -> BaseSampler:
        return self._base

    def reseed_rng(self) -> None:
        self._base.reseed_rng()

    # ----------------------------------------------------------------- sampler protocol
    def infer_relative_search_space(self, study: Study, trial: FrozenTrial) -> dict[str, BaseDistribution]:
        space = dict(self._base.infer_relative_search_space(study, trial))
        space.update(self._dists)
        return space

    def sample_relative(
        self, study: Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
    ) -> dict[str, Any]:
        base_space = self._base.infer_relative_search_space(study, trial)
        base_space = {k: v for k, v in base_space.items() if k in search_space}
        # Called even during the design phase: NSGA-II keeps its generation bookkeeping here.
        proposed = self._base.sample_relative(study, trial, base_space)
        result = dict(proposed)
        if all(name in search_space for name in self._dists):
            if trial.number < self._n_startup_trials:
                candidate = self._design_point(trial.number)
            else:
                candidate = self._complete(study, trial, proposed, self._dists)
            result.update(self._unseen(study, trial, self._make_feasible(candidate)))
        # The relative space is sampled jointly: what the base sampler left out (its first
        # generation, mutations, parameters new to it) comes from its independent sampling.
        return self._complete(study, trial, result, search_space)

    def _complete(
        self,
        study: Study,
        trial: FrozenTrial,
        params: dict[str, Any],
        search_space: dict[str, BaseDistribution],
    ) -> dict[str, Any]:
        filled = {k: v for k, v in params.items() if k in search_space}
        for name, dist in search_space.items():
            if name not in filled:
                filled[name] = self._base.sample_independent(study, trial, name, dist)
        return filled

    def sample_independent(
        self,
        study: Study,
        trial: FrozenTrial,
        param_name: str,
        param_distribution: BaseDistribution,
    ) -> Any:
        return self._base.sample_independent(study, trial, param_name, param_distribution)

    def before_trial(self, study: Study, trial: FrozenTrial) -> None:
        self._base.before_trial(study, trial)

    def after_trial(
        self,
        study: Study,
        trial: FrozenTrial,
        state: TrialState,
        values: Sequence[float] | None,
    ) -> None:
        self._base.after_trial(study, trial, state, values)

    # ----------------------------------------------------------------- latency side
    def predict_params(self, params: dict[str, Any]) -> float:
        """Predicted latency (ms) of the config that ``params`` decode to (cached per config)."""
        config = self._space.decode(params)
        if config not in self._latency_ms:
            self._latency_ms[config] = float(self._predictor.predict(config))
        return self._latency_ms[config]

    def _make_feasible(self, params: dict[str, Any]) -> dict[str, Any]:
        repaired = repair(self._space, params, self.predict_params, self._budget_ms)
        if not self._reclaim:
            return repaired
        limit = min(self._budget_ms, self.predict_params(repaired) * (1 + _RECLAIM_TOLERANCE))
        return reclaim_free_channels(self._space, repaired, self.predict_params, limit)

    def taken_configs(self, study: Study, trial: FrozenTrial | None = None) -> set[SubnetConfig]:
        """The networks of the study's trials (but ``trial``) that are complete, pruned or running.

        Read from each trial's parameters (or, where they are incomplete, its recorded config).
        """
        taken = set()
        for other in study.get_trials(deepcopy=False, states=_TAKEN_STATES):
            if trial is not None and other.number == trial.number:
                continue
            config = self._config_of(other)
            if config is not None:
                taken.add(config)
        return taken

    def _config_of(self, trial: FrozenTrial) -> SubnetConfig | None:
        try:
            return self._space.decode(trial.params)
        except SRPruneError:
            pass
        text = trial.user_attrs.get(CONFIG)
        if text is None:
            return None
        try:
            config = SubnetConfig.from_json(text)
        except (SRPruneError, ValueError, TypeError, KeyError):
            return None
        return config if config.scale == self._space.scale else None

    def _unseen(self, study: Study, trial: FrozenTrial, params: dict[str, Any]) -> dict[str, Any]:
        """``params``, or the nearest feasible network no other trial has (see the class docs)."""
        taken = self.taken_configs(study, trial)
        if self._space.decode(params) not in taken:
            return params
        found, searched_all = nearest_unseen(
            self._space, params, taken, self.predict_params, self._budget_ms, _UNSEEN_MAX_VISITS
        )
        if found is not None:
            return found
        if not self._warned_exhausted:
            self._warned_exhausted = True
            if searched_all:
                reason = (
                    "The search space is exhausted: every network predicted within the "
                    f"{self._budget_ms:g} ms budget has been tried ({len(taken)} networks taken)"
                )
            else:
                reason = (
                    f"No untried network found: none of the {_UNSEEN_MAX_VISITS} networks nearest to "
                    "the candidate is both untried and within the budget"
                )
            warnings.warn(
                f"{reason}. Trial {trial.number} repeats a network (SRPruneObjective reuses its "
                "result); raise the budget or stop the study.",
                UserWarning,
                stacklevel=2,
            )
        return params

    def _design_point(self, index: int) -> dict[str, Any]:
        """The ``index``-th point of a design spread over the feasible latencies.

        Latency quantiles follow a van der Corput sequence, so any prefix of the design is spread
        evenly however many trials the study runs.
        """
        pool = self._design_pool
        quantile = _van_der_corput(index + 1)
        return dict(pool[min(len(pool) - 1, int(quantile * len(pool)))][1])

    @functools.cached_property
    def _design_pool(self) -> list[tuple[float, dict[str, Any]]]:
        rng = np.random.default_rng(self._seed)
        pool = []
        for _ in range(_DESIGN_POOL):
            params = self._space.encode(self._space.sample(rng))
            latency = self.predict_params(params)
            if latency <= self._budget_ms:
                pool.append((latency, params))
        if not pool:  # the budget is below most of the space: repair random points instead
            params = self._space.encode(self._space.sample(rng))
            pool.append((0.0, repair(self._space, params, self.predict_params, self._budget_ms)))
        pool.sort(key=lambda item: item[0])
        return pool


def _van_der_corput(n: int, base: int = 2) -> float:
    value, denominator = 0.0, 1.0
    while n:
        n, remainder = divmod(n, base)
        denominator *= base
        value += remainder / denominator
    return value
