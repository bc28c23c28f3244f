"""Calibration: time every kernel a search space can produce, then fit the per-network overhead."""

from __future__ import annotations

import dataclasses
import inspect
import math
import os
import random
import time

import numpy as np

from optuna_srprune._defaults import DEFAULT_HR_SIZE
from optuna_srprune.config import layer_specs
from optuna_srprune.config import LayerSpec
from optuna_srprune.config import lr_size
from optuna_srprune.config import SubnetConfig
from optuna_srprune.latency._backend import LatencyBackend
from optuna_srprune.latency._malloc import release_freed_memory
from optuna_srprune.latency._noise import noise_message
from optuna_srprune.latency._noise import NOISE_PROBE_REPEATS
from optuna_srprune.latency._noise import NoiseProbe
from optuna_srprune.latency._noise import NoisyMachineError
from optuna_srprune.latency._noise import reference_layers
from optuna_srprune.latency._noise import relative_spread
from optuna_srprune.latency._noise import resolve_max_noise
from optuna_srprune.latency._predictor import overhead_context
from optuna_srprune.latency._table import LatencyTable
from optuna_srprune.latency._timing import check_repeats
from optuna_srprune.latency._timing import NETWORK_BURST
from optuna_srprune.latency._timing import Timing
from optuna_srprune.search_space import SRSearchSpace

# Timed runs per kernel: at least DEFAULT_REPEATS, and up to DEFAULT_MAX_REPEATS until the median is
# stable (see ``_timing.STABLE_MEDIAN_SE``). Before issue 14 every kernel ran 10 times, so a kernel
# never runs more than it did, and a quiet machine stops most at 5. (A maximum of 20 made calibration
# under load 12% slower than before, x2 360x640 out: benchmarks/results/calibration_time.md.)
DEFAULT_REPEATS = 5
DEFAULT_MAX_REPEATS = 10
# Rounds (of NETWORK_BURST runs each) per overhead network: at least ceil(repeats / NETWORK_BURST)
# and, when adaptive, up to this many, the fixed count before issue 14.
OVERHEAD_MAX_ROUNDS = 10


@dataclasses.dataclass(frozen=True)
class CalibrationReport:
    """What :func:`calibrate` did.

    Attributes:
        kernels: Kernels the space needs.
        measured: Kernels this call measured and stored.
        skipped: Kernels already in the table (earlier run or another worker).
        overhead: Fitted ``(intercept_ms, slope)`` of the per-network overhead, if fitted now or before.
        seconds: Wall-clock time of the call.
        noise: The machine's noise while this call measured (see ``_noise``; 0.05 is 5%), or the
            table's stored figure when nothing was measured (``None`` if it has none).
        remeasured: Kernels timed a second time because their own spread exceeded the limit.
        repeats_mean: Mean timed runs per kernel measured (adaptive repeats), 0 if none.
        phases: Seconds spent per phase: ``noise`` (reference probes), ``kernels``, ``overhead``.
    """

    kernels: int
    measured: int
    skipped: int
    overhead: tuple[float, float] | None
    seconds: float
    noise: float | None = None
    remeasured: int = 0
    repeats_mean: float = 0.0
    phases: dict[str, float] = dataclasses.field(default_factory=dict)


def overhead_configs(space: SRSearchSpace, count: int, seed: int = 0) -> list[SubnetConfig]:
    """The networks timed end to end to fit the overhead: the smallest plus random ones.

    Random subnets are where predictions are used; the largest is left out (it would weigh as one
    point but cost as much time as all the others together).
    """
    rng = np.random.default_rng(seed)
    configs = [space.smallest()]
    while len(configs) < count:
        configs.append(space.sample(rng))
    return configs[:count]


