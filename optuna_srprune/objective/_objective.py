"""``SRPruneObjective``: trial -> (PSNR with inherited weights, predicted latency)."""

from __future__ import annotations

import optuna

from optuna_srprune.config import lr_size
from optuna_srprune.evaluation import SupernetEvaluator
from optuna_srprune.exceptions import ConfigError
from optuna_srprune.latency import LatencyModel
from optuna_srprune.objective import _attrs
from optuna_srprune.search_space import SRSearchSpace


class SRPruneObjective:
    """A two-objective Optuna objective: maximise PSNR, minimise latency.

    Each trial suggests a network from ``space``, scores it with ``evaluator`` (inherited supernet
    weights, no training) and ``predictor`` (the latency lookup table), and records the config, MACs,
    params, PSNR/SSIM and latency as ``srprune:*`` user attributes. With ``budget_ms`` it also reports
    the constraint ``latency - budget <= 0``.

    A network is never paid for twice: when a complete trial of the study already evaluated the same
    network (the same decoded config, whatever the raw parameters), the trial is not evaluated
    again. It records ``srprune:duplicate_of`` (that trial's number), copies its PSNR/SSIM, and
    completes with the same values, so the study keeps its number of complete trials and every
    sampler sees a consistent result; plots and the command line's Pareto front list the network
    once. ``LatencyAwareSampler`` never proposes a repeat (unless the space is exhausted); other
    samplers do. Pass ``reuse_results=False`` to evaluate repeats anyway.

    Its pieces (``space.suggest``, ``evaluator.evaluate``, ``predictor.predict`` and the recording
    functions of :mod:`optuna_srprune.objective`) are public, so they can go into an objective of your
    own, e.g. one that adds a training hyper-parameter.

    Example:

        .. code::

            import optuna
            from optuna_srprune.evaluation import SupernetEvaluator
            from optuna_srprune.latency import LatencyPredictor, LatencyTable, OnnxRuntimeBackend
            from optuna_srprune.latency import calibrate
            from optuna_srprune.objective import SRPruneObjective
            from optuna_srprune.supernet import SRSupernet

            supernet = SRSupernet.pretrained(scale=2)
            backend = OnnxRuntimeBackend(threads=2)
            table = LatencyTable("sqlite:///srprune.db", backend.fingerprint())
            calibrate(backend, table, supernet.space)  # measures only what the table lacks
            predictor = LatencyPredictor(table, backend=backend)
            objective = SRPruneObjective(
                supernet.space, SupernetEvaluator(supernet), predictor, budget_ms=40.0
            )
            study = optuna.create_study(directions=objective.directions)
            study.optimize(objective, n_trials=20)

    Args:
        space: The search space (its scale must match the evaluator's).
        evaluator: Scores a config's quality.
        predictor: Predicts a config's latency in milliseconds; MACs are recorded at its output size
            (``predictor.hr_size``), so both figures are of one size.
        budget_ms: Optional latency budget, reported as a constraint.
        reuse_results: Reuse the result of an earlier complete trial of the same network.
    """

    directions = list(_attrs.DIRECTIONS)
    metric_names = list(_attrs.OBJECTIVE_NAMES)

    def __init__(
        self,
        space: SRSearchSpace,
        evaluator: SupernetEvaluator,
        predictor: LatencyModel,
        budget_ms: float | None = None,
        reuse_results: bool = True,
    ) -> None:
        if budget_ms is not None and not budget_ms > 0:
            raise ConfigError(f"The latency budget must be positive, got {budget_ms} ms.")
        if evaluator.scale != space.scale:
            raise ConfigError(
                f"The evaluator is for x{evaluator.scale} but the search space for x{space.scale}."
            )
        self.space = space
        self.evaluator = evaluator
        self.predictor = predictor
        self.budget_ms = budget_ms
        self.reuse_results = reuse_results
        self._lr_size = lr_size(*predictor.hr_size, space.scale)

    def __call__(self, trial: optuna.Trial) -> tuple[float, float]:
        config = self.space.suggest(trial)
        _attrs.record_config(trial, config, *self._lr_size)
        latency = float(self.predictor.predict(config))
        _attrs.record_latency(trial, latency, self.budget_ms)
        earlier = _attrs.find_evaluated(trial.study, config) if self.reuse_results else None
        if earlier is not None:
            psnr = float(earlier.user_attrs[_attrs.PSNR])
            trial.set_user_attr(_attrs.DUPLICATE_OF, earlier.number)
            _attrs.record_quality(trial, psnr, float(earlier.user_attrs[_attrs.SSIM]))
            return psnr, latency
        quality = self.evaluator.evaluate(config)
        _attrs.record_quality(trial, quality.psnr, quality.ssim)
        return quality.psnr, latency
