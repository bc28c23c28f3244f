"""The back-end interface: a device fingerprint and ways to time kernels and whole networks."""

from __future__ import annotations

import abc
from collections.abc import Callable
from collections.abc import Sequence
import functools
import gc
import os
import platform

from optuna_srprune.config import LayerSpec
from optuna_srprune.latency._malloc import release_freed_memory
from optuna_srprune.latency._timing import NETWORK_BLOCK
from optuna_srprune.latency._timing import NETWORK_BLOCK_MB
from optuna_srprune.latency._timing import NETWORK_BURST
from optuna_srprune.latency._timing import time_calls
from optuna_srprune.latency._timing import time_networks
from optuna_srprune.latency._timing import Timing

Runner = Callable[[], object]


class LatencyBackend(abc.ABC):
    """Where latency is measured: a runtime on a device, identified by a fingerprint.

    A back-end must say who it is (:meth:`fingerprint`; latency tables are keyed by it) and time
    kernels (:meth:`measure_layers`). Runtimes implement :meth:`prepare_layer` and
    :meth:`prepare_network` (each returns a zero-argument callable that runs once), and the timing
    loop is shared. A back-end that only *replays* measurements, e.g. a table taken on a phone,
    overrides :meth:`measure_layers` instead and may leave :meth:`measure_network` unimplemented (the
    predictor's per-network overhead is then zero).

    Example:

        .. code::

            from optuna_srprune.latency import LatencyBackend, Timing

            class PhoneTable(LatencyBackend):
                name = "phone"

                def __init__(self, table_ms):
                    self.table_ms = table_ms  # {LayerSpec.key(): ms}

                def fingerprint(self):
                    return "phone|pixel4|tflite-2.15|threads=4|float32"

                def measure_layers(self, layers, *, warmup=3, repeats=10):
                    return [Timing(self.table_ms[layer.key()], 0.0, 1) for layer in layers]

            backend = PhoneTable({})
            assert backend.fingerprint().startswith("phone")
    """

    name: str = "backend"

    @abc.abstractmethod
    def fingerprint(self) -> str:
        """A string naming the device, runtime and version, threads and dtype (at most 255 chars)."""

    def prepare_layer(self, layer: LayerSpec) -> Runner:
        """A callable that runs ``layer`` once as a kernel, inputs ready (override in runtimes)."""
        raise NotImplementedError(f"Back-end {self.name!r} cannot run single layers.")

    def prepare_network(self, layers: Sequence[LayerSpec], scale: int) -> Runner:
        """A callable that runs the whole network once, end to end, as deployed."""
        raise NotImplementedError(f"Back-end {self.name!r} cannot run whole networks.")

    def prepare_ops(self, ops: Sequence[str], channels: int, height: int, width: int) -> Runner:
        """A callable running a chain of elementary ops (fusion probes; see ``build_ops_model``)."""
        raise NotImplementedError(f"Back-end {self.name!r} cannot run fusion probes.")

    def measure_layers(
        self,
        layers: Sequence[LayerSpec],
        *,
        warmup: int = 3,
        repeats: int = 10,
        max_repeats: int | None = None,
    ) -> list[Timing]:
        """Time every layer as a separate kernel.

        Each is timed at least ``repeats`` times; with ``max_repeats``, until its median is stable
        (:func:`~optuna_srprune.latency._timing.median_is_stable`) or ``max_repeats`` runs. A back-end
        overriding this may leave ``max_repeats`` out: :func:`calibrate` then does not pass it.
        """
        return [time_calls(self.prepare_layer(layer), warmup, repeats, max_repeats) for layer in layers]

    def measure_network(
        self,
        layers: Sequence[LayerSpec],
        scale: int,
        *,
        warmup: int = 3,
        repeats: int = 10,
        on_round: Callable[[int], object] | None = None,
    ) -> Timing:
        """Time the whole network end to end (``repeats`` rounds of :func:`time_networks`)."""
        (timing,) = self.measure_networks([layers], scale, warmup=warmup, repeats=repeats, on_round=on_round)
        return timing

    def measure_networks(
        self,
        networks: Sequence[Sequence[LayerSpec]],
        scale: int,
        *,
        warmup: int = 3,
        repeats: int = 10,
        block: int = NETWORK_BLOCK,
        block_mb: float = NETWORK_BLOCK_MB,
        on_round: Callable[[int], object] | None = None,
        max_repeats: int | None = None,
    ) -> list[Timing]:
        """Time several networks end to end, interleaved, so that load drifts hit them all alike.

        Memory stays bounded: networks are prepared in consecutive blocks (see :func:`network_blocks`:
        at most ``block`` networks and, by estimate, ``block_mb`` MB at once; a 720p ONNX Runtime
        session with its arena holds hundreds of MB). The networks of a block are timed interleaved
        by :func:`time_networks` (warm-up, settle runs, bursts), then released, and freed memory is
        handed back before the next block is prepared. Drifts in load are thus shared within a
        block, not across blocks. ``on_round(n)`` is called after each round of a block of ``n``
        networks (``repeats`` times per block). With ``max_repeats``, a block's rounds go on until
        its networks' medians are stable, at most ``max_repeats`` (see :func:`time_interleaved`); the
        rounds it did not need are then reported at once, so a progress bar still ends full.
        """
        timings: list[Timing] = []
        for chunk in network_blocks(networks, block, block_mb):
            runners = [self.prepare_network(layers, scale) for layers in chunk]
            callback = None if on_round is None else functools.partial(on_round, len(chunk))
            try:
                block_timings = time_networks(runners, warmup, repeats, callback, max_repeats)
                timings += block_timings
                if on_round is not None and max_repeats is not None:
                    done = block_timings[0].repeats // NETWORK_BURST
                    on_round(len(chunk) * (max_repeats - done))
            finally:
                del runners  # the sessions and their arenas go with their runners
                gc.collect()
                release_freed_memory()
        return timings


