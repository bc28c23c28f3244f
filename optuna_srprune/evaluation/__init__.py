"""Scoring subnets with inherited supernet weights."""

from __future__ import annotations

# Re-exported from config, its home since the network's shape lives there (public API).
from optuna_srprune.config import receptive_radius
from optuna_srprune.evaluation._evaluator import evaluate_network
from optuna_srprune.evaluation._evaluator import Quality
from optuna_srprune.evaluation._evaluator import SupernetEvaluator
from optuna_srprune.evaluation._tiling import tile_windows
from optuna_srprune.evaluation._tiling import TileWindow
from optuna_srprune.evaluation._tiling import upscale_tiled

__all__ = [
    "Quality",
    "SupernetEvaluator",
    "TileWindow",
    "evaluate_network",
    "receptive_radius",
    "tile_windows",
    "upscale_tiled",
]
