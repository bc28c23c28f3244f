"""Queueing a trial's slot again when its run did not complete, so a study keeps its trial count.

Three ways a claimed trial ends without a result: its worker died (its heartbeat stops, another worker
fails it as stale), it was interrupted (Ctrl-C), or its objective raised. In each case the trial is
FAIL and a fresh WAITING copy with the same network parameters takes its slot. A slot whose trials
keep failing is given up after :data:`MAX_RETRY` retries, with a warning that says so: an
interruption does not count as a failure of the trial, a stale heartbeat or an exception does.
"""

from __future__ import annotations

from typing import Any
import warnings

import optuna
from optuna.trial import FrozenTrial
from optuna.trial import TrialState

from optuna_srprune._optuna_compat import storage_of

MAX_RETRY = 3
# The system attributes of Optuna's own retry callbacks, kept so its helpers read our copies too.
FAILED_TRIAL = "failed_trial"
RETRY_HISTORY = "retry_history"


class SlotLostWarning(UserWarning):
    """A trial failed more than :data:`MAX_RETRY` times: its slot is not queued again."""


def requeue(study: optuna.Study, trial: FrozenTrial, *, counted: bool = True) -> bool:
    """Queue a WAITING copy of the failed ``trial`` (same parameters); ``False`` if given up.

    Only the parameters and the retry history are copied: the objective records everything else
    again, so nothing of the failed run (a partial config, its latency constraint) leaks into the copy.
    """
    history = list(trial.system_attrs.get(RETRY_HISTORY, []))
    if counted:
        history.append(trial.number)
    if len(history) > MAX_RETRY:
        warnings.warn(
            f"Trial {trial.number} failed {len(history)} times in a row (trials {history}); its slot "
            "is not queued again, so the study ends with one complete trial fewer. Run `optuna-srprune "
            "search` again with the same --trials to queue it again once the cause is fixed.",
            SlotLostWarning,
            stacklevel=2,
        )
        return False
    system_attrs: dict[str, Any] = {FAILED_TRIAL: trial.number, RETRY_HISTORY: history}
    if FAILED_TRIAL in trial.system_attrs:  # keep pointing at the first trial of the slot
        system_attrs[FAILED_TRIAL] = trial.system_attrs[FAILED_TRIAL]
    study.add_trial(
        optuna.create_trial(
            state=TrialState.WAITING,
            params=trial.params,
            distributions=trial.distributions,
            system_attrs=system_attrs,
        )
    )
    return True


def requeue_stale(study: optuna.Study, trial: FrozenTrial) -> None:
    """The ``heartbeat_stale_trial_callback`` of our storages: a dead worker's trial is retried."""
    requeue(study, trial, counted=True)


def fail_and_requeue(study: optuna.Study, claimed: int, *, counted: bool) -> bool:
    """Fail a trial this process claimed and queue its slot again; ``False`` if it was already over.

    The state change is the storage's atomic RUNNING -> FAIL: if another worker failed the trial as
    stale meanwhile, that worker has re-queued it and nothing is done here.
    """
    storage = storage_of(study)
    try:
        if not storage.set_trial_state_values(claimed, state=TrialState.FAIL):
            return False
    except optuna.exceptions.UpdateFinishedTrialError:
        return False
    requeue(study, storage.get_trial(claimed), counted=counted)
    return True
