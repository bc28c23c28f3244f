"""Speed of the MATLAB-compatible bicubic ``imresize`` on CPU.

The figure the issue asks for: resizing a 1280x720 RGB image by 0.5 must take under 0.2 s. Also
times the other resizes the package does (x2/x3/x4 shrinking and enlarging of a 720p frame, a batch
of training-size images), first call (weights built) and cached calls (median), and building the
x4 LR images of the 291 training images (T91 + BSD200) with ``PairedDataset`` when they are there.

Usage:
    python benchmarks/imresize_speed.py [--repeats 10] [--threads N] [--train-root DIR]
        [--out benchmarks/results/imresize_speed.json]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
from pathlib import Path
import platform
import statistics
import sys
import time
from typing import Any

import torch

from optuna_srprune.data import imresize
from optuna_srprune.data import PairedDataset
from optuna_srprune.data._imresize import _weight_matrix
from optuna_srprune.data._imresize import _weight_tensor
from optuna_srprune.latency import cpu_model

RESULTS = Path(__file__).resolve().parent / "results"
TRAIN_ROOT = Path(__file__).resolve().parents[2] / "shared" / "data" / "sr-train"

# (label, input shape NCHW, scale)
CASES = [
    ("1280x720 RGB x0.5 (the target)", (1, 3, 720, 1280), 0.5),
    ("1280x720 RGB x1/3", (1, 3, 720, 1280), 1 / 3),
    ("1280x720 RGB x0.25", (1, 3, 720, 1280), 0.25),
    ("640x360 RGB x2", (1, 3, 360, 640), 2.0),
    ("427x240 RGB x3", (1, 3, 240, 427), 3.0),
    ("320x180 RGB x4", (1, 3, 180, 320), 4.0),
    ("batch 16 x 3 x 192x192 x0.25", (16, 3, 192, 192), 0.25),
]


def _load_average() -> list[float] | None:
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except OSError:
        return None


def _time_case(shape: tuple[int, ...], scale: float, repeats: int) -> dict[str, Any]:
    x = torch.rand(shape)
    _weight_matrix.cache_clear()
    _weight_tensor.cache_clear()
    start = time.perf_counter()
    out = imresize(x, scale=scale)
    first = time.perf_counter() - start
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        imresize(x, scale=scale)
        times.append(time.perf_counter() - start)
    return {
        "input": list(shape),
        "output": list(out.shape),
        "scale": scale,
        "first_call_s": round(first, 5),
        "median_s": round(statistics.median(times), 5),
        "min_s": round(min(times), 5),
    }


def _time_dataset(root: Path) -> dict[str, Any] | None:
    folders = [root / "T91", root / "BSD200"]
    if not all(folder.is_dir() for folder in folders):
        return None
    start = time.perf_counter()
    dataset = PairedDataset(folders, scale=4)
    seconds = time.perf_counter() - start
    return {
        "folders": [str(f) for f in folders],
        "scale": 4,
        "images": len(dataset),
        "seconds": round(seconds, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's own)")
    parser.add_argument("--train-root", type=Path, default=TRAIN_ROOT, help="folder holding T91/ and BSD200/")
    parser.add_argument("--out", type=Path, default=RESULTS / "imresize_speed.json")
    args = parser.parse_args()
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    load_before = _load_average()
    cases = []
    for label, shape, scale in CASES:
        result = {"case": label, **_time_case(shape, scale, args.repeats)}
        cases.append(result)
        print(
            f"{label:<32} first {result['first_call_s']:.4f} s   median {result['median_s']:.4f} s",
            flush=True,
        )
    target = cases[0]
    dataset = _time_dataset(args.train_root)
    if dataset is not None:
        print(f"PairedDataset x4 on {dataset['images']} images: {dataset['seconds']:.1f} s", flush=True)
    report = {
        "benchmark": "imresize_speed",
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": {
            "cpu": cpu_model(),
            "logical_cpus": os.cpu_count(),
            "torch_threads": torch.get_num_threads(),
            "torch": torch.__version__,
            "python": platform.python_version(),
            "load_average_before": load_before,
            "load_average_after": _load_average(),
        },
        "target": {
            "case": target["case"],
            "median_s": target["median_s"],
            "limit_s": 0.2,
            "passes": target["median_s"] < 0.2,
        },
        "cases": cases,
        "paired_dataset_load": dataset,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"target: {target['median_s']:.4f} s (limit 0.2 s); written to {args.out}")


if __name__ == "__main__":
    main()
