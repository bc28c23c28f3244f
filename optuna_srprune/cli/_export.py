"""``export``: fine-tune a trial's network and write model.onnx, model.pt, config.json, metrics.json."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from optuna_srprune import orchestration
from optuna_srprune._defaults import DEFAULT_STORAGE
from optuna_srprune._device import resolve_device
from optuna_srprune.cli._common import add_json_flag
from optuna_srprune.cli._common import finite_float
from optuna_srprune.cli._common import non_negative_int
from optuna_srprune.cli._common import positive_float
from optuna_srprune.cli._common import positive_int
from optuna_srprune.cli._common import seed
from optuna_srprune.cli._common import study_name
from optuna_srprune.cli._common import threads
from optuna_srprune.cli._common import warnings_as_messages
from optuna_srprune.exceptions import StudyError


def register(subparsers: Any) -> None:
    """Add the ``export`` sub-command."""
    parser = subparsers.add_parser(
        "export", help="fine-tune a trial's network and export it (ONNX, weights, config, metrics)"
    )
    parser.add_argument("--storage", default=DEFAULT_STORAGE, help="SQLAlchemy database URL")
    parser.add_argument("--study", type=study_name, required=True, help="study name")
    parser.add_argument("--trial", type=non_negative_int, required=True, metavar="N", help="trial number")
    parser.add_argument("--out", required=True, metavar="DIR", help="output folder (must not exist)")
    parser.add_argument(
        "--finetune-steps",
        type=non_negative_int,
        default=1000,
        metavar="K",
        help="fine-tuning steps (default 1000; 0 exports the inherited weights)",
    )
    parser.add_argument(
        "--data",
        nargs="+",
        metavar="DIR",
        help="folders of HR training images for fine-tuning (default: the validation images, with a warning)",
    )
    parser.add_argument(
        "--lr", type=positive_float, default=1e-4, help="peak learning rate of fine-tuning (default 1e-4)"
    )
    parser.add_argument(
        "--batch-size", type=positive_int, default=16, help="LR patches per step (default 16)"
    )
    parser.add_argument(
        "--patch-size", type=positive_int, default=32, help="side of the LR patches (default 32)"
    )
    parser.add_argument(
        "--distill-weight",
        type=finite_float,
        default=0.5,
        help="weight of the L1 to the teacher (default 0.5)",
    )
    parser.add_argument("--seed", type=seed, default=0, help="seed of the training patches (default 0)")
    parser.add_argument("--threads", type=threads, default=None, help="CPU threads for torch")
    parser.add_argument("--device", default="auto", help="cpu, cuda[:N], mps or auto (default: auto)")
    parser.add_argument(
        "--force", action="store_true", help="overwrite the files of an existing --out folder"
    )
    parser.add_argument(
        "--artifact-store",
        metavar="DIR",
        help="also upload the files to this Optuna FileSystemArtifactStore folder (as study artifacts)",
    )
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")
    add_json_flag(parser)
    parser.set_defaults(handler=_export)


def _export(args: argparse.Namespace) -> dict[str, Any]:
    import torch

    from optuna_srprune.export import export_trial
    from optuna_srprune.export import FinetuneSettings

    device = resolve_device(args.device)
    if args.threads:
        torch.set_num_threads(args.threads)
    settings = FinetuneSettings(
        steps=args.finetune_steps,
        batch_size=args.batch_size,
        patch_size=args.patch_size,
        lr=args.lr,
        distill_weight=args.distill_weight,
        seed=args.seed,
    )
    study = orchestration.open_study(args.storage, args.study)
    store, created = None, None
    if args.artifact_store:
        from optuna.artifacts import FileSystemArtifactStore

        store, created = FileSystemArtifactStore(args.artifact_store), _make_folder(args.artifact_store)
    try:
        with warnings_as_messages():
            result = export_trial(
                study,
                args.trial,
                args.out,
                finetune_settings=settings,
                data=args.data,
                force=args.force,
                artifact_store=store,
                progress=not args.no_progress,
                device=device,
            )
    except BaseException:
        if created is not None:  # a failed export leaves no store folder behind
            _remove_empty(created, Path(args.artifact_store))
        raise
    if not args.json:
        _print_result(result)
    return result


def _make_folder(path: str) -> Path | None:
    """Create the artifact-store folder; the topmost folder created (``None`` if it existed)."""
    folder = Path(path)
    if folder.is_dir():
        return None
    top = folder
    while not top.parent.exists() and top.parent != top:
        top = top.parent
    try:
        folder.mkdir(parents=True)
    except OSError as err:
        raise StudyError(
            f"Cannot create the artifact store {path!r}: {err.strerror or type(err).__name__}."
        ) from None
    return top


def _remove_empty(top: Path, folder: Path) -> None:
    """Remove the empty folders from ``folder`` up to ``top``, which this command created."""
    while True:
        if not folder.is_dir() or any(folder.iterdir()):
            return
        folder.rmdir()
        if folder == top:
            return
        folder = folder.parent


def _print_result(result: dict[str, Any]) -> None:
    latency = result["latency"]
    inherited = result["inherited"]
    print(f"trial {result['trial']}  {result['summary']}")
    print(
        f"PSNR {result['psnr']:.3f} dB  SSIM {result['ssim']:.4f}  (inherited {inherited['psnr']:.3f} dB, "
        f"{result['finetune']['steps']} fine-tuning steps)"
    )
    hr = "x".join(str(v) for v in latency["hr_size"])
    print(
        f"latency {latency['measured_ms']:.2f} ms measured on {latency['backend']} at {hr} "
        f"(predicted {latency['predicted_ms']:.2f} ms)"
    )
    print(f"wrote {', '.join(Path(p).name for p in result['files'].values())} to {result['out']}")
    if result["artifacts"]:
        print(f"uploaded {len(result['artifacts'])} artifacts to the study", flush=True)
