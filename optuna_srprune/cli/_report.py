"""``report``: one self-contained HTML page of a study, and its figure saved for optuna-dashboard."""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

import optuna

from optuna_srprune import orchestration
from optuna_srprune._defaults import DEFAULT_STORAGE
from optuna_srprune.cli._common import add_json_flag
from optuna_srprune.cli._common import log
from optuna_srprune.cli._common import positive_int
from optuna_srprune.cli._common import study_name
from optuna_srprune.exceptions import DataError
from optuna_srprune.exceptions import MissingDependencyError
from optuna_srprune.exceptions import StudyError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "report",
        help="write an HTML page of a study: Pareto front, its table, image crops of the top models",
        description=(
            "Write one self-contained HTML page (nothing fetched from the network) with the study's "
            "Pareto front, a table of it, and crops of a validation image upscaled by bicubic and by the "
            "top models of the front. Also saves the Pareto figure into the study for optuna-dashboard."
        ),
    )
    parser.add_argument("--storage", default=DEFAULT_STORAGE, help="SQLAlchemy database URL")
    parser.add_argument("--study", type=study_name, required=True, help="study name")
    parser.add_argument("--out", required=True, metavar="FILE.html", help="the HTML file to write")
    parser.add_argument(
        "--crops", type=int, default=2, metavar="K", help="crops of the image to show (0: no images)"
    )
    parser.add_argument(
        "--models", type=positive_int, default=3, metavar="M", help="models of the front to compare"
    )
    parser.add_argument("--crop-size", type=positive_int, default=96, metavar="PX", help="crop side")
    parser.add_argument(
        "--image", metavar="PATH", help="image to compare on (default: first of the validation set)"
    )
    parser.add_argument("--budget-ms", type=float, help="judge feasibility by this budget instead")
    add_json_flag(parser)
    parser.set_defaults(handler=_report)


def save_figure(study: optuna.Study) -> bool:
    """Save the Pareto figure for optuna-dashboard; ``False`` (and no error) where it cannot be."""
    from optuna_srprune.visualization import save_to_dashboard

    try:
        save_to_dashboard(study)
    except (MissingDependencyError, StudyError):  # no optuna-dashboard, or nothing to plot yet
        return False
    except optuna.exceptions.StorageInternalError:  # another worker saving it at the same moment
        return False
    return True


def _report(args: argparse.Namespace) -> dict[str, Any]:
    from optuna_srprune import visualization as vis

    if args.crops < 0:
        raise StudyError(f"--crops must be 0 or more, got {args.crops}.")
    if args.budget_ms is not None and not 0 < args.budget_ms < math.inf:
        raise StudyError(f"The latency budget must be positive and finite, got {args.budget_ms} ms.")
    vis.check_output_path(args.out)
    _check_not_an_input(args)
    study = orchestration.open_study(args.storage, args.study)
    points, _ = vis.trial_points(study, args.budget_ms)
    front = _each_network_once(vis.pareto_front(points))
    models = vis.spread_over_latency(front, args.models) if args.crops else []
    comparison = _comparison(study, models, args.image) if models else None
    vis.write_report(
        study,
        args.out,
        comparison,
        n_crops=args.crops,
        crop_size=args.crop_size,
        budget_ms=args.budget_ms,
    )
    saved = save_figure(study)
    log(args, f"Wrote {args.out}: {len(points)} complete trials, {len(front)} on the Pareto front.")
    if comparison is not None:
        shown = ", ".join(str(p.number) for p in models)
        log(args, f"Image comparison on {comparison.name!r}: bicubic and trials {shown}.")
    if saved:
        log(args, "Saved the Pareto figure into the study for optuna-dashboard.")
    return {
        "out": str(Path(args.out).resolve()),
        "study": study.study_name,
        "complete_trials": len(points),
        "pareto_front": [p.number for p in front],
        "compared_trials": [p.number for p in models],
        "image": None if comparison is None else comparison.name,
        "dashboard_figure": saved,
    }


def _each_network_once(front: list[Any]) -> list[Any]:
    """The front with a network repeated by several trials (same results) listed at its first trial."""
    seen: set[str] = set()
    kept = []
    for point in sorted(front, key=lambda p: (p.latency_ms, p.number)):
        if point.config is not None:
            if point.config in seen:
                continue
            seen.add(point.config)
        kept.append(point)
    return kept


def _check_not_an_input(args: argparse.Namespace) -> None:
    """Refuse an ``--out`` that is the study's database or the ``--image``: they would be destroyed."""
    import os

    from optuna_srprune.orchestration._storage import sqlite_file

    out = Path(args.out)
    if not out.exists():
        return
    for name, path in (("the study's database", sqlite_file(args.storage)), ("--image", args.image)):
        if path is not None and Path(path).exists() and os.path.samefile(out, path):
            raise DataError(f"--out {args.out!r} is {name}; writing the report would destroy it.")


def _comparison(study: optuna.Study, models: list[Any], image: str | None) -> Any:
    """Run the chosen models (the supernet's subnets) and bicubic on one validation image."""
    import torch

    from optuna_srprune.config import receptive_radius
    from optuna_srprune.config import SubnetConfig
    from optuna_srprune.data import default_validation_dir
    from optuna_srprune.data import imresize
    from optuna_srprune.data import list_images
    from optuna_srprune.data import make_lr
    from optuna_srprune.data import modcrop
    from optuna_srprune.data import read_image
    from optuna_srprune.evaluation import upscale_tiled
    from optuna_srprune.visualization import ImageComparison

    settings = orchestration.load_settings(study)
    scale = settings.scale
    path = Path(image) if image else list_images(settings.val_data or default_validation_dir())[0]
    picture = read_image(path)
    height, width = picture.pixels.shape[:2]
    if height < scale or width < scale:
        raise DataError(
            f"The image {str(path)!r} ({width}x{height}) is smaller than the scale x{scale}; "
            "give a larger --image."
        )
    hr = modcrop(picture.pixels, scale)
    lr = make_lr(hr, scale)
    bicubic = imresize(lr, size=hr.shape[:2], quantize=True).clamp(0, 1)
    supernet = orchestration.load_supernet(settings.scale, settings.supernet).eval()
    outputs = {}
    with torch.inference_mode():
        for point in models:
            config = SubnetConfig.from_json(point.config)
            supernet.set_active(config)
            sr = upscale_tiled(supernet, lr[None], scale, 256, receptive_radius(config))[0].clamp(0, 1)
            outputs[f"Trial {point.number} ({point.latency_ms:.3g} ms)"] = sr.permute(1, 2, 0).numpy()
    return ImageComparison(
        name=picture.name,
        scale=scale,
        hr=hr,
        bicubic=bicubic.permute(1, 2, 0).numpy(),
        outputs=outputs,
        is_gray=picture.is_gray,
    )
