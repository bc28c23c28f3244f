"""Where calibration's time goes: each phase of ``calibrate`` on a fresh table, timed.

Issue 14 asks for the README's main job within 5 minutes on a quiet 2-core machine, and most of it
is calibration (x2, 720p out, ONNX Runtime, 2 threads). This script calibrates into a fresh SQLite
file and records:

- ``kernels_s``: timing every kernel of the space (session creation, warm-up, timed runs);
- ``overhead_s``: timing the overhead networks end to end and fitting the overhead;
- ``noise_s``: the reference probes that measure the machine's noise (absent before issue 14);
- ``total_s``, the kernel count and the fitted overhead.

With a ``calibrate`` that reports its own phases (``CalibrationReport.phases``), those are used;
otherwise (an older checkout, via ``PYTHONPATH``) the phases are timed from outside: kernels with
``overhead_networks=0``, then the overhead alone with ``refit=True``.

Absolute times depend on load: say what ran beside it, and compare ratios from the same conditions.

Usage:
    python benchmarks/calibration_time.py [--hr-size 720x1280] [--scale 2] [--threads 2]
        [--label before] [--out calibration_time_before.json] [--accept-noise] [--repeats MIN MAX]
"""

from __future__ import annotations

import argparse
import inspect
import math
import os
from pathlib import Path
import sys
import tempfile
import time
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _report import write_json  # noqa: E402

from optuna_srprune.cli._common import hr_size  # noqa: E402


def run(
    size: tuple[int, int], scale: int, threads: int, accept_noise: bool, repeats: list[int] | None
) -> dict[str, Any]:
    """Calibrate ONNX Runtime into a fresh table and return the phase times."""
    from optuna_srprune.latency import calibrate
    from optuna_srprune.latency import LatencyTable
    from optuna_srprune.latency import OnnxRuntimeBackend
    from optuna_srprune.search_space import SRSearchSpace

    backend = OnnxRuntimeBackend(threads=threads)
    space = SRSearchSpace(scale=scale)
    with tempfile.TemporaryDirectory() as folder:
        table = LatencyTable(f"sqlite:///{folder}/t.db", backend.fingerprint())
        params = inspect.signature(calibrate).parameters
        extra: dict[str, Any] = {"max_noise": math.inf} if accept_noise and "max_noise" in params else {}
        if repeats:  # fixed counts (min, max; max 0: exactly min), e.g. what a quiet machine's rule does
            extra.update(repeats=repeats[0], max_repeats=repeats[1] or None)
        start = time.perf_counter()
        if _reports_phases():
            report = calibrate(backend, table, space, size, **extra)
            figures = {f"{k}_s": round(v, 2) for k, v in report.phases.items()}
            figures["noise"] = report.noise
            figures["repeats_mean"] = report.repeats_mean
        else:
            first = calibrate(backend, table, space, size, overhead_networks=0)
            mid = time.perf_counter()
            report = calibrate(backend, table, space, size, refit=True)
            figures = {"kernels_s": round(mid - start, 2), "overhead_s": round(time.perf_counter() - mid, 2)}
            figures["measured"] = first.measured
        figures["total_s"] = round(time.perf_counter() - start, 2)
        figures["kernels"] = report.kernels
        figures["overhead"] = report.overhead
    return figures


def _reports_phases() -> bool:
    import dataclasses

    from optuna_srprune.latency import CalibrationReport

    return "phases" in {f.name for f in dataclasses.fields(CalibrationReport)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hr-size", type=hr_size, default=(720, 1280))
    parser.add_argument("--scale", type=int, choices=(2, 3, 4), default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--label", default="run", help="what this run is (e.g. before, after)")
    parser.add_argument("--conditions", default="", help="what else ran on the machine")
    parser.add_argument("--accept-noise", action="store_true", help="do not stop on a noisy machine")
    parser.add_argument(
        "--repeats", type=int, nargs=2, default=None, metavar=("MIN", "MAX"), help="MAX 0: exactly MIN"
    )
    parser.add_argument("--out", default=None, help="file name under benchmarks/results (default: none)")
    args = parser.parse_args()
    figures = {
        "label": args.label,
        "conditions": args.conditions,
        "hr_size": list(args.hr_size),
        "scale": args.scale,
        "threads": args.threads,
        "pythonpath": os.environ.get("PYTHONPATH", ""),
        "repeats": args.repeats,
        **run(args.hr_size, args.scale, args.threads, args.accept_noise, args.repeats),
    }
    print(figures, flush=True)
    if args.out:
        print(write_json(args.out, figures))


if __name__ == "__main__":
    main()
