"""Which ops a back-end runs as one kernel, decided by measurement (nn-Meter's rule).

Ops ``a`` and ``b`` count as fused when ``T(a) + T(b) - T(ab) > 0.5 * min(T(a), T(b))``, each ``T``
the median of runs interleaved round-robin with the other probes (so load drifts hit all alike).
"""

from __future__ import annotations

from collections.abc import Sequence
import dataclasses

from optuna_srprune.latency._backend import LatencyBackend
from optuna_srprune.latency._timing import time_networks

# The op pairs that follow each other in the space's networks; conv->conv pairs are where the lookup
# table cuts a network into kernels, so they must come out "not fused" for sums to be valid.
DEFAULT_PAIRS: tuple[tuple[str, str], ...] = (
    ("conv3x3", "relu"),
    ("conv1x1", "relu"),
    ("conv3x3", "add"),
    ("relu", "add"),
    ("add", "depth_to_space"),
    ("conv3x3", "depth_to_space"),
    ("conv3x3", "conv3x3"),
    ("conv1x1", "conv1x1"),
    ("conv1x1", "conv3x3"),
)


@dataclasses.dataclass(frozen=True)
class FusionResult:
    """The measurement behind one fusion decision (median times in ms)."""

    first: str
    second: str
    t_first: float
    t_second: float
    t_both: float

    @property
    def gain_ms(self) -> float:
        """``T(a) + T(b) - T(ab)``."""
        return self.t_first + self.t_second - self.t_both

    @property
    def fused(self) -> bool:
        """nn-Meter's rule."""
        return self.gain_ms > 0.5 * min(self.t_first, self.t_second)


def detect_fusion(
    backend: LatencyBackend,
    pairs: Sequence[tuple[str, str]] = DEFAULT_PAIRS,
    *,
    channels: int = 32,
    height: int = 180,
    width: int = 320,
    warmup: int = 3,
    repeats: int = 15,
) -> list[FusionResult]:
    """Measure each pair alone and chained, and apply nn-Meter's rule."""
    chains = sorted({(a,) for a, _ in pairs} | {(b,) for _, b in pairs} | {tuple(p) for p in pairs})
    runners = [backend.prepare_ops(ops, channels, height, width) for ops in chains]
    # Timed like whole networks: a settling run first, or the previous probe's spinning pool threads
    # (ORT's default) steal the cores and a 6 ms conv measures 58 ms.
    t = {ops: timing.median_ms for ops, timing in zip(chains, time_networks(runners, warmup, repeats))}
    return [FusionResult(a, b, t[(a,)], t[(b,)], t[(a, b)]) for a, b in pairs]
