"""Orchestration of studies: search settings, creating/joining a study, and workers that share it.

Everything here but the pieces of a search (:func:`build_search`, :func:`build_sampler`,
:func:`load_predictor`, :func:`load_supernet`) is torch-free; those are imported on first use, so the
command line and the plots read studies without importing torch or onnx.
"""

from __future__ import annotations

import importlib
from typing import Any
from typing import TYPE_CHECKING

from optuna_srprune._defaults import DEFAULT_STORAGE
from optuna_srprune.orchestration._runner import add_tickets
from optuna_srprune.orchestration._runner import run_trials
from optuna_srprune.orchestration._settings import check_directions
from optuna_srprune.orchestration._settings import load_settings
from optuna_srprune.orchestration._settings import read_settings
from optuna_srprune.orchestration._settings import SAMPLERS
from optuna_srprune.orchestration._settings import save_settings
from optuna_srprune.orchestration._settings import SearchSettings
from optuna_srprune.orchestration._storage import open_storage
from optuna_srprune.orchestration._study import check_joinable
from optuna_srprune.orchestration._study import create_or_join
from optuna_srprune.orchestration._study import existing_settings
from optuna_srprune.orchestration._study import open_study

if TYPE_CHECKING:
    from optuna_srprune.orchestration._build import build_sampler
    from optuna_srprune.orchestration._build import build_search
    from optuna_srprune.orchestration._build import load_predictor
    from optuna_srprune.orchestration._build import load_supernet

# Names of the heavy module (torch, onnx), imported when one of them is first used.
_LAZY = ("build_sampler", "build_search", "load_predictor", "load_supernet")


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module("optuna_srprune.orchestration._build"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "DEFAULT_STORAGE",
    "SAMPLERS",
    "SearchSettings",
    "add_tickets",
    "build_sampler",
    "build_search",
    "check_directions",
    "check_joinable",
    "create_or_join",
    "existing_settings",
    "load_predictor",
    "load_settings",
    "load_supernet",
    "open_storage",
    "open_study",
    "read_settings",
    "run_trials",
    "save_settings",
]
