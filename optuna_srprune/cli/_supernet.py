"""``train-supernet`` and ``evaluate``: train a supernet, score one subnet with inherited weights."""

from __future__ import annotations

import argparse
from collections.abc import Callable
import dataclasses
from pathlib import Path
import sys
from typing import Any

from optuna_srprune._defaults import DEFAULT_HR_SIZE
from optuna_srprune._defaults import DEFAULT_STORAGE
from optuna_srprune._device import resolve_device
from optuna_srprune.cli._common import add_json_flag
from optuna_srprune.cli._common import finite_float
from optuna_srprune.cli._common import hr_size
from optuna_srprune.cli._common import load_config
from optuna_srprune.cli._common import positive_float
from optuna_srprune.cli._common import positive_int
from optuna_srprune.cli._common import seed
from optuna_srprune.cli._common import threads
from optuna_srprune.config import count_macs
from optuna_srprune.config import count_params
from optuna_srprune.config import lr_size
from optuna_srprune.config import SCALES
from optuna_srprune.config import SubnetConfig
from optuna_srprune.exceptions import ConfigError

_TRAIN_OPTIONS = {
    # flag: (TrainSettings field, type, help)
    "--batch-size": ("batch_size", positive_int, "LR patches per step (default 16)"),
    "--patch-size": ("patch_size", positive_int, "side of the LR patches in pixels (default 48)"),
    "--lr": ("lr", positive_float, "peak learning rate of Adam (default 1e-3)"),
    "--num-random": ("num_random", int, "random subnets per step besides largest and smallest (default 1)"),
    "--distill-weight": ("distill_weight", finite_float, "weight of in-place distillation (default 0.5)"),
    "--seed": ("seed", seed, "seed of weights, patches and subnet draws (default 0)"),
    "--checkpoint-every": ("checkpoint_every", positive_int, "steps between checkpoints (default 500)"),
    "--validate-every": ("validate_every", int, "steps between Set5 PSNR checks, 0: never (default 500)"),
    "--band-share": ("band_share", finite_float, "share of random subnets drawn in the band (default 0.75)"),
    "--ema-decay": (
        "ema_decay",
        finite_float,
        "decay of the weight average, 0: none (default 0.999)",
    ),
    "--grad-clip": ("grad_clip", finite_float, "largest gradient norm of a step, 0: none (default 1.0)"),
}
_TRAIN_SWITCHES = {
    "--bf16": ("bf16", "train in bfloat16 autocast (float32 weights); faster on CPUs with AVX-512 BF16"),
}


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``train-supernet`` and ``evaluate`` sub-commands."""
    train = subparsers.add_parser("train-supernet", help="train a weight-sharing supernet")
    train.add_argument("--scale", type=int, required=True, choices=SCALES)
    train.add_argument(
        "--data", nargs="+", required=True, metavar="DIR", help="folders of HR training images"
    )
    train.add_argument("--steps", type=positive_int, required=True, help="total optimizer steps")
    train.add_argument("--out", required=True, metavar="CKPT", help="checkpoint file to write")
    for flag, (_, kind, text) in _TRAIN_OPTIONS.items():
        train.add_argument(flag, type=kind, default=None, help=text)
    for flag, (_, text) in _TRAIN_SWITCHES.items():
        train.add_argument(flag, action=argparse.BooleanOptionalAction, default=None, help=text)
    band = train.add_mutually_exclusive_group()
    band.add_argument(
        "--band-ms",
        nargs=2,
        type=finite_float,
        metavar=("LOW", "HIGH"),
        help="draw random subnets log-uniformly in this predicted latency band (the latency table of "
        "--backend/--latency-threads/--hr-size in --storage; calibrated if missing)",
    )
    band.add_argument(
        "--band-gmacs",
        nargs=2,
        type=finite_float,
        metavar=("LOW", "HIGH"),
        help="the same with a band of GMACs at --hr-size (no calibration needed)",
    )
    train.add_argument("--backend", default="onnxruntime", help="latency back-end of --band-ms")
    train.add_argument("--latency-threads", type=threads, default=2, help="its threads (default 2)")
    train.add_argument("--hr-size", type=hr_size, default=DEFAULT_HR_SIZE, help="HxW output of the band")
    train.add_argument("--storage", default=DEFAULT_STORAGE, help="database of the latency table")
    train.add_argument(
        "--channel-multiple",
        type=positive_int,
        default=None,
        help="train the space made for a back-end blocking channels by N (SRSearchSpace.for_backend; "
        "16 for ONNX Runtime on AVX-512); default: the classic space, or the checkpoint's when resuming",
    )
    train.add_argument("--threads", type=threads, default=None, help="CPU threads for torch")
    train.add_argument("--device", default="auto", help="cpu, cuda[:N], mps or auto (default: auto)")
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
    evaluate.add_argument("--scale", type=int, required=True, choices=SCALES)
    evaluate.add_argument("--config", default="largest", metavar="largest|smallest|FILE.json")
    evaluate.add_argument("--data", default=None, metavar="DIR", help="HR images (default: embedded Set5)")
    evaluate.add_argument("--threads", type=threads, default=None, help="CPU threads for torch")
    evaluate.add_argument("--device", default="cpu", help="cpu, cuda[:N], mps or auto (default: cpu)")
    add_json_flag(evaluate)
    evaluate.set_defaults(handler=_evaluate)


def _train(args: argparse.Namespace) -> dict[str, Any]:
    import torch

    from optuna_srprune.search_space import SRSearchSpace
    from optuna_srprune.supernet import SupernetTrainer
    from optuna_srprune.supernet import TrainSettings
    from optuna_srprune.supernet._checkpoint import checkpoint_space
    from optuna_srprune.supernet._checkpoint import read_checkpoint

    out = Path(args.out)
    if out.is_dir():
        raise ConfigError(f"--out {args.out!r} is a folder; give a checkpoint file name such as x2.pt.")
    if out.exists() and not (args.resume or args.force):
        raise ConfigError(
            f"--out {args.out!r} exists: pass --resume to continue its training, --force to start "
            "afresh over it, or choose another file."
        )
    device = resolve_device(args.device)
    if args.threads:
        torch.set_num_threads(args.threads)
    base = TrainSettings(steps=args.steps)
    space = SRSearchSpace(scale=args.scale)
    if args.channel_multiple is not None:
        space = SRSearchSpace.for_backend(args.scale, args.channel_multiple)
    if args.resume and Path(args.out).exists():
        ckpt = read_checkpoint(args.out)
        base = TrainSettings.from_dict(ckpt.get("train", base.to_dict()))
        if args.channel_multiple is None:  # a resumed run keeps its space (the trainer checks the scale)
            space = dataclasses.replace(checkpoint_space(ckpt, args.out), scale=args.scale)
    given = {
        field: getattr(args, flag[2:].replace("-", "_")) for flag, (field, _, _) in _TRAIN_OPTIONS.items()
    }
    given.update({field: getattr(args, flag[2:]) for flag, (field, _) in _TRAIN_SWITCHES.items()})
    given.update(_band_settings(args))
    settings = dataclasses.replace(
        base, steps=args.steps, **{k: v for k, v in given.items() if v is not None}
    )
    cost = _band_cost(settings.band_cost, args, space) if settings.band is not None else None
    trainer = SupernetTrainer(
        space, args.data, args.out, settings, args.resume, init_from=args.init_from, cost=cost, device=device
    )
    result = trainer.train(progress=True)
    if not args.json:
        print(
            f"step {result['step']}/{result['steps']} in {result['elapsed_s']:.0f} s; "
            f"checkpoint {result['checkpoint']}",
            flush=True,
        )
    return result


def _band_settings(args: argparse.Namespace) -> dict[str, Any]:
    """``band`` and ``band_cost`` from ``--band-ms`` / ``--band-gmacs`` (nothing if neither is given)."""
    size = f"{args.hr_size[0]}x{args.hr_size[1]}"
    if args.band_ms is not None:
        cost = f"ms:{args.backend}:threads={args.latency_threads}@{size}"
        return {"band": tuple(args.band_ms), "band_cost": cost}
    if args.band_gmacs is not None:
        return {"band": tuple(args.band_gmacs), "band_cost": f"gmacs@{size}"}
    return {}


def _band_cost(description: str, args: argparse.Namespace, space: Any) -> Callable[[SubnetConfig], float]:
    """The cost function a band was given in (also when resuming a run that had one)."""
    unit, _, size = description.partition("@")
    try:
        height, width = (int(v) for v in size.split("x"))
    except ValueError:
        raise ConfigError(f"Cannot rebuild the band's cost {description!r}: its size is not HxW.") from None
    if unit == "gmacs":
        lr = lr_size(height, width, space.scale)
        return lambda config: count_macs(config, *lr) / 1e9
    kind, backend, threads = (unit.split(":") + ["", "", ""])[:3]
    if kind != "ms" or not threads.startswith("threads="):
        raise ConfigError(f"Unknown band cost {description!r}; give --band-ms or --band-gmacs again.")
    from optuna_srprune.orchestration import load_predictor

    n_threads = int(threads.removeprefix("threads="))
    return load_predictor(space, args.storage, backend, n_threads, (height, width), progress=False).predict


def _evaluate(args: argparse.Namespace) -> dict[str, Any]:
    import torch

    from optuna_srprune.data import ValidationSet
    from optuna_srprune.metrics import psnr_torch
    from optuna_srprune.metrics import ssim_torch
    from optuna_srprune.supernet import SRSupernet

    device = resolve_device(args.device)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.supernet == "default":
        supernet = SRSupernet.pretrained(args.scale)
    else:
        supernet = SRSupernet.load(args.supernet, scale=args.scale)
    config = load_config(args.config, supernet.space)
    supernet.set_active(config)
    supernet.to(device)
    data = ValidationSet(args.data, args.scale)
    psnrs, ssims, macs = [], [], []
    with torch.no_grad():
        for pair in data:
            sr = supernet(pair.lr[None].to(device)).clamp(0, 1).cpu()
            psnrs.append(psnr_torch(sr, pair.hr[None], args.scale, pair.is_gray))
            ssims.append(ssim_torch(sr, pair.hr[None], args.scale, pair.is_gray))
            macs.append(count_macs(config, *pair.lr.shape[1:]))
    result = {
        "psnr": sum(psnrs) / len(psnrs),
        "ssim": sum(ssims) / len(ssims),
        "macs": round(sum(macs) / len(macs)),
        "macs_720p": count_macs(config, *lr_size(*DEFAULT_HR_SIZE, args.scale)),
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
