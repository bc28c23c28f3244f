"""The settings of a search, stored in its study so that any worker can join it.

Torch-free (optuna and our level-0 modules only): the visualization reads studies through it.
"""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Any

import optuna

from optuna_srprune._defaults import DEFAULT_HR_SIZE
from optuna_srprune._names import DIRECTIONS
from optuna_srprune._names import SETTINGS as SETTINGS_ATTR
from optuna_srprune.config import SCALES
from optuna_srprune.exceptions import ConfigError
from optuna_srprune.exceptions import StudyError

SAMPLERS = ("latency-aware", "nsga2", "tpe", "random")
# Settings that define what the study's trials mean; joining with other values is an error.
_DEFINING = ("scale", "budget_ms", "backend", "threads", "hr_size", "supernet", "val_data")
# Which optuna-srprune wrote the settings (so an unknown key can say which version it came from).
_WRITTEN_BY = "written_by"
_INT_FIELDS = ("scale", "n_trials", "threads", "heartbeat_s")


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
    hr_size: tuple[int, int] = DEFAULT_HR_SIZE
    supernet: str = "default"
    val_data: str | None = None
    heartbeat_s: int = 10

    def __post_init__(self) -> None:
        for name in _INT_FIELDS:
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool):
                raise ConfigError(f"The setting {name!r} must be an integer, got {value!r}.")
        if self.seed is not None and (not isinstance(self.seed, int) or isinstance(self.seed, bool)):
            raise ConfigError(f"The sampler seed must be an integer, got {self.seed!r}.")
        if self.scale not in SCALES:
            raise ConfigError(f"The scale must be 2, 3 or 4, got {self.scale}.")
        size = self.hr_size
        if (
            not isinstance(size, (list, tuple))
            or len(size) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in size)
        ):
            raise ConfigError(f"hr_size must be two positive integers (height, width), got {size!r}.")
        object.__setattr__(self, "hr_size", tuple(size))
        if self.budget_ms is not None and (
            isinstance(self.budget_ms, bool)
            or not isinstance(self.budget_ms, (int, float))
            or not math.isfinite(self.budget_ms)
        ):
            raise ConfigError(f"The latency budget must be a finite number of ms, got {self.budget_ms!r}.")
        if self.threads < 1:
            raise ConfigError(f"The number of threads must be >= 1, got {self.threads}.")
        for name in ("backend", "supernet"):
            if not isinstance(getattr(self, name), str):
                raise ConfigError(f"The setting {name!r} must be a string, got {getattr(self, name)!r}.")
        if self.val_data is not None and not isinstance(self.val_data, str):
            raise ConfigError(f"The setting 'val_data' must be a folder or null, got {self.val_data!r}.")
        if self.sampler not in SAMPLERS:
            raise ConfigError(f"Unknown sampler {self.sampler!r}; choose one of {list(SAMPLERS)}.")
        if self.budget_ms is not None and not self.budget_ms > 0:
            raise ConfigError(f"The latency budget must be positive, got {self.budget_ms} ms.")
        if self.n_trials < 0:
            raise ConfigError(f"The number of trials must be >= 0, got {self.n_trials}.")
        if self.heartbeat_s < 1:
            raise ConfigError(f"The heartbeat interval must be >= 1 s, got {self.heartbeat_s}.")

    def to_json(self) -> str:
        from optuna_srprune import __version__

        data = {**dataclasses.asdict(self), _WRITTEN_BY: f"optuna-srprune {__version__}"}
        return json.dumps(data, sort_keys=True, allow_nan=False)

    @classmethod
    def from_json(cls, text: str) -> SearchSettings:
        """Settings from :meth:`to_json`'s output, with a clear :class:`StudyError` on bad input."""
        from optuna_srprune import __version__

        try:
            data = json.loads(text, parse_constant=_reject_constant)
        except (TypeError, ValueError, RecursionError) as err:
            raise StudyError(f"The study's search settings are not valid JSON ({err}).") from None
        if not isinstance(data, dict):
            raise StudyError(f"The study's search settings must be a JSON object, got {type(data).__name__}.")
        writer = data.pop(_WRITTEN_BY, "an optuna-srprune older than 0.1.0")
        fields = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - fields)
        if unknown and writer == f"optuna-srprune {__version__}":
            raise StudyError(f"The study's search settings have unknown key(s) {unknown}; they are damaged.")
        if unknown:
            raise StudyError(
                f"The study's search settings have unknown key(s) {unknown}: they were written by "
                f"{writer}, and this is optuna-srprune {__version__}; use that version (or newer)."
            )
        missing = sorted(
            f.name for f in dataclasses.fields(cls) if f.default is dataclasses.MISSING and f.name not in data
        )
        if missing:
            raise StudyError(f"The study's search settings lack {missing}; they are damaged.")
        try:
            return cls(**data)
        except ConfigError as err:
            raise StudyError(
                f"The study's search settings (written by {writer}) are invalid: {err}"
            ) from None

    def differences(self, other: SearchSettings) -> dict[str, tuple[Any, Any]]:
        """The defining settings whose values differ: ``{name: (self's, other's)}``."""
        return {
            name: (getattr(self, name), getattr(other, name))
            for name in _DEFINING
            if getattr(self, name) != getattr(other, name)
        }


def save_settings(study: optuna.Study, settings: SearchSettings) -> None:
    """Store ``settings`` in ``study``, where :func:`load_settings` and every worker read them."""
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
    """Refuse a study whose objectives are not (PSNR, latency)."""
    directions = [d.name.lower() for d in study.directions]
    if directions != list(DIRECTIONS):
        raise StudyError(
            f"Study {study.study_name!r} has objectives {directions}, not {list(DIRECTIONS)} "
            "(PSNR, latency); it was made for something else. Use another study name."
        )


def read_settings(study: optuna.Study) -> dict[str, Any]:
    """The stored settings of a study made by ``optuna-srprune search``, as a JSON object, unchecked.

    What plots and reports read: they show a study whatever version wrote it, so only the shape is
    checked here (the objectives, and a JSON object), not the fields (:func:`load_settings` does that).
    """
    directions = [d.name.lower() for d in study.directions]
    text = study.user_attrs.get(SETTINGS_ATTR)
    if directions != list(DIRECTIONS) or not isinstance(text, str):
        raise StudyError(
            f"Study {study.study_name!r} was not made by `optuna-srprune search` (it needs objectives "
            f"{list(DIRECTIONS)} and a {SETTINGS_ATTR!r} attribute); create one with "
            "`optuna-srprune search`."
        )
    try:
        settings = json.loads(text)
    except (ValueError, RecursionError):
        settings = None
    if not isinstance(settings, dict):
        raise StudyError(
            f"The search settings of study {study.study_name!r} ({SETTINGS_ATTR!r}) are not a JSON "
            "object; the study is damaged or was written by another program."
        )
    return settings


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")
