"""Calibration: time every kernel a search space can produce, then fit the per-network overhead."""

from __future__ import annotations

import dataclasses
import os
import random
import time

import numpy as np

from optuna_srprune._defaults import DEFAULT_HR_SIZE
from optuna_srprune.config import layer_specs
from optuna_srprune.config import lr_size
from optuna_srprune.config import SubnetConfig
from optuna_srprune.latency._backend import LatencyBackend
from optuna_srprune.latency._malloc import release_freed_memory
from optuna_srprune.latency._predictor import overhead_context
from optuna_srprune.latency._table import LatencyTable
from optuna_srprune.search_space import SRSearchSpace


@dataclasses.dataclass(frozen=True)
class CalibrationReport:
    """What :func:`calibrate` did.

    Attributes:
        kernels: Kernels the space needs.
        measured: Kernels this call measured and stored.
        skipped: Kernels already in the table (earlier run or another worker).
        overhead: Fitted ``(intercept_ms, slope)`` of the per-network overhead, if fitted now or before.
        seconds: Wall-clock time of the call.
    """

    kernels: int
    measured: int
    skipped: int
    overhead: tuple[float, float] | None
    seconds: float


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
    repeats: int = 10,
    overhead_networks: int = 32,
    refit: bool = False,
    progress: bool = True,
) -> CalibrationReport:
    """Measure every kernel of ``space`` missing from ``table``, then fit the per-network overhead.

    Resumable: kernels already in the table are skipped, and each one is stored as soon as it is
    measured. Several processes may calibrate the same table at once: each visits the kernels in its
    own random order and re-checks the table before measuring, so they mostly share the work, and the
    table's unique constraint keeps exactly one row per kernel.

    Args:
        backend: Where to measure; its fingerprint must be the table's.
        table: Where to store.
        space: The search space whose :meth:`~SRSearchSpace.layer_universe` is measured.
        hr_size: Output size; the LR size follows from the space's scale.
        warmup: Untimed runs per kernel/network.
        repeats: Timed runs per kernel/network (the median is stored, the IQR as spread).
        overhead_networks: Networks timed end to end for the overhead fit (0: none). Refitting on random
            draws from 100 measured x2 networks (ORT, 2 cores), 16 networks gave 88-89% of
            predictions within 10% in the worst tenth of draws, 32 gave 93-94%; 32 cost about 100 s
            more at x2.
        refit: Refit the overhead even if a fit is stored.
        progress: Show tqdm progress bars (on stderr) for the kernels and the overhead fit.

    Memory stays bounded: one kernel's session lives at a time, and the overhead networks are timed
    a few at a time (see :meth:`LatencyBackend.measure_networks`).
    """
    from tqdm.auto import tqdm

    from optuna_srprune.exceptions import LatencyTableError

    if backend.fingerprint() != table.fingerprint:
        raise LatencyTableError(
            f"Back-end {backend.fingerprint()!r} cannot calibrate the table of {table.fingerprint!r}."
        )
    start = time.perf_counter()
    lr_h, lr_w = lr_size(*hr_size, space.scale)
    universe = space.layer_universe(lr_h, lr_w)
    done = set(table.timings())
    todo = [layer for layer in universe if layer.key() not in done]
    random.Random(os.getpid() ^ time.time_ns()).shuffle(todo)  # concurrent workers start apart
    measured = 0
    for layer in tqdm(
        todo, desc=f"calibrate x{space.scale} {lr_h}x{lr_w}", unit="kernel", disable=not progress
    ):
        if table.has(layer.key()):  # another worker did it meanwhile
            continue
        (timing,) = backend.measure_layers([layer], warmup=warmup, repeats=repeats)
        measured += table.add(layer.key(), timing)
        release_freed_memory()  # what the kernel's session freed (glibc keeps it otherwise)
    context = overhead_context(space.scale, lr_h, lr_w)
    overhead = table.overhead(context)
    if overhead_networks and (refit or overhead is None):
        overhead = _fit_and_store(
            backend, table, space, (lr_h, lr_w), overhead_networks, warmup, repeats, progress
        )
    return CalibrationReport(
        len(universe), measured, len(universe) - measured, overhead, time.perf_counter() - start
    )


def _fit_and_store(
    backend: LatencyBackend,
    table: LatencyTable,
    space: SRSearchSpace,
    lr: tuple[int, int],
    count: int,
    warmup: int,
    repeats: int,
    progress: bool = True,
) -> tuple[float, float] | None:
    from tqdm.auto import tqdm

    ms = {key: t.median_ms for key, t in table.timings().items()}
    networks = [layer_specs(config, *lr) for config in overhead_configs(space, count)]
    # One step per network and round: a block of n networks advances n steps per round.
    with tqdm(
        total=len(networks) * repeats,
        desc=f"overhead fit x{space.scale} {lr[0]}x{lr[1]}: timing {len(networks)} networks",
        unit="net-round",
        disable=not progress,
    ) as bar:
        try:
            timings = backend.measure_networks(
                networks, space.scale, warmup=warmup, repeats=repeats, on_round=bar.update
            )
        except NotImplementedError:
            return None  # a replay-only back-end: no overhead term
    sums = [sum(ms[layer.key()] for layer in layers) for layers in networks]
    measured = [t.median_ms for t in timings]
    intercept, slope = fit_overhead(sums, measured)
    table.set_overhead(overhead_context(space.scale, *lr), intercept, slope, len(sums))
    return intercept, slope
