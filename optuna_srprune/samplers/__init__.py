"""Samplers that know about latency budgets (no torch needed)."""

from __future__ import annotations

from optuna_srprune.samplers._latency_aware import LatencyAwareSampler
from optuna_srprune.samplers._latency_aware import LatencyModel

__all__ = ["LatencyAwareSampler", "LatencyModel"]
