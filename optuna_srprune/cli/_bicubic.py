"""``optuna-srprune bicubic``: PSNR/SSIM of bicubic upscaling, the check of the evaluation protocol."""

from __future__ import annotations

import argparse
from typing import Any
from typing import TYPE_CHECKING

from optuna_srprune.cli._common import add_json_flag
from optuna_srprune.exceptions import DataError

if TYPE_CHECKING:
    from optuna_srprune.data import Pair


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "bicubic",
        help="PSNR/SSIM of bicubic upscaling on a folder of HR images (checks the protocol)",
        description=(
            "Shrink each HR image with MATLAB-compatible bicubic resizing, enlarge it back, and score it "
            "as SR papers do (Y channel, borders cropped). The means reproduce the published bicubic rows."
        ),
    )
    parser.add_argument(
        "--data",
        metavar="DIR",
        default=None,
        help="folder of HR images (PNG, BMP, JPEG); default: the embedded Set5",
    )
    parser.add_argument("--scale", type=int, required=True, metavar="S", help="SR scale factor: 2, 3 or 4")
    add_json_flag(parser)
    parser.set_defaults(handler=run_bicubic)


def _score(pair: Pair, scale: int) -> dict[str, Any]:
    from optuna_srprune.data import imresize
    from optuna_srprune.metrics import psnr_torch
    from optuna_srprune.metrics import ssim_torch

    sr = imresize(pair.lr, scale=scale, quantize=True)
    try:
        psnr = psnr_torch(sr, pair.hr, scale, is_gray=pair.is_gray)
        ssim = ssim_torch(sr, pair.hr, scale, is_gray=pair.is_gray)
    except DataError as err:
        raise DataError(f"{pair.name}: {err}") from None
    height, width = pair.hr.shape[-2:]
    return {
        "name": pair.name,
        "height": height,
        "width": width,
        "gray": pair.is_gray,
        "psnr": psnr,
        "ssim": ssim,
    }


def _print_table(rows: list[dict[str, Any]], mean_psnr: float, mean_ssim: float, title: str) -> None:
    name_width = max([len("mean"), *(len(row["name"]) for row in rows)])
    print(title)
    print(f"{'image':<{name_width}}  {'size':>9}  {'PSNR (dB)':>9}  {'SSIM':>6}")
    for row in rows:
        size = f"{row['width']}x{row['height']}"
        print(f"{row['name']:<{name_width}}  {size:>9}  {row['psnr']:>9.2f}  {row['ssim']:>6.4f}")
    print(f"{'mean':<{name_width}}  {'':>9}  {mean_psnr:>9.2f}  {mean_ssim:>6.4f}")


def run_bicubic(args: argparse.Namespace) -> dict[str, Any]:
    """Score bicubic upscaling on every image of ``args.data`` at ``args.scale``."""
    from optuna_srprune.data import ValidationSet

    validation = ValidationSet(args.data, args.scale)
    rows = [_score(pair, validation.scale) for pair in validation]
    mean_psnr = sum(row["psnr"] for row in rows) / len(rows)
    mean_ssim = sum(row["ssim"] for row in rows) / len(rows)
    if not args.json:
        title = (
            f"bicubic x{validation.scale} on {validation.folder} (Y channel, {validation.scale}-pixel border)"
        )
        _print_table(rows, mean_psnr, mean_ssim, title)
    return {
        "command": "bicubic",
        "data": str(validation.folder),
        "scale": validation.scale,
        "images": len(rows),
        "psnr": mean_psnr,
        "ssim": mean_ssim,
        "per_image": rows,
    }
