"""The search objective and the trial attributes it records."""

from __future__ import annotations

from optuna_srprune.objective._attrs import config_of
from optuna_srprune.objective._attrs import DIRECTIONS
from optuna_srprune.objective._attrs import distinct_networks
from optuna_srprune.objective._attrs import DUPLICATE_OF
from optuna_srprune.objective._attrs import find_evaluated
from optuna_srprune.objective._attrs import name_objectives
from optuna_srprune.objective._attrs import OBJECTIVE_NAMES
from optuna_srprune.objective._attrs import record_config
from optuna_srprune.objective._attrs import record_latency
from optuna_srprune.objective._attrs import record_quality
from optuna_srprune.objective._objective import SRPruneObjective

__all__ = [
    "DIRECTIONS",
    "DUPLICATE_OF",
    "OBJECTIVE_NAMES",
    "SRPruneObjective",
    "config_of",
    "distinct_networks",
    "find_evaluated",
    "name_objectives",
    "record_config",
    "record_latency",
    "record_quality",
]
