"""Where the long training runs stand: the PSNR curves and the time spent, from their checkpoints.

Reads the resumable checkpoints of the supernet runs (``benchmarks/checkpoints/*_train.pt``) and of
the baselines (``results/baselines/*.pt``) and writes ``results/training_progress.{json,md}``. Run it
at the end of every session that trained (nothing is trained here)::

    python benchmarks/training_progress.py --note "session 4: 2 vCPUs shared with the test suite"
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from _report import RESULTS
from _report import write_json
from baselines import CHECKPOINTS as BASELINE_CHECKPOINTS
from baselines import plateau_gain
import torch

SUPERNET_CHECKPOINTS = Path(__file__).resolve().parent / "checkpoints"


def supernet_run(path: Path) -> dict[str, Any]:
    ckpt = torch.load(path, map_location="cpu", weights_only=True)
    return {
        "run": path.stem,
        "step": ckpt["step"],
        "steps": ckpt["train"]["steps"],
        "elapsed_s": round(ckpt.get("elapsed_s", 0.0)),
        "settings": ckpt["train"],
        "curve": ckpt.get("history", []),
    }


def baseline_run(path: Path) -> dict[str, Any]:
    state = torch.load(path, map_location="cpu", weights_only=True)
    steps = state["settings"]["steps"]
    return {
        "run": path.stem,
        "step": state["step"],
        "steps": steps,
        "elapsed_s": round(state["elapsed_s"]),
        "plateau_gain_db": plateau_gain(state["history"], steps),
        "curve": state["history"],
    }


def _markdown(result: dict[str, Any]) -> str:
    lines = [
        "# Long training runs: where they stand",
        "",
        f"- command: `{result['command']}`; date: {result['date']}; machine: {result['machine']}",
        f"- note: {result['note']}",
        "",
        "## Supernets (Set5 PSNR of the moving-average weights, dB)",
        "",
        "| run | step | minutes | largest | smallest | teacher | in-band probes |",
        "|---|---|---|---|---|---|---|",
    ]
    for run in result["supernets"]:
        for h in run["curve"]:
            band = " / ".join(f"{v:.2f}" for k, v in sorted(h.items()) if k.startswith("psnr_band"))
            teacher = f"{h['psnr_teacher']:.2f}" if "psnr_teacher" in h else ""
            lines.append(
                f"| {run['run']} | {h['step']} of {run['steps']} | {h['elapsed_s'] / 60:.0f} "
                f"| {h['psnr_largest']:.2f} | {h['psnr_smallest']:.2f} | {teacher} | {band} |"
            )
    lines += ["", "## Baselines (Set5 PSNR, dB)", "", "| run | step | minutes | Set5 |", "|---|---|---|---|"]
    for run in result["baselines"]:
        for h in run["curve"][-5:]:
            minutes = h["elapsed_s"] / 60
            lines.append(
                f"| {run['run']} | {h['step']} of {run['steps']} | {minutes:.0f} | {h['set5']:.3f} |"
            )
        gain = run["plateau_gain_db"]
        lines.append(f"| {run['run']}: last-fifth gain | {'-' if gain is None else f'{gain:+.3f} dB'} | | |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--note", default="", help="what else ran on the machine, which session")
    args = parser.parse_args()
    result = {
        "note": args.note,
        "supernets": [supernet_run(p) for p in sorted(SUPERNET_CHECKPOINTS.glob("*_train.pt"))],
        "baselines": [baseline_run(p) for p in sorted(BASELINE_CHECKPOINTS.glob("*.pt"))],
    }
    path = write_json("training_progress.json", result)
    (RESULTS / "training_progress.md").write_text(_markdown(json.loads(path.read_text())))
    print((RESULTS / "training_progress.md").read_text())


if __name__ == "__main__":
    main()
