"""Trials per second of a shared study with 1 and 2 worker processes on this machine.

Each run is a fresh study in one SQLite file (the latency table, calibrated once, is shared): the
shipped x2 supernet scored on the embedded Set5, latency predicted for 720p on ONNX Runtime. The
rate is complete trials over the span from the first trial's start to the last one's end, so
process start-up (imports, loading the supernet) is not counted.

Usage:
    python benchmarks/worker_throughput.py [--trials 40] [--budget-ms 400]
        [--storage sqlite:///benchmarks/results/throughput.db]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

from _report import write_json
import optuna
from optuna.trial import TrialState


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "optuna_srprune", *args, "--no-progress"]


def run(
    storage: str, study: str, workers: int, trials: int, budget: float, threads: int | None
) -> dict[str, float]:
    env = dict(os.environ)
    if threads is not None:  # torch's intra-op threads per worker process
        env["OMP_NUM_THREADS"] = str(threads)
    search = _cli(
        "search", "--storage", storage, "--study", study, "--scale", "2",
        "--budget-ms", str(budget), "--trials", str(trials), "--seed", "0",
    )  # fmt: skip
    procs = [subprocess.Popen(search, stdout=subprocess.DEVNULL, env=env)]
    while study not in optuna.get_all_study_names(storage):
        time.sleep(0.2)
    worker = _cli("worker", "--storage", storage, "--study", study)
    procs += [subprocess.Popen(worker, stdout=subprocess.DEVNULL, env=env) for _ in range(workers - 1)]
    for proc in procs:
        if proc.wait() != 0:
            raise SystemExit(f"a worker failed with status {proc.returncode}")
    done = optuna.load_study(study_name=study, storage=storage).get_trials(states=(TrialState.COMPLETE,))
    start = min(t.datetime_start for t in done if t.datetime_start)
    end = max(t.datetime_complete for t in done if t.datetime_complete)
    seconds = (end - start).total_seconds()
    return {
        "workers": workers,
        "torch_threads": threads or "default",
        "trials": len(done),
        "seconds": seconds,
        "trials_per_s": len(done) / seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=40)
    parser.add_argument("--budget-ms", type=float, default=400.0)
    parser.add_argument("--storage", default="sqlite:///benchmarks/results/throughput.db")
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    stamp = time.strftime("%H%M%S")
    # 1 and 2 workers with torch's default threads (all cores each), then with one thread each.
    cases = [(1, None), (2, None), (1, 1), (2, 1)]
    rows = [
        run(args.storage, f"throughput-{stamp}-{n}-{t}", n, args.trials, args.budget_ms, t) for n, t in cases
    ]
    for row in rows:
        print(
            f"{row['workers']} worker(s), torch threads {row['torch_threads']}: "
            f"{row['trials_per_s']:.2f} trials/s ({row['seconds']:.0f} s)"
        )
    path = write_json("worker_throughput.json", {"budget_ms": args.budget_ms, "runs": rows})
    print(f"written to {path}")


if __name__ == "__main__":
    main()
