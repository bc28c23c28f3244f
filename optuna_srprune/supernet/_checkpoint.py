"""Supernet checkpoint files: one dict of plain types and tensors, loaded with ``weights_only=True``.

Integrity: a checkpoint carries ``sha256``, a content hash of its scale, space and weights, checked on
every read, so a damaged file is refused instead of scoring nonsense. Files written before the hash
existed (the first shipped supernets) have none and are still read; for every file the weights must
be finite and the stored search space must fit the weights actually stored before any network is built.
"""

from __future__ import annotations

from collections.abc import Mapping
import hashlib
import json
import os
from pathlib import Path
from typing import Any

import torch

from optuna_srprune.config import count_params
from optuna_srprune.config import SCALES
from optuna_srprune.exceptions import CheckpointError
from optuna_srprune.exceptions import ConfigError
from optuna_srprune.search_space import SRSearchSpace

FORMAT = "optuna-srprune-supernet"
VERSION = 1
_REQUIRED = ("format", "version", "scale", "space", "model")
# Search-space settings that only name parameters; they do not change what the weights mean.
_NAMING_ONLY = ("prefix",)
HASH_KEY = "sha256"


def content_hash(ckpt: Mapping[str, Any]) -> str:
    """SHA-256 of what a checkpoint means: its scale, its search space and its weights."""
    digest = hashlib.sha256()
    header = {"scale": ckpt["scale"], "space": ckpt["space"]}
    digest.update(json.dumps(header, sort_keys=True, default=str).encode())
    for name in sorted(ckpt["model"]):
        tensor = ckpt["model"][name]
        digest.update(f"|{name}|{tensor.dtype}|{tuple(tensor.shape)}|".encode())
        digest.update(tensor.detach().cpu().reshape(-1).contiguous().view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def write_checkpoint(path: str | os.PathLike[str], payload: Mapping[str, Any]) -> None:
    """Write ``payload`` atomically (a crash mid-write never leaves a truncated checkpoint)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    ckpt = {"format": FORMAT, "version": VERSION, **payload}
    ckpt[HASH_KEY] = content_hash(ckpt)
    try:
        torch.save(ckpt, tmp)
        os.replace(tmp, path)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        raise CheckpointError(
            f"Cannot write the checkpoint {str(path)!r}: {err.strerror or type(err).__name__}."
        ) from None


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
            f"Supernet checkpoint {str(path)!r} has format version {ckpt['version']!r}, "
            f"this optuna-srprune reads version {VERSION}."
        )
    _check_contents(ckpt, path)
    return ckpt


def _check_contents(ckpt: Mapping[str, Any], path: Path) -> None:
    """Types, scale, content hash (if any) and finite weights, with a :class:`CheckpointError`."""
    scale = ckpt["scale"]
    if not isinstance(scale, int) or isinstance(scale, bool) or scale not in SCALES:
        raise CheckpointError(
            f"Supernet checkpoint {str(path)!r} has an invalid scale {scale!r}; it is corrupt."
        )
    model = ckpt["model"]
    if (
        not isinstance(model, Mapping)
        or not model
        or not all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in model.items())
    ):
        raise CheckpointError(
            f"Supernet checkpoint {str(path)!r} holds no weights it can use; it is corrupt."
        )
    if not isinstance(ckpt["space"], Mapping):
        raise CheckpointError(f"Supernet checkpoint {str(path)!r} has no valid search space; it is corrupt.")
    stored = ckpt.get(HASH_KEY)
    if stored is not None and stored != content_hash(ckpt):
        raise CheckpointError(
            f"Supernet checkpoint {str(path)!r} is damaged: its content does not match the hash it was "
            "written with; restore it from a copy or re-create it with `optuna-srprune train-supernet`."
        )
    for name, tensor in model.items():
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise CheckpointError(
                f"Supernet checkpoint {str(path)!r} has non-finite weights (NaN or inf) in {name!r}: "
                "its training diverged or the file is damaged."
            )


def checkpoint_space(ckpt: Mapping[str, Any], path: str | os.PathLike[str] = "") -> SRSearchSpace:
    """The search space a checkpoint was trained for."""
    try:
        # Spaces saved before the tail was searchable had the 3x3 tail only.
        space = SRSearchSpace.from_dict({"tails": ["conv3x3"], **ckpt["space"]})
    except (ConfigError, TypeError, ValueError) as err:
        raise CheckpointError(f"Checkpoint {str(path)!r} has an invalid search space: {err}") from None
    _check_size(space, ckpt, path)
    return space


def _check_size(space: SRSearchSpace, ckpt: Mapping[str, Any], path: str | os.PathLike[str]) -> None:
    """Refuse a space larger than the weights stored, before anything of its size is allocated.

    A supernet holds at least the weights of its largest subnet; each block at least a bias of the
    trunk width.
    """
    stored = sum(int(t.numel()) for t in ckpt["model"].values())
    claimed = space.max_depth * max(space.widths)
    if claimed > stored or count_params(space.largest()) > stored:
        raise CheckpointError(
            f"Supernet checkpoint {str(path)!r} claims a search space (max_depth {space.max_depth}, widths "
            f"{list(space.widths)}) larger than the {stored:,} weights it stores; it is corrupt."
        )


def check_compatible(
    ckpt: Mapping[str, Any],
    space: SRSearchSpace | None,
    scale: int | None,
    path: str | os.PathLike[str] = "",
) -> SRSearchSpace:
    """Raise :class:`CheckpointError` unless ``ckpt`` matches ``scale`` and ``space``; return its space."""
    saved = checkpoint_space(ckpt, path)
    if scale is not None and ckpt["scale"] != scale:
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
