"""What every sub-command shares: ``--json`` output, error handling, argument types."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from collections.abc import Iterator
import contextlib
import json
import math
import os
from pathlib import Path
import sys
import traceback
from typing import Any
import warnings

from optuna_srprune._redact import redact
from optuna_srprune.exceptions import SRPruneError

# Set to 1 (or pass ``--debug``) to see the traceback of an unexpected error.
DEBUG_ENV = "SRPRUNE_DEBUG"
# ``--threads`` above this many times the logical CPUs is refused: ORT and torch would create them all.
THREADS_PER_CPU = 4
# Optuna's study names are a VARCHAR(512) column.
MAX_STUDY_NAME = 512
# A study queues one row per trial up front: more than this is a typo, not a search.
MAX_TRIALS = 100_000
# Largest side of an HR size (16K): beyond it, a latency measurement allocates more than a machine has.
MAX_SIDE = 16_384

Handler = Callable[[argparse.Namespace], dict[str, Any]]


def add_json_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--json",
        action="store_true",
        help="print one machine-readable JSON object as the last output line",
    )


def _jsonable(value: Any) -> Any:
    # JSON has no inf/nan: PSNR of identical images is inf, so spell it as a string. NaN is never a
    # result: it means diverged weights or a corrupt input, so it is an error, not a value.
    if isinstance(value, float) and math.isnan(value):
        raise SRPruneError(
            "The result holds NaN (not a number): the model's weights or the input are corrupt or "
            "diverged; nothing trustworthy can be reported."
        )
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


def log(args: argparse.Namespace, message: str) -> None:
    """Print a progress message: on stdout, or on stderr with ``--json`` (stdout holds the JSON)."""
    print(message, file=sys.stderr if getattr(args, "json", False) else sys.stdout, flush=True)


def one_line(text: str) -> str:
    """``text`` on one line, secrets hidden: what the command line prints of an error."""
    return redact(" ".join(str(text).split()))


def fail(message: str, code: int = 2) -> int:
    print(f"optuna-srprune: error: {one_line(message)}", file=sys.stderr, flush=True)
    return code


def debug_enabled(args: argparse.Namespace | None = None) -> bool:
    """Whether unexpected errors show their traceback (``--debug`` or ``SRPRUNE_DEBUG=1``)."""
    if args is not None and getattr(args, "debug", False):
        return True
    return os.environ.get(DEBUG_ENV, "").lower() not in ("", "0", "false", "no")


@contextlib.contextmanager
def warnings_as_messages() -> Iterator[None]:
    """Print the ``UserWarning``s raised inside as one-line ``optuna-srprune: warning:`` messages."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        try:
            yield
        finally:
            for warning in caught:
                print(
                    f"optuna-srprune: warning: {one_line(str(warning.message))}", file=sys.stderr, flush=True
                )


def run_handler(handler: Handler, args: argparse.Namespace) -> int:
    """Run a sub-command: its dict result goes out as JSON with ``--json``; errors exit non-zero.

    Handlers print their human-readable output themselves (only when ``args.json`` is false, or to
    stderr) and return the JSON object.
    """
    try:
        result = handler(args)
        if getattr(args, "json", False):
            emit_json(result)
    except SRPruneError as err:
        return fail(str(err))
    except KeyboardInterrupt:
        return fail("interrupted", code=130)
    except Exception as err:  # noqa: BLE001 - the last line of defence: one line, never a traceback
        return _unexpected(args, err)
    return 0


def _storage_failure(err: BaseException) -> str | None:
    """What a database error says, or ``None`` for other errors (the modules are only looked up if
    already imported: the command line must not import them for nothing)."""
    optuna = sys.modules.get("optuna")
    sa_exc = sys.modules.get("sqlalchemy.exc")
    kinds: list[type[BaseException]] = []
    if optuna is not None:
        kinds.append(optuna.exceptions.StorageInternalError)
    if sa_exc is not None:
        kinds.append(sa_exc.SQLAlchemyError)
    if not kinds or not isinstance(err, tuple(kinds)):
        return None
    cause: BaseException = err
    for _ in range(10):  # the driver's own error, under SQLAlchemy's and Optuna's wrappers
        inner = getattr(cause, "orig", None) or cause.__cause__
        if inner is None:
            break
        cause = inner
    lines = str(cause).strip().splitlines()
    return lines[0] if lines else type(cause).__name__


