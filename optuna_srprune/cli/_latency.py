"""``calibrate`` and ``latency``: build a device's latency table, predict and measure one subnet."""

from __future__ import annotations

import argparse
import json
import math
from typing import Any

from optuna_srprune._defaults import DEFAULT_HR_SIZE
from optuna_srprune._defaults import DEFAULT_STORAGE
from optuna_srprune.cli._common import add_json_flag
from optuna_srprune.cli._common import finite_float
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
    parser.add_argument(
        "--repeats",
        type=positive_int,
        default=None,
        help="timed runs per kernel at least (default 5); rounds per network (default 10)",
    )
    add_json_flag(parser)


def _add_calibration_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--max-repeats",
        type=positive_int,
        default=None,
        help="timed runs per kernel at most, until its median is stable (default 10; = --repeats: fixed)",
    )
    noise = parser.add_mutually_exclusive_group()
    noise.add_argument(
        "--max-noise",
        type=percent,
        default=None,
        metavar="PCT",
        help="refuse the table if the machine's noise exceeds PCT percent (default 5)",
    )
    noise.add_argument(
        "--accept-noise", action="store_true", help="keep the table however noisy the machine was"
    )


def percent(text: str) -> float:
    """A percentage above 0 and at most 1000, returned as a share (``5`` -> ``0.05``)."""
    value = finite_float(text.removesuffix("%"))
    if not 0 < value <= 1000:
        raise argparse.ArgumentTypeError(f"expected a percentage above 0 and at most 1000, got {text!r}")
    return value / 100


def register(subparsers: Any) -> None:
    calib = subparsers.add_parser("calibrate", help="measure every kernel of the search space on a back-end")
    _add_common(calib)
    _add_calibration_flags(calib)
    calib.set_defaults(handler=_calibrate)
    lat = subparsers.add_parser("latency", help="predicted and measured latency of one subnet")
    _add_common(lat)
    lat.add_argument("--config", default="largest", help="largest, smallest or a subnet JSON file")
    lat.add_argument("--predict", action="store_true", help="predict from the table (default if neither)")
    lat.add_argument("--measure", action="store_true", help="time the network end to end")
    _add_calibration_flags(lat)  # --predict calibrates a missing table
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
    repeats, max_repeats = _kernel_repeats(args)
    report = calibrate(
        backend,
        table,
        space,
        args.hr_size,
        repeats=repeats,
        max_repeats=max_repeats,
        max_noise=math.inf if args.accept_noise else args.max_noise,
        progress=True,
    )
    return {
        "fingerprint": backend.fingerprint(),
        "storage": mask_url(args.storage),
        "kernels": report.kernels,
        "measured": report.measured,
        "skipped": report.skipped,
        "overhead": list(report.overhead) if report.overhead else None,
        "seconds": round(report.seconds, 3),
        "noise": None if report.noise is None else round(report.noise, 4),
        "remeasured": report.remeasured,
        "repeats_mean": report.repeats_mean,
        "phases_s": report.phases,
    }


def _kernel_repeats(args: argparse.Namespace) -> tuple[int, int]:
    """``--repeats`` and ``--max-repeats`` with their defaults; a clear error if they disagree."""
    from optuna_srprune.exceptions import ConfigError
    from optuna_srprune.latency._profile import DEFAULT_MAX_REPEATS
    from optuna_srprune.latency._profile import DEFAULT_REPEATS

    repeats = DEFAULT_REPEATS if args.repeats is None else args.repeats
    max_repeats = args.max_repeats or max(repeats, DEFAULT_MAX_REPEATS)
    if max_repeats < repeats:
        raise ConfigError(f"--max-repeats {max_repeats} is below --repeats {repeats}; raise it or drop it.")
    return repeats, max_repeats


def _calibrate(args: argparse.Namespace) -> dict[str, Any]:
    _kernel_repeats(args)  # before the table is created
    result = _run_calibration(args, *_setup(args))
    noise = "unknown" if result["noise"] is None else f"{result['noise']:.1%}"
    phases = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in result["phases_s"].items())
    log(
        args,
        f"{result['measured']} kernels measured, {result['skipped']} already there, {result['seconds']} s"
        f" ({phases or 'nothing to do'}); machine noise {noise}",
    )
    return result


def _latency(args: argparse.Namespace) -> dict[str, Any]:
    from optuna_srprune.config import layer_specs
    from optuna_srprune.config import lr_size
    from optuna_srprune.latency import LatencyPredictor
    from optuna_srprune.search_space import SRSearchSpace

    config = load_config(args.config, SRSearchSpace(scale=args.scale))  # before the table is created
    _kernel_repeats(args)
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
        rounds = args.repeats or 10
        with tqdm(total=rounds, desc=f"timing {config.summary()} end to end", unit="round") as bar:
            timing = backend.measure_network(layers, args.scale, repeats=rounds, on_round=bar.update)
        result["measured_ms"], result["measured_iqr_ms"] = timing.median_ms, timing.spread_ms
        result["measured_spread_ms"] = timing.spread_ms  # the IQR, under its name before issue 14
        result["measured_runs"] = timing.repeats
        log(
            args,
            f"{config.summary()}: measured {timing.median_ms:.2f} ms median, IQR {timing.spread_ms:.2f} ms "
            f"({timing.spread_ms / timing.median_ms:.1%}) over {timing.repeats} runs",
        )
    return result
