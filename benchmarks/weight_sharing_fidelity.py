"""Weight-sharing fidelity: does the supernet rank subnets as training them alone would?

Draws ``--subnets`` random subnets of the x2 search space (seeded; ``--band-gmacs LO HI`` keeps those
whose MACs at 720p output are in the band searches target), scores each on Set5 with weights
inherited from the supernet, then fine-tunes each one alone, starting from its inherited weights, with
the same short schedule and the same patch sequence (Adam, L1, cosine), and scores it again. Reports
Kendall's tau (and Spearman's rho) between the two rankings. Writes JSON and Markdown to ``--out``
with the command, machine and date.

Run::

    python benchmarks/weight_sharing_fidelity.py --subnets 10 --steps 300 --threads 2
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
from pathlib import Path
import platform
import shlex
import sys
import time
from typing import Any

import numpy as np
from scipy import stats
import torch
import torch.nn.functional as F

from optuna_srprune.config import count_macs
from optuna_srprune.config import lr_size
from optuna_srprune.config import SubnetConfig
from optuna_srprune.data import PairedDataset
from optuna_srprune.data import PatchSampler
from optuna_srprune.data import ValidationSet
from optuna_srprune.metrics import psnr_torch
from optuna_srprune.supernet import SRNet
from optuna_srprune.supernet import SRSupernet
from optuna_srprune.supernet._supernet import ASSETS

REPO = Path(__file__).resolve().parent.parent
TRAIN = ["/work/shared/data/sr-train/T91", "/work/shared/data/sr-train/BSD200"]


def set5_psnr(net: torch.nn.Module, data: ValidationSet) -> float:
    net.eval()
    with torch.no_grad():
        values = [psnr_torch(net(p.lr[None]).clamp(0, 1), p.hr[None], data.scale, p.is_gray) for p in data]
    return sum(values) / len(values)


def fine_tune(net: SRNet, dataset: PairedDataset, args: argparse.Namespace) -> None:
    """The identical short schedule for every subnet: same seed, patches, optimizer and steps."""
    sampler = PatchSampler(dataset, args.patch_size, args.batch_size, seed=args.seed)
    optimizer = torch.optim.Adam(net.parameters(), lr=args.lr)
    net.train()
    for step in range(args.steps):
        for group in optimizer.param_groups:
            group["lr"] = args.lr * 0.5 * (1 + math.cos(math.pi * step / args.steps))
        lr, hr = next(sampler)
        loss = F.l1_loss(net(lr.contiguous(memory_format=torch.channels_last)), hr)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()


def run(args: argparse.Namespace) -> dict[str, Any]:
    path = ASSETS / "supernet_x2.pt" if args.supernet == "default" else Path(args.supernet)
    supernet = SRSupernet.load(path, scale=2)
    space, rng = supernet.space, np.random.default_rng(args.seed)
    configs: list[SubnetConfig] = []
    lr_720p = lr_size(720, 1280, 2)
    while len(configs) < args.subnets:
        config = space.sample(rng)
        gmacs = count_macs(config, *lr_720p) / 1e9
        in_band = args.band_gmacs is None or args.band_gmacs[0] <= gmacs <= args.band_gmacs[1]
        if in_band and config not in configs:
            configs.append(config)
    val, dataset = ValidationSet(None, 2), PairedDataset(args.data, 2)
    rows = []
    for i, config in enumerate(configs):
        start = time.perf_counter()
        net = supernet.extract(config)
        inherited = set5_psnr(net, val)
        fine_tune(net, dataset, args)
        tuned = set5_psnr(net, val)
        rows.append(
            {
                "config": config.to_dict(),
                "summary": config.summary(),
                "macs_set5_baby": count_macs(config, 256, 256),
                "psnr_inherited": inherited,
                "psnr_fine_tuned": tuned,
                "seconds": round(time.perf_counter() - start, 1),
            }
        )
        print(f"[{i + 1}/{len(configs)}] {config.summary()}: {inherited:.2f} -> {tuned:.2f} dB", flush=True)
    inherited_all = [r["psnr_inherited"] for r in rows]
    tuned_all = [r["psnr_fine_tuned"] for r in rows]
    return {
        "supernet": str(path),
        "settings": {k: v for k, v in vars(args).items() if k not in ("out",)},
        "subnets": rows,
        "kendall_tau": float(stats.kendalltau(inherited_all, tuned_all).statistic),
        "spearman_rho": float(stats.spearmanr(inherited_all, tuned_all).statistic),
    }


def markdown(report: dict[str, Any]) -> str:
    s = report["settings"]
    lines = [
        "# Weight-sharing fidelity (x2)",
        "",
        f"- command: `{report['command']}`",
        f"- machine: {report['machine']}",
        f"- date: {report['date']}",
        f"- supernet: `{report['supernet']}`",
        f"- fine-tune of each subnet alone, from its inherited weights: {s['steps']} Adam steps, "
        f"lr {s['lr']} "
        f"cosine, batch {s['batch_size']} x {s['patch_size']}x{s['patch_size']} LR patches, seed {s['seed']}",
        "",
        f"**Kendall tau = {report['kendall_tau']:.3f}** (target >= 0.7), Spearman rho = "
        f"{report['spearman_rho']:.3f}",
        "",
        "| subnet | Set5 PSNR inherited | after fine-tune |",
        "|---|---|---|",
    ]
    for r in report["subnets"]:
        lines.append(f"| `{r['summary']}` | {r['psnr_inherited']:.2f} | {r['psnr_fine_tuned']:.2f} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--supernet", default="default", help="x2 checkpoint path or 'default'")
    parser.add_argument("--subnets", type=int, default=10)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--patch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=2e-4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--band-gmacs", type=float, nargs=2, default=None, metavar=("LO", "HI"), help="MACs band at 720p"
    )
    parser.add_argument("--data", nargs="+", default=TRAIN)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    report = {
        "command": shlex.join([Path(sys.executable).name, *sys.argv]),
        "machine": f"{platform.node()} {platform.machine()} torch {torch.__version__}, "
        f"{args.threads} threads",
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        **run(args),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "weight_sharing_fidelity.json").write_text(json.dumps(report, indent=2) + "\n")
    (args.out / "weight_sharing_fidelity.md").write_text(markdown(report))
    print(markdown(report))


if __name__ == "__main__":
    main()
