"""What every sub-command shares: ``--json`` output, error handling, argument types."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from collections.abc import Iterator
import contextlib
import json
import math
import sys
from typing import Any
import warnings

from optuna_srprune.exceptions import SRPruneError

Handler = Callable[[argparse.Namespace], dict[str, Any]]


def add_json_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--json",
        action="store_true",
        help="print one machine-readable JSON object as the last output line",
    )


def _jsonable(value: Any) -> Any:
    # JSON has no inf/nan: PSNR of identical images is inf, so spell it as a string.
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def emit_json(result: dict[str, Any]) -> None:
    """Print ``result`` as one JSON line on stdout."""
    print(json.dumps(_jsonable(result), sort_keys=True), flush=True)


def fail(message: str, code: int = 2) -> int:
    print(f"optuna-srprune: error: {message}", file=sys.stderr, flush=True)
    return code


@contextlib.contextmanager
def warnings_as_messages() -> Iterator[None]:
    """Print the ``UserWarning``s raised inside as one-line ``optuna-srprune: warning:`` messages."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        try:
            yield
        finally:
            for warning in caught:
                print(f"optuna-srprune: warning: {warning.message}", file=sys.stderr, flush=True)


def run_handler(handler: Handler, args: argparse.Namespace) -> int:
    """Run a sub-command: its dict result goes out as JSON with ``--json``; errors exit non-zero.

    Handlers print their human-readable output themselves (only when ``args.json`` is false, or to
    stderr) and return the JSON object.
    """
    try:
        result = handler(args)
    except SRPruneError as err:
        return fail(str(err))
    except KeyboardInterrupt:
        return fail("interrupted", code=130)
    if getattr(args, "json", False):
        emit_json(result)
    return 0


def _int_at_least(text: str, minimum: int, what: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
    if value < minimum:
        raise argparse.ArgumentTypeError(f"expected {what}, got {value}")
    return value


def positive_int(text: str) -> int:
    return _int_at_least(text, 1, "a positive integer")


def non_negative_int(text: str) -> int:
    return _int_at_least(text, 0, "an integer >= 0")


def hr_size(text: str) -> tuple[int, int]:
    """Parse ``HEIGHTxWIDTH`` (e.g. ``720x1280``)."""
    try:
        h, w = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected HEIGHTxWIDTH such as 720x1280, got {text!r}") from None
    if h < 1 or w < 1:
        raise argparse.ArgumentTypeError(f"size must be positive, got {text!r}")
    return h, w
