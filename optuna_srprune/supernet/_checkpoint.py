"""Supernet checkpoint files: one dict of plain types and tensors, loaded with ``weights_only=True``."""

from __future__ import annotations

from collections.abc import Mapping
import os
from pathlib import Path
from typing import Any

import torch

from optuna_srprune.exceptions import CheckpointError
from optuna_srprune.exceptions import ConfigError
from optuna_srprune.search_space import SRSearchSpace

FORMAT = "optuna-srprune-supernet"
VERSION = 1
_REQUIRED = ("format", "version", "scale", "space", "model")
# Search-space settings that only name parameters; they do not change what the weights mean.
_NAMING_ONLY = ("prefix",)


def write_checkpoint(path: str | os.PathLike[str], payload: Mapping[str, Any]) -> None:
    """Write ``payload`` atomically (a crash mid-write never leaves a truncated checkpoint)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save({"format": FORMAT, "version": VERSION, **payload}, tmp)
    os.replace(tmp, path)


def read_checkpoint(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Load and structurally check a checkpoint, raising :class:`CheckpointError` if unusable."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"Supernet checkpoint {str(path)!r} does not exist.")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # noqa: BLE001 - torch raises many types for a damaged file
        raise CheckpointError(
            f"Supernet checkpoint {str(path)!r} is corrupt or not a checkpoint ({type(err).__name__}); "
            "re-create it with `optuna-srprune train-supernet`."
        ) from err
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        raise CheckpointError(f"{str(path)!r} is not an optuna-srprune supernet checkpoint.")
    missing = [k for k in _REQUIRED if k not in ckpt]
    if missing:
        raise CheckpointError(f"Supernet checkpoint {str(path)!r} lacks {missing}; it is corrupt.")
    if ckpt["version"] != VERSION:
        raise CheckpointError(
            f"Supernet checkpoint {str(path)!r} has format version {ckpt['version']}, "
            f"this optuna-srprune reads version {VERSION}."
        )
    return ckpt


def checkpoint_space(ckpt: Mapping[str, Any], path: str | os.PathLike[str] = "") -> SRSearchSpace:
    """The search space a checkpoint was trained for."""
    try:
        # Spaces saved before the tail was searchable had the 3x3 tail only.
        return SRSearchSpace.from_dict({"tails": ["conv3x3"], **ckpt["space"]})
    except (ConfigError, TypeError) as err:
        raise CheckpointError(f"Checkpoint {str(path)!r} has an invalid search space: {err}") from err


def check_compatible(
    ckpt: Mapping[str, Any],
    space: SRSearchSpace | None,
    scale: int | None,
    path: str | os.PathLike[str] = "",
) -> SRSearchSpace:
    """Raise :class:`CheckpointError` unless ``ckpt`` matches ``scale`` and ``space``; return its space."""
    saved = checkpoint_space(ckpt, path)
    if scale is not None and int(ckpt["scale"]) != scale:
        raise CheckpointError(
            f"Supernet checkpoint {str(path)!r} is for x{ckpt['scale']}, not x{scale}; "
            f"use a x{scale} checkpoint or pass --scale {ckpt['scale']}."
        )
    if space is not None:
        ours, theirs = space.to_dict(), saved.to_dict()
        diff = sorted(k for k in ours if k not in _NAMING_ONLY and ours[k] != theirs.get(k))
        if diff:
            shown = ", ".join(f"{k}: checkpoint {theirs.get(k)!r} vs {ours[k]!r}" for k in diff)
            raise CheckpointError(
                f"Supernet checkpoint {str(path)!r} was trained for another search space ({shown})."
            )
    return saved
