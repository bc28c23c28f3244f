"""Peak resident memory of ``calibrate`` and of the README's main job, each on a fresh table.

Issue 14's targets: the main job (``search --study quickstart --scale 2 --budget-ms 100 --trials 40``
on a fresh clone, so calibration and the overhead fit included) within 2 GB, ``calibrate`` alone
within 1 GB (x2, 720p out, ONNX Runtime). Each command runs as a child process on a fresh SQLite
file; two figures are taken:

- ``peak_tree_mb``: the largest sum of RSS over the child and its descendants, sampled with psutil
  every ``--interval`` seconds (can miss a peak shorter than that);
- ``maxrss_mb``: the kernel's high-water mark of the child's resident set (``ru_maxrss`` from
  ``wait4``, what ``/usr/bin/time -v`` prints), exact but for the child process alone.

Peak memory hardly depends on load, but the ``seconds`` do: the figures say what the load average
was. Needs a quiet machine for the durations; full size takes several minutes per command.

Usage:
    python benchmarks/memory_peak.py [--hr-size 720x1280] [--trials 40] [--threads N]
        [--commands calibrate search] [--out memory_peak.json]
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
import subprocess
import sys
import tempfile
import threading
import time
from typing import Any

from _report import write_json
import psutil

from optuna_srprune.cli._common import hr_size

TARGETS_MB = {"calibrate": 1024, "search": 2048}
REPO = Path(__file__).resolve().parents[1]


def command_line(
    name: str, storage: str, size: tuple[int, int], trials: int, threads: int | None
) -> list[str]:
    """The sub-command measured: ``calibrate`` or the README's main job."""
    common = ["--storage", storage, "--hr-size", f"{size[0]}x{size[1]}", "--json"]
    if threads is not None:
        common += ["--threads", str(threads)]
    if name == "calibrate":
        return ["calibrate", "--backend", "onnxruntime", "--scale", "2", *common]
    return [
        "search", "--study", "quickstart", "--scale", "2", "--budget-ms", "100", "--trials", str(trials),
        *common,
    ]  # fmt: skip


def _tree_rss(process: psutil.Process) -> int:
    total = 0
    for member in [process, *process.children(recursive=True)]:
        try:
            total += member.memory_info().rss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    return total


def measure(argv: list[str], interval: float) -> dict[str, Any]:
    """Run ``python -m optuna_srprune ARGV`` and return its peak memory, duration and exit status."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    }
    start = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-m", "optuna_srprune", *argv],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,  # progress bars
        text=True,
    )
    peak = 0
    done = threading.Event()
    stdout: list[str] = []

    def read() -> None:
        assert child.stdout is not None
        stdout.append(child.stdout.read())
        done.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    process = psutil.Process(child.pid)
    while not done.is_set():
        try:
            peak = max(peak, _tree_rss(process))
        except psutil.NoSuchProcess:
            break
        done.wait(interval)
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    reader.join()
    return {
        "command": "optuna-srprune " + " ".join(argv),
        "exit_status": child.returncode,
        "peak_tree_mb": round(peak / 2**20, 1),
        "maxrss_mb": round(usage.ru_maxrss / 1024, 1),  # kilobytes on Linux
        "seconds": round(time.perf_counter() - start, 1),
        "last_line": (stdout[0].strip().splitlines() or [""])[-1][:500] if stdout else "",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hr-size", type=hr_size, default=(720, 1280), metavar="HxW")
    parser.add_argument("--trials", type=int, default=40, help="trials of the main job")
    parser.add_argument("--threads", type=int, help="back-end threads (default: each command's own)")
    parser.add_argument(
        "--commands", nargs="+", default=["calibrate", "search"], choices=["calibrate", "search"]
    )
    parser.add_argument("--interval", type=float, default=0.05, help="seconds between RSS samples")
    parser.add_argument("--out", default="memory_peak.json", help="file name in benchmarks/results")
    parser.add_argument("--note", default="", help="anything the reader should know (e.g. the load)")
    parser.add_argument(
        "--accept-noise",
        action="store_true",
        help="let the commands calibrate on a noisy machine (SRPRUNE_ACCEPT_NOISE=1)",
    )
    args = parser.parse_args()
    if args.accept_noise:  # inherited by the commands measured
        os.environ["SRPRUNE_ACCEPT_NOISE"] = "1"

    results = {}
    with tempfile.TemporaryDirectory(prefix="srprune-memory-") as folder:
        for name in args.commands:
            storage = f"sqlite:///{Path(folder) / (name + '.db')}"  # fresh: the whole calibration
            argv = command_line(name, storage, args.hr_size, args.trials, args.threads)
            result = measure(argv, args.interval)
            result["target_mb"] = TARGETS_MB[name]
            result["within_target"] = max(result["peak_tree_mb"], result["maxrss_mb"]) <= TARGETS_MB[name]
            results[name] = result
            print(
                f"{name:>9}: peak {result['peak_tree_mb']:.0f} MB (tree, sampled), "
                f"{result['maxrss_mb']:.0f} MB (maxrss), {result['seconds']:.0f} s, "
                f"exit {result['exit_status']}, target {TARGETS_MB[name]} MB",
                flush=True,
            )
    path = write_json(
        args.out,
        {"hr_size": list(args.hr_size), "trials": args.trials, "note": args.note, "results": results},
    )
    print(f"written to {path}")


if __name__ == "__main__":
    main()
