"""Reproduce the published bicubic baselines (Set5, Set14; x2, x3, x4) with the package's protocol.

Runs exactly what ``optuna-srprune bicubic`` runs (MATLAB-compatible bicubic shrinking and
enlarging, 8-bit rounding, PSNR/SSIM on Y with a ``scale``-pixel border) and compares the 12 figures
with the table in ``../shared/data/SOURCES.md`` (tolerance: 0.03 dB PSNR, 0.002 SSIM).

Usage:
    python benchmarks/bicubic_protocol.py [--data-root ../shared/data/sr-benchmarks]
        [--out benchmarks/results/bicubic_protocol]

``--data-root`` must hold ``Set5/HR`` and ``Set14/HR``; without it the script uses
``../shared/data/sr-benchmarks`` when it exists, else the copies in the repository (the package's Set5
and ``tests/data/Set14``).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
from pathlib import Path
import platform
import sys
import time
from typing import Any

from optuna_srprune.cli._bicubic import run_bicubic
from optuna_srprune.data import default_validation_dir
from optuna_srprune.latency import cpu_model

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "benchmarks" / "results"
SHARED = REPO.parent / "shared" / "data" / "sr-benchmarks"

PUBLISHED = {
    ("Set5", 2): (33.66, 0.9299),
    ("Set5", 3): (30.39, 0.8682),
    ("Set5", 4): (28.42, 0.8104),
    ("Set14", 2): (30.24, 0.8688),
    ("Set14", 3): (27.55, 0.7742),
    ("Set14", 4): (26.00, 0.7027),
}
PSNR_TOLERANCE = 0.03
SSIM_TOLERANCE = 0.002


def _folders(root: Path | None) -> dict[str, Path]:
    if root is None and SHARED.is_dir():
        root = SHARED
    if root is not None:
        return {name: root / name / "HR" for name in ("Set5", "Set14")}
    return {"Set5": default_validation_dir(), "Set14": REPO / "tests" / "data" / "Set14"}


def _measure(folders: dict[str, Path]) -> list[dict[str, Any]]:
    rows = []
    for (dataset, scale), (paper_psnr, paper_ssim) in sorted(PUBLISHED.items()):
        start = time.perf_counter()
        result = run_bicubic(argparse.Namespace(data=str(folders[dataset]), scale=scale, json=True))
        d_psnr, d_ssim = result["psnr"] - paper_psnr, result["ssim"] - paper_ssim
        rows.append(
            {
                "dataset": dataset,
                "scale": scale,
                "images": result["images"],
                "psnr": round(result["psnr"], 4),
                "ssim": round(result["ssim"], 5),
                "published_psnr": paper_psnr,
                "published_ssim": paper_ssim,
                "delta_psnr": round(d_psnr, 4),
                "delta_ssim": round(d_ssim, 5),
                "within_tolerance": abs(d_psnr) <= PSNR_TOLERANCE and abs(d_ssim) <= SSIM_TOLERANCE,
                "seconds": round(time.perf_counter() - start, 2),
                "per_image": [
                    {"name": r["name"], "psnr": round(r["psnr"], 4), "ssim": round(r["ssim"], 5)}
                    for r in result["per_image"]
                ],
            }
        )
        print(
            f"{dataset:<6} x{scale}: {result['psnr']:.2f} / {result['ssim']:.4f}  "
            f"(published {paper_psnr:.2f} / {paper_ssim:.4f}; delta {d_psnr:+.3f} dB, {d_ssim:+.4f})",
            flush=True,
        )
    return rows


def _markdown(report: dict[str, Any]) -> str:
    machine = report["machine"]
    lines = [
        "# Bicubic baselines: measured vs published",
        "",
        f"- command: `{report['command']}`",
        f"- date: {report['date']}",
        f"- machine: {machine['cpu']}, {machine['logical_cpus']} logical CPUs, torch {machine['torch']} "
        f"({machine['torch_threads']} threads), Python {machine['python']}",
        f"- data: {', '.join(f'{k}: `{v}`' for k, v in report['data'].items())}",
        f"- protocol: {report['protocol']}",
        f"- tolerance: {PSNR_TOLERANCE} dB PSNR, {SSIM_TOLERANCE} SSIM; "
        f"all within: {report['all_within_tolerance']}",
        "",
        "| set | scale | PSNR (dB) | published | delta | SSIM | published | delta | ok |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in report["results"]:
        lines.append(
            f"| {r['dataset']} | x{r['scale']} | {r['psnr']:.2f} | {r['published_psnr']:.2f} | "
            f"{r['delta_psnr']:+.3f} | {r['ssim']:.4f} | {r['published_ssim']:.4f} | "
            f"{r['delta_ssim']:+.4f} | {'yes' if r['within_tolerance'] else 'NO'} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", type=Path, default=None, help="folder holding Set5/HR and Set14/HR")
    parser.add_argument(
        "--out", type=Path, default=RESULTS / "bicubic_protocol", help="output path, no suffix"
    )
    args = parser.parse_args()
    import torch

    folders = _folders(args.data_root)
    results = _measure(folders)
    report = {
        "benchmark": "bicubic_protocol",
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": {
            "cpu": cpu_model(),
            "logical_cpus": os.cpu_count(),
            "torch_threads": torch.get_num_threads(),
            "torch": torch.__version__,
            "python": platform.python_version(),
        },
        "data": {name: str(path) for name, path in folders.items()},
        "protocol": (
            "HR mod-cropped to the scale; LR = MATLAB bicubic imresize (antialiased) rounded to 8 bits; "
            "SR = bicubic x scale rounded to 8 bits; PSNR/SSIM on BT.601 Y (16-235), gray files on "
            "their gray values, scale-pixel border cropped; SSIM 11x11 Gaussian sigma 1.5 on 0-255; "
            "mean over images"
        ),
        "all_within_tolerance": all(r["within_tolerance"] for r in results),
        "results": results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(report, indent=2) + "\n")
    args.out.with_suffix(".md").write_text(_markdown(report))
    print(f"all within tolerance: {report['all_within_tolerance']}; written to {args.out}.json and .md")


if __name__ == "__main__":
    main()
