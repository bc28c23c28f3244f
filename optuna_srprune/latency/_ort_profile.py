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
from typing import Any

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


def profile_runs(make_session: Any, feeds: dict[str, Any], warmup: int, repeats: int) -> list[float]:
    """Kernel time (ms) of each of ``repeats`` runs after ``warmup``, from a profiled session."""
    with tempfile.TemporaryDirectory(prefix="srprune-ortprof-") as folder:
        session = make_session(profile_prefix=str(Path(folder) / "profile"))
        for _ in range(warmup + repeats):
            session.run(None, feeds)
        path = session.end_profiling()
        events = json.loads(Path(path).read_text())
        os.remove(path)
    per_run = kernel_times_us(events)
    return [us / 1e3 for us in per_run[-repeats:]]