def _unexpected(args: argparse.Namespace, err: Exception) -> int:
    """One line for an error no handler turned into an :class:`SRPruneError`."""
    if debug_enabled(args):
        print(redact(traceback.format_exc()), file=sys.stderr, end="", flush=True)
    command = _command(args)
    storage = _storage_failure(err)
    if storage is not None:
        return fail(
            f"{command}: the study storage failed: {storage} (is the database reachable and writable?)"
        )
    if isinstance(err, RecursionError):
        return fail(f"{command}: the input is nested too deeply to be read.")
    if isinstance(err, MemoryError):
        return fail(f"{command}: out of memory; the input (or a size it asks for) is too large.")
    detail = one_line(str(err))[:300] or "(no message)"
    return fail(
        f"{command} failed unexpectedly: {type(err).__name__}: {detail} "
        f"(rerun with --debug or {DEBUG_ENV}=1 to see the traceback, and please report it)",
        code=1,
    )


def _command(args: argparse.Namespace) -> str:
    return str(getattr(args, "command", None) or "optuna-srprune")


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


def threads(text: str) -> int:
    """A thread count: at least 1, at most ``THREADS_PER_CPU`` times this machine's logical CPUs."""
    value = _int_at_least(text, 1, "a positive number of threads")
    limit = THREADS_PER_CPU * (os.cpu_count() or 1)
    if value > limit:
        raise argparse.ArgumentTypeError(
            f"{value} threads is more than {THREADS_PER_CPU} per logical CPU of this machine "
            f"({os.cpu_count() or 1}); use at most {limit}"
        )
    return value


def finite_float(text: str) -> float:
    """A finite number (no ``inf`` or ``nan``)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def positive_float(text: str) -> float:
    """A finite number above 0."""
    value = finite_float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a number above 0, got {text!r}")
    return value


def budget_ms(text: str) -> float:
    """A latency budget in ms: a finite number above 0."""
    try:
        return positive_float(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(
            f"the latency budget must be positive and finite (ms), got {text!r}"
        ) from None


def study_name(text: str) -> str:
    """A study name: not blank, printable, at most ``MAX_STUDY_NAME`` characters."""
    if not text.strip():
        raise argparse.ArgumentTypeError("a study name must not be empty")
    if len(text) > MAX_STUDY_NAME:
        raise argparse.ArgumentTypeError(
            f"a study name has at most {MAX_STUDY_NAME} characters, got {len(text)}"
        )
    if not text.isprintable():
        raise argparse.ArgumentTypeError(f"a study name must be printable text, got {text!r}")
    return text


def hr_size(text: str) -> tuple[int, int]:
    """Parse ``HEIGHTxWIDTH`` (e.g. ``720x1280``), each side from 1 to ``MAX_SIDE``."""
    try:
        h, w = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected HEIGHTxWIDTH such as 720x1280, got {text!r}") from None
    if h < 1 or w < 1:
        raise argparse.ArgumentTypeError(f"size must be positive, got {text!r}")
    if h > MAX_SIDE or w > MAX_SIDE:
        raise argparse.ArgumentTypeError(f"each side is at most {MAX_SIDE} pixels, got {text!r}")
    return h, w


def trial_count(text: str) -> int:
    """A number of trials from 0 to ``MAX_TRIALS``."""
    value = _int_at_least(text, 0, "a number of trials >= 0")
    if value > MAX_TRIALS:
        raise argparse.ArgumentTypeError(f"at most {MAX_TRIALS} trials, got {value}")
    return value


def seed(text: str) -> int:
    """A random seed, 0 to 2**32 - 1 (what NumPy and the samplers accept)."""
    value = _int_at_least(text, 0, "a seed >= 0")
    if value >= 2**32:
        raise argparse.ArgumentTypeError(f"a seed is below 2**32, got {value}")
    return value


def read_text(path: str, what: str) -> str:
    """The UTF-8 text of ``path``, or a :class:`ConfigError` naming ``what`` it should have been."""
    from optuna_srprune.exceptions import ConfigError

    try:
        return Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise ConfigError(
            f"{what} {path!r} is not UTF-8 text (byte {err.start}); is it the right file?"
        ) from None
    except OSError as err:
        raise ConfigError(f"Cannot read {what} {path!r}: {err.strerror or type(err).__name__}.") from None


def load_config(text: str, space: Any) -> Any:
    """``--config``: ``largest``, ``smallest`` or a subnet JSON file of ``space``'s scale."""
    from optuna_srprune.config import SubnetConfig
    from optuna_srprune.exceptions import ConfigError

    if text in ("largest", "smallest"):
        return getattr(space, text)()
    if not Path(text).is_file():
        raise ConfigError(
            f"--config must be 'largest', 'smallest' or a JSON file; {text!r} is none of these."
        )
    try:
        config = SubnetConfig.from_json(read_text(text, "the config"))
    except ConfigError as err:
        raise ConfigError(f"Config {text!r}: {err}") from None
    if config.scale != space.scale:
        raise ConfigError(f"Config {text!r} is for x{config.scale}, but --scale is {space.scale}.")
    return config
