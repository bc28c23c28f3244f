"""Building a study's objective and sampler from its stored settings."""

from __future__ import annotations

import sys
from typing import Any

import optuna

from optuna_srprune.evaluation import SupernetEvaluator
from optuna_srprune.exceptions import ConfigError
from optuna_srprune.latency import calibrate
from optuna_srprune.latency import LatencyPredictor
from optuna_srprune.latency import LatencyTable
from optuna_srprune.latency import make_backend
from optuna_srprune.objective import SRPruneObjective
from optuna_srprune.samplers import LatencyAwareSampler
from optuna_srprune.search_space import SRSearchSpace
from optuna_srprune.store._settings import SearchSettings
from optuna_srprune.supernet import SRSupernet


def load_supernet(settings: SearchSettings) -> SRSupernet:
    if settings.supernet == "default":
        return SRSupernet.pretrained(settings.scale)
    return SRSupernet.load(settings.supernet, scale=settings.scale)


def load_predictor(
    settings: SearchSettings, space: SRSearchSpace, storage_url: str, progress: bool = True
) -> LatencyPredictor:
    """The latency predictor for the study's back-end, calibrating whatever the table lacks."""
    backend = make_backend(settings.backend, threads=settings.threads)
    table = LatencyTable(storage_url, backend.fingerprint())
    _phase(progress, f"latency table for {backend.fingerprint()}: measuring what it lacks")
    calibrate(backend, table, space, settings.hr_size, progress=progress)
    return LatencyPredictor(table, hr_size=settings.hr_size, backend=backend)


def _phase(progress: bool, message: str) -> None:
    """Say on stderr what a phase that may take a while is doing (with the progress bars)."""
    if progress:
        print(f"optuna-srprune: {message}", file=sys.stderr, flush=True)


def build_objective(
    settings: SearchSettings, storage_url: str, progress: bool = True, device: Any = "cpu"
) -> SRPruneObjective:
    """The study's objective: supernet, validation set and latency predictor (calibrating first).

    With ``progress``, each phase is announced on stderr and calibration shows its progress bars.
    ``device`` is where this worker's supernet scores subnets (a per-worker choice, not a setting
    of the study).
    """
    _phase(progress, f"loading the x{settings.scale} supernet ({settings.supernet})")
    supernet = load_supernet(settings)
    _phase(progress, f"loading the validation images ({settings.val_data or 'embedded Set5'})")
    evaluator = SupernetEvaluator(supernet, settings.val_data, device=device)
    predictor = load_predictor(settings, supernet.space, storage_url, progress)
    return SRPruneObjective(
        supernet.space, evaluator, predictor, settings.budget_ms, hr_size=settings.hr_size
    )


def build_sampler(
    settings: SearchSettings, objective: SRPruneObjective, seed: int | None
) -> optuna.samplers.BaseSampler:
    """The sampler named in the settings (``seed`` may differ per worker)."""
    if settings.sampler == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if settings.sampler == "tpe":
        return optuna.samplers.TPESampler(seed=seed, multivariate=True)
    if settings.sampler == "nsga2":
        return optuna.samplers.NSGAIISampler(population_size=20, seed=seed)
    if settings.budget_ms is None:
        raise ConfigError("The latency-aware sampler needs a budget: pass --budget-ms.")
    return LatencyAwareSampler(objective.space, objective.predictor, settings.budget_ms, seed=seed)