def fit_overhead(kernel_sums_ms: list[float], measured_ms: list[float]) -> tuple[float, float]:
    """Least-squares ``measured = intercept + slope * kernel_sum``, in relative error.

    Weighted by ``1 / measured`` so small networks count as much as large ones (the acceptance
    criterion is a relative error). With one point only the intercept is fitted.
    """
    x, y = np.asarray(kernel_sums_ms, float), np.asarray(measured_ms, float)
    if len(x) == 1:
        return float(y[0] - x[0]), 1.0
    w = 1.0 / y
    design = np.stack([w, w * x], axis=1)
    (intercept, slope), *_ = np.linalg.lstsq(design, w * y, rcond=None)
    return float(intercept), float(slope)


def calibrate(
    backend: LatencyBackend,
    table: LatencyTable,
    space: SRSearchSpace,
    hr_size: tuple[int, int] = DEFAULT_HR_SIZE,
    *,
    warmup: int = 3,
    repeats: int = DEFAULT_REPEATS,
    max_repeats: int | None = DEFAULT_MAX_REPEATS,
    overhead_networks: int = 32,
    refit: bool = False,
    max_noise: float | None = None,
    progress: bool = True,
) -> CalibrationReport:
    """Measure every kernel of ``space`` missing from ``table``, then fit the per-network overhead.

    Resumable: kernels already in the table are skipped, and each one is stored as soon as it is
    measured. Several processes may calibrate the same table at once: each visits the kernels in its
    own random order and re-checks the table before measuring, so they mostly share the work, and the
    table's unique constraint keeps exactly one row per kernel.

    The machine's noise is measured along the way (reference kernels re-timed at the start, middle
    and end; see ``_noise``) and stored with the table. A kernel noisier than ``max_noise`` is timed
    again at once; if the machine's noise still exceeds ``max_noise`` at the end, calibration removes
    the kernels it stored, fits no overhead and raises :class:`NoisyMachineError`.

    Args:
        backend: Where to measure; its fingerprint must be the table's.
        table: Where to store.
        space: The search space whose :meth:`~SRSearchSpace.layer_universe` is measured.
        hr_size: Output size; the LR size follows from the space's scale.
        warmup: Untimed runs per kernel/network.
        repeats: Timed runs per kernel at least, and per overhead network (rounds); the median is
            stored, the IQR as spread.
        max_repeats: Timed runs per kernel at most: between ``repeats`` and this, a kernel is timed
            until its median is stable (its standard error, from the IQR, within 1% of it; see
            ``_timing.STABLE_MEDIAN_SE``); overhead networks likewise, in rounds of two runs, from
            ``ceil(repeats / 2)`` to ``OVERHEAD_MAX_ROUNDS`` rounds. ``None``: exactly ``repeats``.
        overhead_networks: Networks timed end to end for the overhead fit (0: none). Refitting on random
            draws from 100 measured x2 networks (ORT, 2 cores), 16 networks gave 88-89% of
            predictions within 10% in the worst tenth of draws, 32 gave 93-94%; 32 cost about 100 s
            more at x2.
        refit: Refit the overhead even if a fit is stored.
        max_noise: The noise above which the table is refused (0.05 is 5%); ``math.inf`` accepts any.
            ``None``: ``DEFAULT_MAX_NOISE``, or no limit when ``SRPRUNE_ACCEPT_NOISE=1``.
        progress: Show tqdm progress bars (on stderr) for the kernels and the overhead fit.

    Memory stays bounded: one kernel's session lives at a time, and the overhead networks are timed
    a few at a time (see :meth:`LatencyBackend.measure_networks`).
    """
    from optuna_srprune.exceptions import LatencyTableError

    if backend.fingerprint() != table.fingerprint:
        raise LatencyTableError(
            f"Back-end {backend.fingerprint()!r} cannot calibrate the table of {table.fingerprint!r}."
        )
    limit = resolve_max_noise(max_noise)
    check_repeats(warmup, repeats, max_repeats)
    start = time.perf_counter()
    lr_h, lr_w = lr_size(*hr_size, space.scale)
    universe = space.layer_universe(lr_h, lr_w)
    context = overhead_context(space.scale, lr_h, lr_w)
    done = set(table.timings())
    todo = [layer for layer in universe if layer.key() not in done]
    overhead = table.overhead(context)
    fit = bool(overhead_networks) and (refit or overhead is None)
    if not todo and not fit:  # nothing to measure: no probes either
        return CalibrationReport(len(universe), 0, len(universe), overhead, time.perf_counter() - start,
                                 table.noise(context))  # fmt: skip
    run = _KernelRun(backend, table, limit, warmup, repeats, max_repeats)
    try:
        run.measure_all(todo, universe, f"calibrate x{space.scale} {lr_h}x{lr_w}", progress)
        noise = run.final_noise()
        if noise is not None and noise > limit:
            raise NoisyMachineError(noise_message(noise, limit, getattr(backend, "threads", None)))
    except NoisyMachineError:
        table.remove(run.stored)  # leave nothing a later run would trust (an interrupted run keeps
        raise  # its kernels: they are resumed, and that run's own probes judge the machine)
    if noise is not None:
        noise = table.set_noise(context, noise, None if math.isinf(limit) else limit)
    overhead_start = time.perf_counter()
    if fit:
        overhead = _fit_and_store(
            backend, table, space, (lr_h, lr_w), overhead_networks, warmup, repeats, max_repeats, progress
        )
    run.phases["overhead"] = time.perf_counter() - overhead_start
    return CalibrationReport(
        len(universe),
        len(run.stored),
        len(universe) - len(run.stored),
        overhead,
        time.perf_counter() - start,
        noise,
        run.remeasured,
        run.repeats_mean(),
        {k: round(v, 3) for k, v in run.phases.items()},
    )


