"""The shared SQL study store: search settings, storage, and workers that share one study."""

from __future__ import annotations

from optuna_srprune.latency import mask_url
from optuna_srprune.store._build import build_objective
from optuna_srprune.store._build import build_sampler
from optuna_srprune.store._build import load_predictor
from optuna_srprune.store._build import load_supernet
from optuna_srprune.store._runner import add_tickets
from optuna_srprune.store._runner import run_trials
from optuna_srprune.store._settings import check_directions
from optuna_srprune.store._settings import load_settings
from optuna_srprune.store._settings import SAMPLERS
from optuna_srprune.store._settings import save_settings
from optuna_srprune.store._settings import SearchSettings
from optuna_srprune.store._storage import DEFAULT_STORAGE
from optuna_srprune.store._storage import open_storage

__all__ = [
    "DEFAULT_STORAGE",
    "SAMPLERS",
    "SearchSettings",
    "add_tickets",
    "build_objective",
    "build_sampler",
    "load_predictor",
    "load_supernet",
    "check_directions",
    "load_settings",
    "mask_url",
    "open_storage",
    "run_trials",
    "save_settings",
]
