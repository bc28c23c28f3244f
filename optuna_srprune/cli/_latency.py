"""``calibrate`` and ``latency``: build a device's latency table, predict and measure one subnet."""

from __future__ import annotations

import argparse
import json
from typing import Any

from optuna_srprune._defaults import DEFAULT_HR_SIZE
from optuna_srprune._defaults import DEFAULT_STORAGE
from optuna_srprune.cli._common import add_json_flag
from optuna_srprune.cli._common import hr_size
from optuna_srprune.cli._common import load_config
from optuna_srprune.cli._common import log
from optuna_srprune.cli._common import positive_int
from optuna_srprune.cli._common import threads
from optuna_srprune.config import SCALES
from optuna_srprune.latency import BACKENDS


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--backend", choices=tuple(BACKENDS), default="onnxruntime")
    parser.add_argument("--scale", type=int, choices=SCALES, default=2)
    parser.add_argument("--hr-size", type=hr_size, default=DEFAULT_HR_SIZE, metavar="HxW", help="output size")
    parser.add_argument("--threads", type=threads, default=None, help="intra-op threads (default: all cores)")
    parser.add_argument("--storage", default=DEFAULT_STORAGE, help="SQLAlchemy URL of the table")
    parser.add_argument("--repeats", type=positive_int, default=10, help="timed runs per kernel/network")
    add_json_flag(parser)


def register(subparsers: Any) -> None:
    calib = subparsers.add_parser("calibrate", help="measure every kernel of the search space on a back-end")
    _add_common(calib)
    calib.set_defaults(handler=_calibrate)
    lat = subparsers.add_parser("latency", help="predicted and measured latency of one subnet")
    _add_common(lat)
    lat.add_argument("--config", default="largest", help="largest, smallest or a subnet JSON file")
    lat.add_argument("--predict", action="store_true", help="predict from the table (default if neither)")
    lat.add_argument("--measure", action="store_true", help="time the network end to end")
    lat.set_defaults(handler=_latency)


def _setup(args: argparse.Namespace) -> tuple[Any, Any, Any]:
    from optuna_srprune.config import lr_size
    from optuna_srprune.latency import LatencyTable
    from optuna_srprune.latency import make_backend
    from optuna_srprune.search_space import SRSearchSpace

    lr_size(args.hr_size[0], args.hr_size[1], args.scale)  # clear error if the size does not divide
    backend = make_backend(args.backend, args.threads)
    return backend, LatencyTable(args.storage, backend.fingerprint()), SRSearchSpace(scale=args.scale)


def _run_calibration(args: argparse.Namespace, backend: Any, table: Any, space: Any) -> dict[str, Any]:
    from optuna_srprune._redact import mask_url
    from optuna_srprune.latency import calibrate

    log(args, f"calibrating {backend.fingerprint()} into {mask_url(args.storage)}")
    report = calibrate(backend, table, space, args.hr_size, repeats=args.repeats, progress=True)
    return {
        "fingerprint": backend.fingerprint(),
        "storage": mask_url(args.storage),
        "kernels": report.kernels,
        "measured": report.measured,
        "skipped": report.skipped,
        "overhead": list(report.overhead) if report.overhead else None,
        "seconds": round(report.seconds, 3),
    }


def _calibrate(args: argparse.Namespace) -> dict[str, Any]:
    result = _run_calibration(args, *_setup(args))
    log(
        args,
        f"{result['measured']} kernels measured, {result['skipped']} already there, {result['seconds']} s",
    )
    return result


def _latency(args: argparse.Namespace) -> dict[str, Any]:
    from optuna_srprune.config import layer_specs
    from optuna_srprune.config import lr_size
    from optuna_srprune.latency import LatencyPredictor
    from optuna_srprune.search_space import SRSearchSpace

    config = load_config(args.config, SRSearchSpace(scale=args.scale))  # before the table is created
    backend, table, space = _setup(args)
    predict = args.predict or not args.measure
    result: dict[str, Any] = {"config": json.loads(config.to_json()), "fingerprint": backend.fingerprint()}
    result["predicted_ms"] = result["measured_ms"] = None
    if predict:
        if not len(table):
            _run_calibration(args, backend, table, space)
        predictor = LatencyPredictor(table, hr_size=args.hr_size, backend=backend, interpolate=True)
        result["predicted_ms"] = predictor.predict(config)
        log(args, f"{config.summary()}: predicted {result['predicted_ms']:.2f} ms")
    if args.measure:
        from tqdm.auto import tqdm

        layers = layer_specs(config, *lr_size(args.hr_size[0], args.hr_size[1], args.scale))
        with tqdm(total=args.repeats, desc=f"timing {config.summary()} end to end", unit="round") as bar:
            timing = backend.measure_network(layers, args.scale, repeats=args.repeats, on_round=bar.update)
        result["measured_ms"], result["measured_spread_ms"] = timing.median_ms, timing.spread_ms
        log(args, f"{config.summary()}: measured {timing.median_ms:.2f} ms (IQR {timing.spread_ms:.2f})")
    return result
