"""Lazy imports of optional dependencies, with an error that names the extra to install."""

from __future__ import annotations

import importlib
from types import ModuleType

from optuna_srprune.exceptions import MissingDependencyError

_EXTRA_OF = {
    "plotly": "optuna-srprune (plotly is a core dependency; reinstall the package)",
    "onnxruntime": "optuna-srprune (onnxruntime is a core dependency; reinstall the package)",
    "psycopg": "optuna-srprune[postgres]",
    "optuna_dashboard": "optuna-srprune[dashboard]",
}


def try_import(module: str) -> ModuleType:
    """Import ``module`` or raise :class:`MissingDependencyError` saying what to install."""
    try:
        return importlib.import_module(module)
    except ImportError as err:
        extra = _EXTRA_OF.get(module.split(".")[0], module)
        raise MissingDependencyError(
            f"{module!r} is required for this feature but is not installed: run `pip install {extra}`."
        ) from err
