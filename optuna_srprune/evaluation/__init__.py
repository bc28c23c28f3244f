"""Scoring subnets with inherited supernet weights."""

from __future__ import annotations

from optuna_srprune.evaluation._evaluator import Quality
from optuna_srprune.evaluation._evaluator import receptive_radius
from optuna_srprune.evaluation._evaluator import SupernetEvaluator
from optuna_srprune.evaluation._tiling import upscale_tiled

__all__ = ["Quality", "SupernetEvaluator", "receptive_radius", "upscale_tiled"]
