"""The machine's noise as calibration measures it, under the load there is and with busy loops added.

Calibration refuses a table when its reference kernels, re-timed across the run, vary by more than
``DEFAULT_MAX_NOISE`` (``optuna_srprune/latency/_noise.py``). This script measures that noise figure
(:class:`~optuna_srprune.latency._noise.NoiseProbe`: ``--probes`` probes of the reference kernels of
the x2 space at 720p out, each timed as calibration times a kernel) for each thread count, first as
the machine is, then with one busy-loop process pinned to each logical CPU (what the test does).
It says nothing of a quiet machine unless run on one: record what else ran (``--conditions``).

Usage:
    python benchmarks/calibration_noise.py [--threads 1 2] [--probes 4] [--hr-size 720x1280]
        [--conditions "two trainings running"] [--out calibration_noise.json]
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
import contextlib
import os
from pathlib import Path
import subprocess
import sys
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _report import write_json  # noqa: E402

from optuna_srprune.cli._common import hr_size  # noqa: E402


@contextlib.contextmanager
def busy_loops() -> Iterator[None]:
    """One ``while :; do :; done`` shell per logical CPU, each pinned to its CPU, killed on exit."""
    cpus = sorted(os.sched_getaffinity(0))
    procs = [subprocess.Popen(["taskset", "-c", str(cpu), "sh", "-c", "while :; do :; done"]) for cpu in cpus]
    try:
        yield
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()


def measure(threads: int, size: tuple[int, int], probes: int) -> dict[str, Any]:
    """Noise figure and the reference kernels' probe medians at ``threads`` threads."""
    from optuna_srprune.config import lr_size
    from optuna_srprune.latency import OnnxRuntimeBackend
    from optuna_srprune.latency._noise import kernel_noise
    from optuna_srprune.latency._noise import NoiseProbe
    from optuna_srprune.latency._noise import reference_layers
    from optuna_srprune.search_space import SRSearchSpace

    backend = OnnxRuntimeBackend(threads=threads)
    references = reference_layers(SRSearchSpace(scale=2).layer_universe(*lr_size(*size, 2)))
    probe = NoiseProbe(lambda layer: backend.measure_layers([layer], warmup=3, repeats=10)[0], references)
    for _ in range(probes):
        probe.probe()
    per_kernel = {
        layer.key(): {
            "medians_ms": [round(p[i].median_ms, 3) for p in probe.probes],
            "iqr_over_median": [round(p[i].spread_ms / p[i].median_ms, 4) for p in probe.probes],
            "noise": round(kernel_noise([p[i] for p in probe.probes]), 4),
        }
        for i, layer in enumerate(references)
    }
    return {"noise": round(probe.noise() or 0.0, 4), "kernels": per_kernel}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--probes", type=int, default=4)
    parser.add_argument("--hr-size", type=hr_size, default=(720, 1280))
    parser.add_argument("--conditions", default="", help="what else ran on the machine")
    parser.add_argument("--out", default=None, help="file name under benchmarks/results (default: none)")
    args = parser.parse_args()
    figures: dict[str, Any] = {"conditions": args.conditions, "hr_size": list(args.hr_size), "runs": []}
    for busy in (False, True):
        for threads in args.threads:
            with busy_loops() if busy else contextlib.nullcontext():
                result = measure(threads, args.hr_size, args.probes)
            figures["runs"].append({"busy_loops": busy, "threads": threads, **result})
            print(f"busy={busy} threads={threads}: noise {result['noise']:.1%}", flush=True)
    if args.out:
        print(write_json(args.out, figures))


if __name__ == "__main__":
    main()
