"""``LatencyModel``: what the objective and the sampler need of a latency predictor."""

from __future__ import annotations

from typing import Protocol

from optuna_srprune.config import SubnetConfig


class LatencyModel(Protocol):
    """Predicts a config's latency in milliseconds for outputs of ``hr_size`` (e.g. ``LatencyPredictor``).

    :class:`~optuna_srprune.samplers.LatencyAwareSampler` only calls :meth:`predict`;
    :class:`~optuna_srprune.objective.SRPruneObjective` also records MACs at ``hr_size``, so that MACs
    and latency are always of the same output size.
    """

    @property
    def hr_size(self) -> tuple[int, int]:
        """Output size ``(height, width)`` the predictions are for."""
        ...

    def predict(self, config: SubnetConfig) -> float:
        """Latency of ``config`` in milliseconds."""
        ...
