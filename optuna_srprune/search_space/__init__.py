"""The Optuna search space of SR subnets."""

from __future__ import annotations

from optuna_srprune.search_space._space import SRSearchSpace

__all__ = ["SRSearchSpace"]
