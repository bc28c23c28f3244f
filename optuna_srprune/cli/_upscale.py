"""``upscale``: upscale an image or a folder of images with an exported model on ONNX Runtime."""

from __future__ import annotations

import argparse
from typing import Any

from optuna_srprune.cli._common import add_json_flag
from optuna_srprune.cli._common import non_negative_int
from optuna_srprune.cli._common import threads
from optuna_srprune.cli._common import warnings_as_messages
from optuna_srprune.config import SCALES


def register(subparsers: Any) -> None:
    """Add the ``upscale`` sub-command."""
    parser = subparsers.add_parser(
        "upscale", help="upscale an image or a folder of images with an exported model"
    )
    parser.add_argument(
        "model", metavar="MODEL", help="model.onnx, or the folder `optuna-srprune export` wrote"
    )
    parser.add_argument("input", metavar="IN", help="an image file (PNG, BMP, JPEG) or a folder of images")
    parser.add_argument(
        "output", metavar="OUT", help="output image file or folder (a folder IN gives a folder of PNG files)"
    )
    parser.add_argument(
        "--tile",
        type=non_negative_int,
        default=256,
        metavar="N",
        help="LR tile side in pixels, margins included (default 256; 0: no tiling, small images only)",
    )
    parser.add_argument("--scale", type=int, choices=SCALES, help="refuse a model of another scale")
    parser.add_argument("--threads", type=threads, default=None, help="ONNX Runtime threads (default: all)")
    parser.add_argument(
        "--force", action="store_true", help="overwrite existing output images (never an input)"
    )
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    add_json_flag(parser)
    parser.set_defaults(handler=_upscale)


def _upscale(args: argparse.Namespace) -> dict[str, Any]:
    from optuna_srprune.export import upscale_path

    with warnings_as_messages():
        result = upscale_path(
            args.model,
            args.input,
            args.output,
            tile=args.tile,
            scale=args.scale,
            threads=args.threads,
            progress=not args.no_progress,
            force=args.force,
        )
    if not args.json:
        for image in result["images"]:
            (w, h), (ow, oh) = image["size"], image["out_size"]
            print(f"{image['input']} ({w}x{h}) -> {image['output']} ({ow}x{oh}), {image['seconds']:.2f} s")
        print(f"{len(result['images'])} image(s) upscaled x{result['scale']}", flush=True)
    return result
