"""Every use of Optuna's private API, in one place, each with why the public API does not suffice.

Optuna 5 is the version these were written against; if one of them breaks on a new Optuna, this is
the only module to change.
"""

from __future__ import annotations

from typing import Any

import optuna
from optuna.storages import BaseStorage
from optuna.trial import FrozenTrial


def storage_of(study: optuna.Study) -> BaseStorage:
    """The study's storage.

    Claiming a queued trial by id (WAITING -> RUNNING, atomically, under our SQLite claim lock) and
    failing it (RUNNING -> FAIL) are storage operations; ``Study`` exposes no storage. ``study.ask()``
    pops a queued trial too, but creates a fresh one when none is left, which would run a study past
    its number of trials when workers race for the last ticket.
    """
    return study._storage


def trial_id(trial: FrozenTrial | optuna.Trial) -> int:
    """The storage's id of a trial (what every storage call takes); trials expose only their number."""
    return trial._trial_id


def forget_cached_trials(study: optuna.Study) -> None:
    """Drop the study's per-thread trial cache, so its sampler sees the trials other workers finished.

    ``study.ask()`` does the same before each trial, but trials claimed by id (see :func:`storage_of`)
    do not go through ``ask``, and there is no public way to invalidate the cache.
    """
    study._thread_local.cached_all_trials = None


def record_heartbeat(storage: BaseStorage, trial: int) -> None:
    """Record a heartbeat of ``trial``.

    Public on ``RDBStorage`` (our only storage), but not on ``BaseStorage``; Optuna's own heartbeat
    thread (``optuna.storages._heartbeat``) is private, and only runs inside ``study.optimize``.
    """
    storage.record_heartbeat(trial)  # type: ignore[attr-defined]


def set_trial_system_attr(trial: optuna.Trial, key: str, value: Any) -> None:
    """Set a system attribute of a running trial.

    optuna-dashboard 0.21 reads feasibility only from the ``constraints`` system attribute, and
    ``Trial.set_system_attr`` was removed from the public API in Optuna 4.
    """
    trial.storage.set_trial_system_attr(trial_id(trial), key, value)
