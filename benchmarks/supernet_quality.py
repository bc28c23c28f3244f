"""Inherited-weight quality of the shipped supernets: largest and smallest subnets on Set5 and Set14.

For each scale, the PSNR/SSIM (Y channel, ``scale`` border pixels cropped, LR by MATLAB bicubic) of the
largest and smallest subnets of the default search space, with weights inherited from the supernet,
beside bicubic upscaling and the acceptance targets. Writes JSON and Markdown to ``--out`` with the
command, machine and date.

Run::

    python benchmarks/supernet_quality.py --scales 2 4 --threads 2
    python benchmarks/supernet_quality.py --scales 2 --supernet-x2 srprune_runs/x2/supernet_x2.pt
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
from pathlib import Path
import platform
import shlex
import sys
from typing import Any

import torch

from optuna_srprune.config import count_macs
from optuna_srprune.config import count_params
from optuna_srprune.config import lr_size
from optuna_srprune.data import imresize
from optuna_srprune.data import ValidationSet
from optuna_srprune.metrics import psnr_torch
from optuna_srprune.metrics import ssim_torch
from optuna_srprune.supernet import SRSupernet
from optuna_srprune.supernet._checkpoint import read_checkpoint
from optuna_srprune.supernet._supernet import ASSETS

REPO = Path(__file__).resolve().parent.parent
SET14 = [REPO / "tests" / "data" / "Set14", Path("/work/shared/data/sr-benchmarks/Set14/HR")]
# Acceptance targets on Set5 (largest, smallest) and the published bicubic PSNR.
TARGETS = {2: (37.3, 36.0, 33.66), 4: (30.9, 29.9, 28.42)}


def score(upscale: Any, data: ValidationSet) -> dict[str, float]:
    """Mean PSNR/SSIM of ``upscale(lr NCHW) -> sr NCHW`` over ``data``."""
    psnrs, ssims = [], []
    with torch.no_grad():
        for pair in data:
            sr = upscale(pair.lr[None]).clamp(0, 1)
            psnrs.append(psnr_torch(sr, pair.hr[None], data.scale, pair.is_gray))
            ssims.append(ssim_torch(sr, pair.hr[None], data.scale, pair.is_gray))
    return {"psnr": sum(psnrs) / len(psnrs), "ssim": sum(ssims) / len(ssims)}


def checkpoint_info(path: Path) -> dict[str, Any]:
    ckpt = read_checkpoint(path)
    return {
        "path": str(path.resolve().relative_to(REPO)) if path.resolve().is_relative_to(REPO) else str(path),
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest()[:16],
        "bytes": path.stat().st_size,
        "step": ckpt.get("step"),
        "train_seconds": ckpt.get("elapsed_s"),
        "train_settings": ckpt.get("train"),
    }


def evaluate_scale(scale: int, source: str) -> dict[str, Any]:
    path = ASSETS / f"supernet_x{scale}.pt" if source == "default" else Path(source)
    supernet = SRSupernet.load(path, scale=scale)
    sets = {"Set5": ValidationSet(None, scale)}
    set14 = next((p for p in SET14 if p.is_dir()), None)
    if set14 is not None:
        sets["Set14"] = ValidationSet(set14, scale)
    rows: dict[str, Any] = {}
    for name, data in sets.items():
        rows[name] = {"bicubic": score(lambda x: imresize(x, scale=scale), data)}
        for which in ("largest", "smallest"):
            config = getattr(supernet.space, which)()
            rows[name][which] = score(lambda x, c=config: supernet(x, c), data)
    configs = {w: getattr(supernet.space, w)() for w in ("largest", "smallest")}
    costs = {
        w: {
            "summary": c.summary(),
            "params": count_params(c),
            "macs_720p": count_macs(c, *lr_size(720, 1280, scale)),
        }
        for w, c in configs.items()
    }
    largest_target, smallest_target, bicubic = TARGETS.get(scale, (None, None, None))
    set5 = rows["Set5"]
    return {
        "scale": scale,
        "checkpoint": checkpoint_info(path),
        "results": rows,
        "subnets": costs,
        "targets_set5": {"largest": largest_target, "smallest": smallest_target, "bicubic": bicubic},
        "meets_targets": largest_target is not None
        and set5["largest"]["psnr"] >= largest_target
        and set5["smallest"]["psnr"] >= smallest_target,
    }


def markdown(report: dict[str, Any]) -> str:
    lines = [
        "# Supernet quality (inherited weights)",
        "",
        f"- command: `{report['command']}`",
        f"- machine: {report['machine']}",
        f"- date: {report['date']}",
        "",
        "PSNR (dB) / SSIM on the Y channel, `scale` border pixels cropped, LR by MATLAB bicubic.",
        "",
    ]
    for entry in report["scales"]:
        scale, ckpt = entry["scale"], entry["checkpoint"]
        lines += [
            f"## x{scale}",
            "",
            f"checkpoint `{ckpt['path']}` (sha256 {ckpt['sha256']}, {ckpt['bytes'] / 1e6:.2f} MB), "
            f"step {ckpt['step']}, {float(ckpt['train_seconds'] or 0) / 3600:.2f} h of training steps",
            "",
            "| set | bicubic | largest | smallest |",
            "|---|---|---|---|",
        ]
        for name, row in entry["results"].items():
            cells = [
                f"{row[k]['psnr']:.2f} / {row[k]['ssim']:.4f}" for k in ("bicubic", "largest", "smallest")
            ]
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
        t = entry["targets_set5"]
        lines += [
            "",
            f"Set5 targets: largest >= {t['largest']}, smallest >= {t['smallest']} (bicubic {t['bicubic']}); "
            f"met: **{entry['meets_targets']}**",
            "",
        ]
        for which, cost in entry["subnets"].items():
            lines.append(
                f"- {which}: `{cost['summary']}`, {cost['params']:,} params, "
                f"{cost['macs_720p'] / 1e9:.2f} GMACs at 720p output"
            )
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scales", type=int, nargs="+", default=[2, 4])
    parser.add_argument("--supernet-x2", default="default", help="checkpoint path or 'default'")
    parser.add_argument("--supernet-x4", default="default", help="checkpoint path or 'default'")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results")
    parser.add_argument("--name", default="supernet_quality", help="base name of the result files")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    sources = {2: args.supernet_x2, 4: args.supernet_x4}
    report = {
        "command": shlex.join([Path(sys.executable).name, *sys.argv]),
        "machine": f"{platform.node()} {platform.machine()} {platform.processor() or ''} "
        f"torch {torch.__version__}, {args.threads} threads".strip(),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "scales": [evaluate_scale(s, sources.get(s, "default")) for s in args.scales],
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{args.name}.json").write_text(json.dumps(report, indent=2) + "\n")
    (args.out / f"{args.name}.md").write_text(markdown(report))
    print(markdown(report))


if __name__ == "__main__":
    main()
