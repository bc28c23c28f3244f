"""Choosing the torch device of training and evaluation (``--device cpu|cuda|mps|auto``)."""

from __future__ import annotations

from typing import Any

from optuna_srprune.exceptions import ConfigError

DEVICES = ("auto", "cpu", "cuda", "mps")


def resolve_device(name: str) -> Any:
    """The ``torch.device`` for ``name``; ``"auto"`` is CUDA, else Apple's MPS, else the CPU.

    ``"cuda:1"`` picks a GPU by index.

    Raises:
        ConfigError: The name is unknown, or that kind of device is not available here.
    """
    import torch

    kind, _, index = str(name).partition(":")
    if kind not in DEVICES or (index and (kind != "cuda" or not index.isdigit())):
        raise ConfigError(f"Unknown device {name!r}; choose one of {list(DEVICES)} (or cuda:N).")
    if kind == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        mps = getattr(torch.backends, "mps", None)
        return torch.device("mps" if mps is not None and mps.is_available() else "cpu")
    if kind == "cuda" and not torch.cuda.is_available():
        raise ConfigError(
            f"Device {name!r} was asked for, but this torch ({torch.__version__}) sees no CUDA GPU; "
            "use --device cpu (or auto)."
        )
    if kind == "cuda" and index and int(index) >= torch.cuda.device_count():
        raise ConfigError(f"Device {name!r} does not exist: torch sees {torch.cuda.device_count()} GPU(s).")
    if kind == "mps":
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_available():
            raise ConfigError(
                f"Device {name!r} was asked for, but Apple's MPS is not available here; use --device cpu."
            )
    return torch.device(name)
