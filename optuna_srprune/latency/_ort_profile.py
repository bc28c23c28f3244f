"""Timing a layer's own kernels inside ONNX Runtime, from its per-node profile.

Timing a one-layer graph by wall clock overstates the layer: ORT runs convolutions in a blocked
channel layout (NCHWc) and converts at the graph's borders (``ReorderInput``/``ReorderOutput``),
which for a 32-channel 640x360 map costs as much as a small conv. Inside a network those conversions
happen once, at its ends, and belong to the per-network overhead. So a layer's latency is the sum of
the kernel times ORT's profiler reports for the nodes the layer becomes, without the conversions.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
import tempfile
import time
from typing import Any

from optuna_srprune.latency._timing import check_repeats
from optuna_srprune.latency._timing import median_is_stable

_LAYOUT_CONVERSIONS = frozenset({"ReorderInput", "ReorderOutput"})


def kernel_times_us(profile_events: list[dict[str, Any]]) -> list[float]:
    """Per run, the summed kernel time (us) of every node but the layout conversions.

    Runs are delimited by the profiler's ``model_run`` events.
    """
    runs: list[float] = []
    current = 0.0
    for event in profile_events:
        if event.get("cat") == "Session" and event.get("name") == "model_run":
            runs.append(current)
            current = 0.0
        elif (
            event.get("cat") == "Node"
            and str(event.get("name", "")).endswith("_kernel_time")
            and event.get("args", {}).get("op_name") not in _LAYOUT_CONVERSIONS
        ):
            current += float(event["dur"])
    return runs


def profile_runs(
    make_session: Any, feeds: dict[str, Any], warmup: int, repeats: int, max_repeats: int | None = None
) -> list[float]:
    """Kernel time (ms) of each timed run after ``warmup``, from a profiled session.

    At least ``repeats`` runs are timed; with ``max_repeats``, runs go on until the median is stable
    (:func:`median_is_stable`). The profile can only be read once the session stops profiling, so
    the stopping rule reads each run's wall-clock time, which moves with its kernel time.
    """
    check_repeats(warmup, repeats, max_repeats)
    with tempfile.TemporaryDirectory(prefix="srprune-ortprof-") as folder:
        session = make_session(profile_prefix=str(Path(folder) / "profile"))
        for _ in range(warmup):
            session.run(None, feeds)
        wall_ms: list[float] = []
        while not median_is_stable(wall_ms, repeats, max_repeats):
            start = time.perf_counter()
            session.run(None, feeds)
            wall_ms.append((time.perf_counter() - start) * 1e3)
        path = session.end_profiling()
        events = json.loads(Path(path).read_text())
        os.remove(path)
    per_run = kernel_times_us(events)
    return [us / 1e3 for us in per_run[-len(wall_ms) :]]
