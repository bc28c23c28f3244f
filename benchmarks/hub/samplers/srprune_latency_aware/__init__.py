"""OptunaHub package ``samplers/srprune_latency_aware``: the sampler of optuna-srprune.

The sampler itself lives in the ``optuna-srprune`` distribution (``requirements.txt``); this package
re-exports it so that ``optunahub.load_module("samplers/srprune_latency_aware")`` finds it.
"""

from __future__ import annotations

from optuna_srprune.samplers import LatencyAwareSampler
from optuna_srprune.samplers import LatencyModel

__all__ = ["LatencyAwareSampler", "LatencyModel"]
