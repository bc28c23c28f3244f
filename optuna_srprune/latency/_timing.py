"""Wall-clock timing with warm-up, repeats, median and spread."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Sequence
import dataclasses
import math
import statistics
import time


@dataclasses.dataclass(frozen=True)
class Timing:
    """The latency of something run ``repeats`` times after a warm-up.

    Attributes:
        median_ms: Median wall-clock time in milliseconds.
        spread_ms: Inter-quartile range in milliseconds (the measurement noise).
        repeats: Number of timed runs.
    """

    median_ms: float
    spread_ms: float
    repeats: int


def summarize(samples_ms: list[float]) -> Timing:
    """Median and inter-quartile range of ``samples_ms``."""
    if not samples_ms:
        raise ValueError("No timing samples.")
    if len(samples_ms) < 4:
        spread = max(samples_ms) - min(samples_ms)
    else:
        q1, _, q3 = statistics.quantiles(samples_ms, n=4)
        spread = q3 - q1
    return Timing(statistics.median(samples_ms), spread, len(samples_ms))


# Adaptive repeats: a kernel is timed at least ``repeats`` times and then until its median is
# stable, i.e. the median's standard error, estimated from the IQR, is at most this share of it (or
# ``max_repeats`` is reached). For normal noise the median's standard error is about
# 1.2533 * sigma / sqrt(n) and sigma = IQR / 1.349, hence 0.93 * IQR / sqrt(n). So a kernel stops at
# 5 runs when its IQR is within 2.4% of its median, at 8 within 3%, at 10 within 3.4%; on a quiet
# machine kernels' IQRs are 1-3%, so most stop early. Under load (IQR 10-50%) it times up to
# ``max_repeats``, where the median is what it can be.
STABLE_MEDIAN_SE = 0.01


def median_standard_error(samples_ms: Sequence[float]) -> float:
    """The standard error of the median of ``samples_ms``, estimated from their IQR (see above)."""
    timing = summarize(list(samples_ms))
    return 0.93 * timing.spread_ms / math.sqrt(timing.repeats)


def median_is_stable(samples_ms: Sequence[float], repeats: int, max_repeats: int | None) -> bool:
    """Whether timing may stop: ``repeats`` samples and a stable median, or ``max_repeats`` samples."""
    n = len(samples_ms)
    if n < repeats:
        return False
    if max_repeats is None or n >= max_repeats:
        return True
    median = statistics.median(samples_ms)
    return median > 0 and median_standard_error(samples_ms) <= STABLE_MEDIAN_SE * median


def check_repeats(warmup: int, repeats: int, max_repeats: int | None) -> None:
    """A clear error for a nonsense warm-up or repeat count."""
    if repeats < 1 or warmup < 0 or (max_repeats is not None and max_repeats < repeats):
        raise ValueError(
            f"Need repeats >= 1, warmup >= 0 and max_repeats >= repeats, got {repeats}, {warmup}, "
            f"{max_repeats}."
        )


def time_calls(fn: Callable[[], object], warmup: int, repeats: int, max_repeats: int | None = None) -> Timing:
    """Call ``fn`` ``warmup`` times untimed, then at least ``repeats`` times timed.

    With ``max_repeats``, timing goes on until the median is stable (:func:`median_is_stable`).
    """
    check_repeats(warmup, repeats, max_repeats)
    for _ in range(warmup):
        fn()
    samples: list[float] = []
    while not median_is_stable(samples, repeats, max_repeats):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1e3)
    return summarize(samples)


def time_interleaved(
    fns: list[Callable[[], object]],
    warmup: int,
    repeats: int,
    *,
    settle: int = 0,
    settle_ms: float = 0.0,
    burst: int = 1,
    on_round: Callable[[], object] | None = None,
    max_repeats: int | None = None,
) -> list[Timing]:
    """Time several callables round-robin, so slow drifts in machine load hit them all alike.

    Each round gives every callable untimed calls, at least ``settle`` of them and until at least
    ``settle_ms`` have passed, then ``burst`` timed ones in a row: the untimed calls absorb what
    switching from the previous callable costs (cold caches, another thread pool still spinning),
    which would otherwise land on whichever callable runs next. A callable's timing has
    ``repeats * burst`` samples. ``on_round`` (e.g. a progress bar's update) is called after each
    round, outside the timed calls. With ``max_repeats``, rounds go on after ``repeats`` until every
    callable's median is stable (:func:`median_is_stable`), at most ``max_repeats`` rounds.
    """
    check_repeats(warmup, repeats, max_repeats)
    if settle < 0 or settle_ms < 0 or burst < 1:
        raise ValueError(
            f"Need repeats >= 1, warmup >= 0, settle >= 0, settle_ms >= 0 and burst >= 1, got "
            f"{repeats}, {warmup}, {settle}, {settle_ms}, {burst}."
        )
    for fn in fns:
        for _ in range(warmup):
            fn()
    samples: list[list[float]] = [[] for _ in fns]
    low, high = repeats * burst, None if max_repeats is None else max_repeats * burst
    while not all(median_is_stable(out, low, high) for out in samples):
        for fn, out in zip(fns, samples):
            _settle(fn, settle, settle_ms)
            for _ in range(burst):
                start = time.perf_counter()
                fn()
                out.append((time.perf_counter() - start) * 1e3)
        if on_round is not None:
            on_round()
    return [summarize(s) for s in samples]


def _settle(fn: Callable[[], object], calls: int, ms: float) -> None:
    start = time.perf_counter()
    done = 0
    while done < calls or (time.perf_counter() - start) * 1e3 < ms:
        fn()
        done += 1


# How whole networks are timed: round-robin over the networks compared; in each round a network runs
# untimed (once, and for at least 60 ms: it pays for the switch from the previous network: cold
# caches, the previous ONNX Runtime session's pool threads still spinning) and then twice timed.
# Measured on 2 cores, ORT spinning: one 27 ms settling run left a 27 ms network 10-35% slower than
# when run back to back; two runs (or 60 ms) brought it within 3%, while 400 ms networks need one.
NETWORK_SETTLE = 1
NETWORK_SETTLE_MS = 60.0
NETWORK_BURST = 2
# How many networks are prepared at once (ONNX Runtime sessions with their memory arenas, torch
# modules with their buffers) when many are timed: at most NETWORK_BLOCK, and no more than fit in
# NETWORK_BLOCK_MB by an estimate of 3x a network's largest feature map. At x2, 720p out (ORT 1.32),
# one session held 50 MB to 370 MB, so the 32 networks of the overhead fit held about 10 GB at once.
# With these limits the 32 fall into about 23 blocks of 1 to 3, and timing them peaked at 758 MB
# resident for the whole process (maxrss; 2 threads, 1 round each, a loaded machine): ORT's arena
# grows in doubling chunks, so a block can hold up to about twice its estimate. A larger limit means
# more interleaving but more memory: 640 MB gave blocks of 4 at 360x640 out, and calibrate peaked at
# 713 MB there. Networks are timed interleaved within a block, block after block (see
# ``LatencyBackend.measure_networks``).
NETWORK_BLOCK = 4
NETWORK_BLOCK_MB = 400.0


def time_networks(
    runners: list[Callable[[], object]],
    warmup: int = 3,
    repeats: int = 10,
    on_round: Callable[[], object] | None = None,
    max_repeats: int | None = None,
) -> list[Timing]:
    """End-to-end latency of whole networks, each ``runner`` running one once, by the protocol above.

    ``on_round`` is called after each round; with ``max_repeats``, rounds are adaptive (see
    :func:`time_interleaved`).

    Example:
        >>> (timing,) = time_networks([lambda: sum(range(1000))], warmup=1, repeats=3)
        >>> timing.repeats
        6
    """
    return time_interleaved(
        runners,
        warmup,
        repeats,
        settle=NETWORK_SETTLE,
        settle_ms=NETWORK_SETTLE_MS,
        burst=NETWORK_BURST,
        on_round=on_round,
        max_repeats=max_repeats,
    )
