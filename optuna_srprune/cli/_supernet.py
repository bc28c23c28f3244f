"""``train-supernet`` and ``evaluate``: train a supernet, score one subnet with inherited weights."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path
import sys
from typing import Any

from optuna_srprune.cli._common import add_json_flag
from optuna_srprune.cli._common import finite_float
from optuna_srprune.cli._common import load_config
from optuna_srprune.cli._common import positive_float
from optuna_srprune.cli._common import positive_int
from optuna_srprune.cli._common import seed
from optuna_srprune.cli._common import threads
from optuna_srprune.config import count_macs
from optuna_srprune.config import count_params
from optuna_srprune.config import lr_size
from optuna_srprune.exceptions import ConfigError

_TRAIN_OPTIONS = {
    # flag: (TrainSettings field, type, help)
    "--batch-size": ("batch_size", positive_int, "LR patches per step (default 16)"),
    "--patch-size": ("patch_size", positive_int, "side of the LR patches in pixels (default 32)"),
    "--lr": ("lr", positive_float, "peak learning rate of Adam (default 1e-3)"),
    "--num-random": ("num_random", int, "random subnets per step besides largest and smallest (default 1)"),
    "--distill-weight": ("distill_weight", finite_float, "weight of in-place distillation (default 0.5)"),
    "--seed": ("seed", seed, "seed of weights, patches and subnet draws (default 0)"),
    "--checkpoint-every": ("checkpoint_every", positive_int, "steps between checkpoints (default 500)"),
    "--validate-every": ("validate_every", int, "steps between Set5 PSNR checks, 0: never (default 500)"),
}


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``train-supernet`` and ``evaluate`` sub-commands."""
    train = subparsers.add_parser("train-supernet", help="train a weight-sharing supernet")
    train.add_argument("--scale", type=int, required=True, choices=(2, 3, 4))
    train.add_argument(
        "--data", nargs="+", required=True, metavar="DIR", help="folders of HR training images"
    )
    train.add_argument("--steps", type=positive_int, required=True, help="total optimizer steps")
    train.add_argument("--out", required=True, metavar="CKPT", help="checkpoint file to write")
    for flag, (_, kind, text) in _TRAIN_OPTIONS.items():
        train.add_argument(flag, type=kind, default=None, help=text)
    train.add_argument("--threads", type=threads, default=None, help="CPU threads for torch")
    train.add_argument("--resume", action="store_true", help="continue from --out if it exists")
    train.add_argument(
        "--force", action="store_true", help="start afresh over an existing --out (its training is lost)"
    )
    train.add_argument(
        "--init-from",
        default=None,
        metavar="CKPT",
        help="start a new run from the weights of a supernet of another scale (all but the tail)",
    )
    add_json_flag(train)
    train.set_defaults(handler=_train)

    evaluate = subparsers.add_parser("evaluate", help="PSNR/SSIM, MACs and params of one subnet")
    evaluate.add_argument("--supernet", default="default", metavar="CKPT|default")
    evaluate.add_argument("--scale", type=int, required=True, choices=(2, 3, 4))
    evaluate.add_argument("--config", default="largest", metavar="largest|smallest|FILE.json")
    evaluate.add_argument("--data", default=None, metavar="DIR", help="HR images (default: embedded Set5)")
    evaluate.add_argument("--threads", type=threads, default=None, help="CPU threads for torch")
    add_json_flag(evaluate)
    evaluate.set_defaults(handler=_evaluate)


def _train(args: argparse.Namespace) -> dict[str, Any]:
    import torch

    from optuna_srprune.search_space import SRSearchSpace
    from optuna_srprune.supernet import SupernetTrainer
    from optuna_srprune.supernet import TrainSettings
    from optuna_srprune.supernet._checkpoint import read_checkpoint

    out = Path(args.out)
    if out.is_dir():
        raise ConfigError(f"--out {args.out!r} is a folder; give a checkpoint file name such as x2.pt.")
    if out.exists() and not (args.resume or args.force):
        raise ConfigError(
            f"--out {args.out!r} exists: pass --resume to continue its training, --force to start "
            "afresh over it, or choose another file."
        )
    if args.threads:
        torch.set_num_threads(args.threads)
    base = TrainSettings(steps=args.steps)
    if args.resume and Path(args.out).exists():
        base = TrainSettings.from_dict(read_checkpoint(args.out).get("train", base.to_dict()))
    given = {
        field: getattr(args, flag[2:].replace("-", "_")) for flag, (field, _, _) in _TRAIN_OPTIONS.items()
    }
    settings = dataclasses.replace(
        base, steps=args.steps, **{k: v for k, v in given.items() if v is not None}
    )
    space = SRSearchSpace(scale=args.scale)
    trainer = SupernetTrainer(space, args.data, args.out, settings, args.resume, init_from=args.init_from)
    result = trainer.train(progress=True)
    if not args.json:
        print(
            f"step {result['step']}/{result['steps']} in {result['elapsed_s']:.0f} s; "
            f"checkpoint {result['checkpoint']}",
            flush=True,
        )
    return result


def _evaluate(args: argparse.Namespace) -> dict[str, Any]:
    import torch

    from optuna_srprune.data import ValidationSet
    from optuna_srprune.metrics import psnr_torch
    from optuna_srprune.metrics import ssim_torch
    from optuna_srprune.supernet import SRSupernet

    if args.threads:
        torch.set_num_threads(args.threads)
    if args.supernet == "default":
        supernet = SRSupernet.pretrained(args.scale)
    else:
        supernet = SRSupernet.load(args.supernet, scale=args.scale)
    config = load_config(args.config, supernet.space)
    supernet.set_active(config)
    data = ValidationSet(args.data, args.scale)
    psnrs, ssims, macs = [], [], []
    with torch.no_grad():
        for pair in data:
            sr = supernet(pair.lr[None]).clamp(0, 1)
            psnrs.append(psnr_torch(sr, pair.hr[None], args.scale, pair.is_gray))
            ssims.append(ssim_torch(sr, pair.hr[None], args.scale, pair.is_gray))
            macs.append(count_macs(config, *pair.lr.shape[1:]))
    result = {
        "psnr": sum(psnrs) / len(psnrs),
        "ssim": sum(ssims) / len(ssims),
        "macs": round(sum(macs) / len(macs)),
        "macs_720p": count_macs(config, *lr_size(720, 1280, args.scale)),
        "params": count_params(config),
        "images": len(data),
        "data": str(data.folder),
        "scale": args.scale,
        "config": config.to_dict(),
        "summary": config.summary(),
    }
    if not args.json:
        _print_evaluation(result)
    return result


def _print_evaluation(result: dict[str, Any]) -> None:
    print(f"subnet     {result['summary']}", file=sys.stdout)
    print(f"data       {result['data']} ({result['images']} images, x{result['scale']})")
    print(f"PSNR       {result['psnr']:.2f} dB   SSIM {result['ssim']:.4f}")
    print(
        f"MACs       {result['macs'] / 1e9:.3f} G per image (mean), {result['macs_720p'] / 1e9:.2f} G at 720p"
    )
    print(f"params     {result['params']:,}", flush=True)