def network_bytes(layers: Sequence[LayerSpec]) -> int:
    """A rough estimate of the memory a prepared network holds: 3x its largest float32 feature map.

    Measured at 720p (ORT 1.32, x2): sessions held 2.5x-4.4x their largest map.
    """
    return 3 * 4 * max(layer.out_channels * layer.height * layer.width for layer in layers)


def network_blocks(
    networks: Sequence[Sequence[LayerSpec]],
    block: int = NETWORK_BLOCK,
    block_mb: float = NETWORK_BLOCK_MB,
) -> list[list[Sequence[LayerSpec]]]:
    """``networks`` cut, in order, into blocks of at most ``block`` networks and ``block_mb`` MB.

    Memory is estimated by :func:`network_bytes`; a network larger than ``block_mb`` alone is a block
    of its own.
    """
    if block < 1 or not block_mb > 0:
        raise ValueError(f"Need block >= 1 and block_mb > 0, got {block} and {block_mb}.")
    blocks: list[list[Sequence[LayerSpec]]] = []
    used = 0.0
    for layers in networks:
        size = network_bytes(layers) / 2**20
        if not blocks or len(blocks[-1]) >= block or used + size > block_mb:
            blocks.append([])
            used = 0.0
        blocks[-1].append(layers)
        used += size
    return blocks


def default_threads() -> int:
    """All the cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


@functools.cache
def cpu_model() -> str:
    """The CPU's model name, e.g. ``"AMD EPYC"``."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown-cpu"


def check_threads(threads: int | None) -> int:
    """``threads`` or all cores; a clear error for nonsense."""
    from optuna_srprune.exceptions import ConfigError

    if threads is None:
        return default_threads()
    if not isinstance(threads, int) or threads < 1:
        raise ConfigError(f"threads must be a positive integer, got {threads!r}.")
    return threads