class _KernelRun:
    """The kernel phase of one calibration: what it stored, how noisy it was, where time went."""

    def __init__(
        self,
        backend: LatencyBackend,
        table: LatencyTable,
        limit: float,
        warmup: int,
        repeats: int,
        max_repeats: int | None,
    ) -> None:
        self.backend, self.table, self.limit = backend, table, limit
        self.warmup, self.repeats, self.max_repeats = warmup, repeats, max_repeats
        self.adaptive = max_repeats is not None and _accepts(backend.measure_layers, "max_repeats")
        self.stored: list[str] = []
        self.remeasured = 0
        self.runs: list[int] = []
        self.phases = {"noise": 0.0, "kernels": 0.0}
        self.probe: NoiseProbe | None = None

    def measure(self, layer: LayerSpec) -> Timing:
        """One kernel's timing, adaptive where the back-end allows."""
        extra = {"max_repeats": self.max_repeats} if self.adaptive else {}
        (timing,) = self.backend.measure_layers([layer], warmup=self.warmup, repeats=self.repeats, **extra)
        release_freed_memory()  # what the kernel's session freed (glibc keeps it otherwise)
        return timing

    def _probe(self) -> list[Timing] | None:
        """Time the references again (fixed repeats, so that probes compare)."""
        if self.probe is None:
            return None
        started = time.perf_counter()
        try:
            return self.probe.probe()
        finally:
            self.phases["noise"] += time.perf_counter() - started

    def measure_all(
        self, todo: list[LayerSpec], universe: list[LayerSpec], desc: str, progress: bool
    ) -> None:
        """Probe, time ``todo`` (probing again half-way), probe again."""
        from tqdm.auto import tqdm

        references = reference_layers(universe)
        try:
            self.probe = NoiseProbe(self._fixed, references)
            first = self._probe()
        except NotImplementedError:  # a replay-only back-end: no noise to measure
            self.probe, first = None, None
        if first is not None:  # the first probe is a measurement like any other: keep what is missing
            self._store({layer.key(): t for layer, t in zip(references, first) if layer in todo})
            todo = [layer for layer in todo if layer not in references]
        random.Random(os.getpid() ^ time.time_ns()).shuffle(todo)  # concurrent workers start apart
        started, noise_before = time.perf_counter(), self.phases["noise"]
        for i, layer in enumerate(tqdm(todo, desc=desc, unit="kernel", disable=not progress)):
            if i == len(todo) // 2 and i:
                self._probe()  # the middle probe
            if self.table.has(layer.key()):  # another worker did it meanwhile
                continue
            self._store({layer.key(): self._measure_quietly(layer)})
        probes_s = self.phases["noise"] - noise_before  # the middle probe counts as noise, not kernels
        self.phases["kernels"] += time.perf_counter() - started - probes_s
        self._probe()

    def _fixed(self, layer: LayerSpec) -> Timing:
        """A reference kernel's probe: a fixed number of runs, so that probes compare."""
        repeats = max(self.repeats, NOISE_PROBE_REPEATS)
        (timing,) = self.backend.measure_layers([layer], warmup=self.warmup, repeats=repeats)
        release_freed_memory()
        return timing

    def _measure_quietly(self, layer: LayerSpec) -> Timing:
        """Time ``layer``; once more if its own spread exceeds the limit, keeping the quieter timing."""
        timing = self.measure(layer)
        if relative_spread(timing) > self.limit:
            self.remeasured += 1
            again = self.measure(layer)
            timing = min(timing, again, key=relative_spread)
        self.runs.append(timing.repeats)
        return timing

    def _store(self, timings: dict[str, Timing]) -> None:
        for key, timing in timings.items():
            if self.table.add(key, timing):
                self.stored.append(key)

    def final_noise(self) -> float | None:
        """The noise over the probes; if above the limit, once more over the last three (with a new one)."""
        if self.probe is None:
            return None
        noise = self.probe.noise()
        if noise is not None and noise > self.limit:
            self._probe()  # a burst of load may have passed: judge the middle, end and this probe
            noise = self.probe.noise(last=3)
        return noise

    def repeats_mean(self) -> float:
        return round(sum(self.runs) / len(self.runs), 2) if self.runs else 0.0


