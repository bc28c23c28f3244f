"""Train a hand-designed baseline to a plateau, resumably, across sessions.

One run is one network (ESPCN, FSRCNN or ECBSR-M4C16) at one scale and activation, on the 291 images,
with L1, Adam and a warm-up + cosine schedule of a fixed length. A compact checkpoint (weights,
optimizer, step, patch-sampler and RNG state, the Set5 curve) is written every ``--checkpoint-every``
steps, on Ctrl-C / SIGTERM and at the end, and the run resumes from it exactly: the same command
continues where the last session stopped. The curve goes to ``results/baselines/<run>.json`` after
every validation, with the plateau test of the head-to-head (the last fifth of training gains under
0.02 dB on Set5).

Run (one session's share; repeat the same command until ``done`` is true)::

    python benchmarks/train_baselines.py --model ecbsr_m4c16 --scale 2 --act relu --steps 80000 --minutes 120

A searched network is trained by the same recipe from the weights it inherits, inside a copy of its
supernet (so its ``ecb`` layers train with their re-parameterisable branches, as ECBSR's do)::

    python benchmarks/train_baselines.py --model searched --name ecbsr_latency --scale 2 \
        --config config.json --supernet checkpoints/supernet_x2_train.pt --steps 80000
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
import signal
import sys
import time
from typing import Any

from _report import SHARED_DATA
from _report import write_json
from baselines import BASELINES
from baselines import build
from baselines import CHECKPOINTS
from baselines import evaluate
from baselines import PLATEAU_DB
from baselines import plateau_gain
from baselines import run_name
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from optuna_srprune.data import PairedDataset
from optuna_srprune.data import PatchSampler
from optuna_srprune.supernet import warmup_cosine


def save(path: Path, state: dict[str, Any]) -> None:
    """Write atomically: a kill mid-write leaves the previous checkpoint intact."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


def _searched_spec(args: argparse.Namespace) -> dict[str, str] | None:
    """``name``, ``config`` (JSON text) and ``supernet`` of a searched network; None for a baseline."""
    if args.model != "searched":
        return None
    if not args.name or not args.config or not args.supernet:
        sys.exit("--model searched needs --name, --config FILE.json and --supernet CKPT.")
    return {"name": args.name, "config": Path(args.config).read_text(), "supernet": str(args.supernet)}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", choices=[*sorted(BASELINES), "searched"], required=True)
    parser.add_argument("--name", help="run name of a searched network")
    parser.add_argument("--config", help="a searched network's SubnetConfig (JSON file)")
    parser.add_argument("--supernet", help="the supernet checkpoint a searched network inherits from")
    parser.add_argument("--scale", type=int, choices=(2, 3, 4), required=True)
    parser.add_argument("--act", choices=("relu", "prelu"), default="relu")
    parser.add_argument("--steps", type=int, default=80_000, help="length of the whole schedule")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--patch-size", type=int, default=48, help="LR patch side")
    parser.add_argument("--lr", type=float, default=5e-4)
    parser.add_argument("--warmup", type=int, default=1000)
    parser.add_argument("--validate-every", type=int, default=2000)
    parser.add_argument("--checkpoint-every", type=int, default=1000)
    parser.add_argument("--minutes", type=float, default=None, help="stop (and save) after this long")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--data", nargs="+", default=[SHARED_DATA / "sr-train" / "T91", SHARED_DATA / "sr-train" / "BSD200"]
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    searched = _searched_spec(args)
    name = run_name(args.model, args.scale, args.act, searched)
    path = CHECKPOINTS / f"{name}.pt"
    if searched is not None and path.exists():  # a resumed run keeps the network it started with
        searched = torch.load(path, weights_only=True)["settings"]["searched"]
    torch.manual_seed(args.seed)
    net = build(args.model, args.scale, args.act, searched)
    optimizer = torch.optim.Adam(net.parameters(), lr=args.lr)
    sampler = PatchSampler(
        PairedDataset([str(d) for d in args.data], args.scale), args.patch_size, args.batch_size, args.seed
    )
    step, elapsed, history = 0, 0.0, []
    if path.exists():
        state = torch.load(path, weights_only=True)
        if state["settings"]["steps"] != args.steps:
            sys.exit(
                f"{path} was started with --steps {state['settings']['steps']}; "
                "resume with the same schedule."
            )
        net.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        sampler.load_state_dict(state["sampler"])
        torch.set_rng_state(state["torch_rng"])
        step, elapsed, history = state["step"], state["elapsed_s"], state["history"]
        print(f"resumed {name} at step {step} ({elapsed / 60:.0f} min trained)", file=sys.stderr)

    def checkpoint() -> None:
        save(
            path,
            {
                "model": net.state_dict(),
                "optimizer": optimizer.state_dict(),
                "sampler": sampler.state_dict(),
                "torch_rng": torch.get_rng_state(),
                "step": step,
                "elapsed_s": elapsed,
                "history": history,
                "settings": {
                    **{
                        k: (str(v) if k == "data" else v)
                        for k, v in vars(args).items()
                        if k not in ("minutes", "config", "supernet", "name")
                    },
                    "searched": searched,
                },
            },
        )

    stop = {"requested": False}
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.update(requested=True))
    deadline = None if args.minutes is None else time.monotonic() + 60 * args.minutes
    bar = tqdm(total=args.steps, initial=step, desc=name, mininterval=60, file=sys.stderr)
    net.train()
    while step < args.steps and not stop["requested"] and (deadline is None or time.monotonic() < deadline):
        start = time.perf_counter()
        lr_batch, hr_batch = next(sampler)
        for group in optimizer.param_groups:
            group["lr"] = warmup_cosine(step, args.steps, args.lr, args.warmup, 0.005)
        loss = F.l1_loss(net(lr_batch), hr_batch)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        step += 1
        elapsed += time.perf_counter() - start
        bar.update(1)
        if step % args.validate_every == 0 or step == args.steps:
            net.eval()
            with torch.no_grad():
                set5 = evaluate(net, None, args.scale)["psnr"]
            net.train()
            history.append(
                {
                    "step": step,
                    "set5": round(set5, 4),
                    "elapsed_s": round(elapsed),
                    "l1": round(loss.item(), 5),
                }
            )
            bar.write(f"{name} step {step}: Set5 {set5:.3f} dB ({elapsed / 60:.0f} min)", file=sys.stderr)
            write_json(
                f"baselines/{name}.json",
                {
                    "run": name,
                    "steps": args.steps,
                    "step": step,
                    "elapsed_s": round(elapsed),
                    "curve": history,
                    "plateau_gain_db": plateau_gain(history, args.steps),
                    "plateau_db": PLATEAU_DB,
                },
            )
        if step % args.checkpoint_every == 0:
            checkpoint()
    bar.close()
    checkpoint()
    gain = plateau_gain(history, args.steps)
    print(
        f"{name}: step {step}/{args.steps}, done={step >= args.steps}, last-fifth gain {gain} dB",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
