"""The ``optuna-srprune`` command line: one entry point, one module per group of sub-commands."""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import NoReturn
import warnings

import optuna

from optuna_srprune.cli._common import one_line
from optuna_srprune.cli._common import run_handler

# Each module defines ``register(subparsers)``, adding its sub-commands with ``set_defaults(handler=)``.
_COMMAND_MODULES = (
    "optuna_srprune.cli._bicubic",
    "optuna_srprune.cli._supernet",
    "optuna_srprune.cli._latency",
    "optuna_srprune.cli._search",
    "optuna_srprune.cli._report",
    "optuna_srprune.cli._export",
    "optuna_srprune.cli._upscale",
)


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line: the error, then the usage folded onto it."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {one_line(message)} ({one_line(self.format_usage())})\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="optuna-srprune",
        description="Search super-resolution networks for quality at a latency budget.",
    )
    parser.add_argument(
        "--debug",
        action="store_true",
        help="show the traceback of an unexpected error (or set SRPRUNE_DEBUG=1)",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in _COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as err:
            if err.name == name:  # that command group is not part of this version
                continue
            raise
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``optuna-srprune`` console script; returns the exit status."""
    # Heartbeats, metric names and stale-trial retries are "experimental" in Optuna; we rely on
    # them on purpose, so the warnings would only be noise for users of the command line.
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    args = build_parser().parse_args(argv)
    return run_handler(args.handler, args)


if __name__ == "__main__":
    sys.exit(main())
