"""Samplers that know about latency budgets (no torch needed)."""

from __future__ import annotations

from optuna_srprune.latency import LatencyModel
from optuna_srprune.samplers._latency_aware import LatencyAwareSampler

__all__ = ["LatencyAwareSampler", "LatencyModel"]
