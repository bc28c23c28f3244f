"""How repeatable the machine is while it calibrates, and when a table is too noisy to trust.

A lookup table measured on a busy machine is wrong in a way nothing else shows: every kernel is
slower, and the search then believes it. So calibration re-times a few reference kernels at its
start, middle and end (:class:`NoiseProbe`) and takes, for each, the larger of two figures:

- its spread within a probe (IQR / median of the timed runs, the median over the probes), and
- its drift across probes ((max - min) / median of the probes' medians),

then the median over the references: the machine's *noise*, stored with the table. A kernel whose
own IQR / median exceeds the limit is timed again at once (the less noisy timing is kept), and when
the noise still exceeds the limit at the end the references are timed once more (a burst of load may
have passed). If the noise is still too high, calibration stops with :class:`NoisyMachineError`
and removes what it stored, unless the caller accepts the noise (``--accept-noise``).
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Sequence
import math
import os
import statistics

from optuna_srprune.config import LayerSpec
from optuna_srprune.exceptions import LatencyTableError
from optuna_srprune.latency._timing import Timing

# The noise above which a calibration is refused, chosen where measured quiet and loaded runs part.
# On a 2-vCPU AMD EPYC (AVX2), ORT, 720p x2 (benchmarks/results/calibration_noise*.md): quiet (our
# trainings paused), 2.2-10.5% at 1 thread and 3.9-7.9% at 2 threads over three runs each; with two
# trainings running on the cores, 17% (1 thread) and 40% (2 threads), 24-55% in whole calibrations;
# with a busy loop pinned to each core, 20% at 2 threads. A 5% limit (the predictor's +-5% band)
# refused half of the quiet runs, so 15%: every quiet run passes, every loaded run seen at 2 threads
# is refused. A load that slows every run alike can pass (busy loops at 1 thread: 11.6%, kernels 2x
# slower): the figure measures repeatability, not speed.
DEFAULT_MAX_NOISE = 0.15
# Set to 1 to accept any noise where no ``--accept-noise`` flag exists (``search``, ``worker``, tests
# on a shared machine).
ACCEPT_NOISE_ENV = "SRPRUNE_ACCEPT_NOISE"
# Reference kernels re-timed across a calibration: the median of three ignores one odd kernel.
NOISE_REFERENCES = 3
# Timed runs of a reference kernel per probe: enough for its IQR to mean something (with 5, one slow
# run in five moves the upper quartile).
NOISE_PROBE_REPEATS = 10


class NoisyMachineError(LatencyTableError):
    """The machine was too noisy while calibrating for the latency table to be trusted."""


def resolve_max_noise(max_noise: float | None) -> float:
    """``max_noise``, or the default: :data:`DEFAULT_MAX_NOISE`, no limit if ``SRPRUNE_ACCEPT_NOISE=1``."""
    if max_noise is None:
        accept = os.environ.get(ACCEPT_NOISE_ENV, "").strip().lower() in ("1", "true", "yes")
        return math.inf if accept else DEFAULT_MAX_NOISE
    if math.isnan(max_noise) or max_noise <= 0:
        raise ValueError(f"max_noise must be a positive share (0.05 is 5%), got {max_noise!r}.")
    return max_noise


def relative_spread(timing: Timing) -> float:
    """IQR / median of one timing (``inf`` for a zero median)."""
    return timing.spread_ms / timing.median_ms if timing.median_ms > 0 else math.inf


def reference_layers(universe: Sequence[LayerSpec], count: int = NOISE_REFERENCES) -> list[LayerSpec]:
    """``count`` kernels of ``universe`` spread over its cost (MACs quantiles), deterministically."""
    ranked = sorted(universe, key=lambda layer: (layer.macs, layer.key()))
    if len(ranked) <= count:
        return ranked
    picks = {round((i + 1) * (len(ranked) - 1) / (count + 1)) for i in range(count)}
    return [ranked[i] for i in sorted(picks)]


def kernel_noise(probes: Sequence[Timing]) -> float:
    """One reference kernel's noise over its probes: the larger of its spread and its drift."""
    within = statistics.median(relative_spread(t) for t in probes)
    medians = [t.median_ms for t in probes]
    middle = statistics.median(medians)
    drift = (max(medians) - min(medians)) / middle if middle > 0 else math.inf
    return max(within, drift)


class NoiseProbe:
    """Times the reference kernels again and again across a calibration and says how noisy it was.

    Args:
        measure: Times one layer: ``measure(layer) -> Timing``.
        references: The reference kernels (see :func:`reference_layers`).
    """

    def __init__(self, measure: Callable[[LayerSpec], Timing], references: Sequence[LayerSpec]) -> None:
        self._measure = measure
        self.references = list(references)
        self.probes: list[list[Timing]] = []  # one list per probe, one timing per reference

    def probe(self) -> list[Timing]:
        """Time every reference once more; return the timings."""
        timings = [self._measure(layer) for layer in self.references]
        self.probes.append(timings)
        return timings

    def noise(self, last: int | None = None) -> float | None:
        """The machine's noise over the last ``last`` probes (all by default); ``None`` if none."""
        probes = self.probes[-last:] if last else self.probes
        if not probes or not self.references:
            return None
        return statistics.median(kernel_noise([p[i] for p in probes]) for i in range(len(self.references)))


def noise_message(noise: float, limit: float, threads: int | None) -> str:
    """The one line that says how noisy the machine was and what to do."""
    fewer = f" (e.g. --threads {max(1, threads // 2)})" if threads and threads > 1 else ""
    return (
        f"The machine was too noisy to calibrate: reference kernels timed across the run varied by "
        f"{noise:.0%} (limit {limit:.0%}), so the table would be off by as much; nothing was kept. "
        f"Close other programs, use fewer threads{fewer}, or pass --accept-noise "
        f"({ACCEPT_NOISE_ENV}=1 for search/worker) to keep a noisy table."
    )
