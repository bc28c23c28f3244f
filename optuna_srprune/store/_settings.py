"""The settings of a search, stored in its study so that any worker can join it."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import optuna

from optuna_srprune._names import SETTINGS as SETTINGS_ATTR
from optuna_srprune.exceptions import ConfigError
from optuna_srprune.exceptions import StudyError
from optuna_srprune.objective import DIRECTIONS

SAMPLERS = ("latency-aware", "nsga2", "tpe", "random")
# Settings that define what the study's trials mean; joining with other values is an error.
_DEFINING = ("scale", "budget_ms", "backend", "threads", "hr_size", "supernet", "val_data")


@dataclasses.dataclass(frozen=True)
class SearchSettings:
    """Everything a worker needs to run trials of a study.

    Args:
        scale: Upscaling factor.
        budget_ms: Latency budget in ms (``None``: no budget).
        n_trials: Number of complete trials the study aims for.
        sampler: ``"latency-aware"``, ``"nsga2"``, ``"tpe"`` or ``"random"``.
        seed: Sampler seed (``None``: random).
        backend: Latency back-end name.
        threads: Back-end threads.
        hr_size: Output size ``(height, width)`` latency is predicted for.
        supernet: ``"default"`` (the shipped supernet) or a checkpoint path.
        val_data: Folder of HR validation images, or ``None`` for the embedded Set5.
        heartbeat_s: Heartbeat interval of running trials; a trial silent for three intervals is
            failed and retried.
    """

    scale: int
    budget_ms: float | None
    n_trials: int
    sampler: str = "latency-aware"
    seed: int | None = None
    backend: str = "onnxruntime"
    threads: int = 2
    hr_size: tuple[int, int] = (720, 1280)
    supernet: str = "default"
    val_data: str | None = None
    heartbeat_s: int = 10

    def __post_init__(self) -> None:
        object.__setattr__(self, "hr_size", tuple(self.hr_size))
        if self.sampler not in SAMPLERS:
            raise ConfigError(f"Unknown sampler {self.sampler!r}; choose one of {list(SAMPLERS)}.")
        if self.budget_ms is not None and not self.budget_ms > 0:
            raise ConfigError(f"The latency budget must be positive, got {self.budget_ms} ms.")
        if self.n_trials < 0:
            raise ConfigError(f"The number of trials must be >= 0, got {self.n_trials}.")
        if self.heartbeat_s < 1:
            raise ConfigError(f"The heartbeat interval must be >= 1 s, got {self.heartbeat_s}.")

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> SearchSettings:
        data: dict[str, Any] = json.loads(text)
        return cls(**data)

    def differences(self, other: SearchSettings) -> dict[str, tuple[Any, Any]]:
        """The defining settings whose values differ: ``{name: (self's, other's)}``."""
        return {
            name: (getattr(self, name), getattr(other, name))
            for name in _DEFINING
            if getattr(self, name) != getattr(other, name)
        }


def save_settings(study: optuna.Study, settings: SearchSettings) -> None:
    study.set_user_attr(SETTINGS_ATTR, settings.to_json())


def load_settings(study: optuna.Study) -> SearchSettings:
    """The settings of a study made by ``optuna-srprune search``, with a clear error otherwise."""
    check_directions(study)
    text = study.user_attrs.get(SETTINGS_ATTR)
    if text is None:
        raise StudyError(
            f"Study {study.study_name!r} was not created by `optuna-srprune search` (it has no "
            f"{SETTINGS_ATTR!r} attribute); create it with `optuna-srprune search`."
        )
    return SearchSettings.from_json(text)


def check_directions(study: optuna.Study) -> None:
    directions = [d.name.lower() for d in study.directions]
    if directions != list(DIRECTIONS):
        raise StudyError(
            f"Study {study.study_name!r} has objectives {directions}, not {list(DIRECTIONS)} "
            "(PSNR, latency); it was made for something else. Use another study name."
        )