def _accepts(method: object, name: str) -> bool:
    """Whether ``method`` takes a keyword argument ``name`` (custom back-ends may not)."""
    try:
        params = inspect.signature(method).parameters  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False
    return name in params or any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())


def _fit_and_store(
    backend: LatencyBackend,
    table: LatencyTable,
    space: SRSearchSpace,
    lr: tuple[int, int],
    count: int,
    warmup: int,
    repeats: int,
    max_repeats: int | None,
    progress: bool = True,
) -> tuple[float, float] | None:
    from tqdm.auto import tqdm

    ms = {key: t.median_ms for key, t in table.timings().items()}
    networks = [layer_specs(config, *lr) for config in overhead_configs(space, count)]
    # A round times each network NETWORK_BURST times: as many samples per network as per kernel.
    rounds = -(-repeats // NETWORK_BURST)
    max_rounds = None if max_repeats is None else max(rounds, OVERHEAD_MAX_ROUNDS)
    # One step per network and round: a block of n networks advances n steps per round.
    with tqdm(
        total=len(networks) * (max_rounds or rounds),
        desc=f"overhead fit x{space.scale} {lr[0]}x{lr[1]}: timing {len(networks)} networks",
        unit="net-round",
        disable=not progress,
    ) as bar:
        try:
            timings = backend.measure_networks(
                networks,
                space.scale,
                warmup=warmup,
                repeats=rounds,
                on_round=bar.update,
                max_repeats=max_rounds,
            )
        except NotImplementedError:
            return None  # a replay-only back-end: no overhead term
    sums = [sum(ms[layer.key()] for layer in layers) for layers in networks]
    measured = [t.median_ms for t in timings]
    intercept, slope = fit_overhead(sums, measured)
    table.set_overhead(overhead_context(space.scale, *lr), intercept, slope, len(sums))
    return intercept, slope
