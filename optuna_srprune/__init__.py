"""optuna-srprune: search super-resolution networks for quality at a latency budget, with Optuna."""

from __future__ import annotations

from optuna_srprune.config import SubnetConfig

__version__ = "0.1.0"

__all__ = ["SubnetConfig", "__version__"]
