"""Building a search's pieces (supernet, latency predictor, objective, sampler) from its settings.

The heavy module of this package (torch, onnx): the package imports it only when one of these is used.
"""

from __future__ import annotations

import sys
from typing import Any

import optuna

from optuna_srprune._defaults import DEFAULT_HR_SIZE
from optuna_srprune._defaults import DEFAULT_STORAGE
from optuna_srprune.evaluation import SupernetEvaluator
from optuna_srprune.exceptions import ConfigError
from optuna_srprune.latency import calibrate
from optuna_srprune.latency import LatencyModel
from optuna_srprune.latency import LatencyPredictor
from optuna_srprune.latency import LatencyTable
from optuna_srprune.latency import make_backend
from optuna_srprune.objective import SRPruneObjective
from optuna_srprune.orchestration._settings import SearchSettings
from optuna_srprune.samplers import LatencyAwareSampler
from optuna_srprune.search_space import SRSearchSpace
from optuna_srprune.supernet import SRSupernet


def load_supernet(scale: int, supernet: str = "default") -> SRSupernet:
    """The shipped supernet of ``scale`` (``supernet="default"``), or the checkpoint ``supernet``."""
    if supernet == "default":
        return SRSupernet.pretrained(scale)
    return SRSupernet.load(supernet, scale=scale)


def load_predictor(
    space: SRSearchSpace,
    storage: str = DEFAULT_STORAGE,
    backend: str = "onnxruntime",
    threads: int = 2,
    hr_size: tuple[int, int] = DEFAULT_HR_SIZE,
    progress: bool = True,
) -> LatencyPredictor:
    """The latency predictor of ``space`` on a back-end, calibrating whatever its table lacks.

    Args:
        space: The search space whose networks will be predicted (what calibration measures).
        storage: SQLAlchemy URL of the database that holds the latency table.
        backend: ``"onnxruntime"`` or ``"torch"``.
        threads: The back-end's threads.
        hr_size: Output size ``(height, width)`` the latency is predicted for.
        progress: Announce the phase on stderr and show calibration's progress bars.
    """
    engine = make_backend(backend, threads=threads)
    table = LatencyTable(storage, engine.fingerprint())
    _phase(progress, f"latency table for {engine.fingerprint()}: measuring what it lacks")
    calibrate(engine, table, space, hr_size, progress=progress)
    return LatencyPredictor(table, hr_size=hr_size, backend=engine)


def _phase(progress: bool, message: str) -> None:
    """Say on stderr what a phase that may take a while is doing (with the progress bars)."""
    if progress:
        print(f"optuna-srprune: {message}", file=sys.stderr, flush=True)


def build_sampler(
    space: SRSearchSpace,
    predictor: LatencyModel,
    sampler: str = "latency-aware",
    budget_ms: float | None = None,
    seed: int | None = None,
) -> optuna.samplers.BaseSampler:
    """The sampler called ``sampler`` (one of :data:`SAMPLERS`); ``seed`` may differ per worker."""
    if sampler == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if sampler == "tpe":
        return optuna.samplers.TPESampler(seed=seed, multivariate=True)
    if sampler == "nsga2":
        return optuna.samplers.NSGAIISampler(population_size=20, seed=seed)
    if budget_ms is None:
        raise ConfigError("The latency-aware sampler needs a budget: pass --budget-ms.")
    return LatencyAwareSampler(space, predictor, budget_ms, seed=seed)


def build_search(
    settings: SearchSettings,
    storage: str,
    seed: int | None,
    progress: bool = True,
    device: Any = "cpu",
) -> tuple[SRPruneObjective, optuna.samplers.BaseSampler]:
    """The study's objective and sampler: supernet, validation set, latency predictor (calibrated).

    With ``progress``, each phase is announced on stderr and calibration shows its progress bars.
    ``device`` is where this worker's supernet scores subnets and ``seed`` its sampler's seed
    (per-worker choices, not settings of the study).
    """
    _phase(progress, f"loading the x{settings.scale} supernet ({settings.supernet})")
    supernet = load_supernet(settings.scale, settings.supernet)
    _phase(progress, f"loading the validation images ({settings.val_data or 'embedded Set5'})")
    evaluator = SupernetEvaluator(supernet, settings.val_data, device=device)
    space = supernet.space
    predictor = load_predictor(
        space, storage, settings.backend, settings.threads, settings.hr_size, progress=progress
    )
    objective = SRPruneObjective(space, evaluator, predictor, settings.budget_ms)
    return objective, build_sampler(space, predictor, settings.sampler, settings.budget_ms, seed)
