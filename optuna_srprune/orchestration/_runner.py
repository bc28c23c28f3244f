"""Running trials of a shared study so that it ends with exactly its number of complete trials.

A study made by ``search`` holds one queued (WAITING) trial per trial it should complete: a ticket.
Workers claim tickets atomically, so any number of workers on any number of machines run exactly
that many trials. A trial whose worker died is failed by its missing heartbeat and re-queued by
:class:`~optuna.storages.RetryHeartbeatStaleTrialCallback`, which keeps the count.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Sequence
import contextlib
import os
import socket
import threading
import time
import warnings

import optuna
from optuna.trial import TrialState
from tqdm.auto import tqdm

from optuna_srprune._optuna_compat import forget_cached_trials
from optuna_srprune._optuna_compat import record_heartbeat
from optuna_srprune._optuna_compat import storage_of
from optuna_srprune._optuna_compat import trial_id
from optuna_srprune.orchestration._claim_lock import claim_lock
from optuna_srprune.orchestration._retry import fail_and_requeue
from optuna_srprune.orchestration._retry import requeue

_logger = optuna.logging.get_logger(__name__)

Objective = Callable[[optuna.Trial], Sequence[float]]
WORKER_ATTR = "srprune:worker"


def worker_id() -> str:
    """``host:pid`` of this process, recorded on every trial it runs."""
    return f"{socket.gethostname()}:{os.getpid()}"


def add_tickets(study: optuna.Study, n: int) -> None:
    """Queue ``n`` fresh trials (no fixed parameters: the sampler chooses them)."""
    for _ in range(n):
        study.enqueue_trial({})


def _claim(study: optuna.Study, storage_url: str | None) -> int | None:
    """Atomically take a queued trial (WAITING -> RUNNING); ``None`` if none is left."""
    with claim_lock(storage_url) if storage_url else contextlib.nullcontext():
        return _claim_unlocked(study)


def _claim_unlocked(study: optuna.Study) -> int | None:
    storage = storage_of(study)
    for trial in study.get_trials(deepcopy=False, states=(TrialState.WAITING,)):
        try:
            if storage.set_trial_state_values(trial_id(trial), state=TrialState.RUNNING):
                # Beat at once: Optuna only fails trials that have a heartbeat, so a worker dying
                # before its first beat would leave this trial RUNNING for ever.
                record_heartbeat(storage, trial_id(trial))
                return trial_id(trial)
        except optuna.exceptions.UpdateFinishedTrialError:
            continue
    return None


class _Heartbeat:
    """Records a trial's heartbeat from a background thread while it runs."""

    def __init__(self, storage: optuna.storages.BaseStorage, trial: int, interval_s: float) -> None:
        self._storage, self._trial, self._interval = storage, trial, interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, daemon=True)

    def _beat(self) -> None:
        while True:
            record_heartbeat(self._storage, self._trial)
            if self._stop.wait(self._interval):
                return

    def __enter__(self) -> _Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _run_one(study: optuna.Study, objective: Objective, claimed: int, heartbeat_s: float) -> bool:
    """Run one claimed trial; ``False`` if it was failed as stale meanwhile (and so re-queued).

    If the objective raises or is interrupted, the trial is failed and its slot queued again
    (an interruption does not count against the slot's retries), then the error goes on.
    """
    forget_cached_trials(study)  # the sampler must see the trials other workers finished
    trial = optuna.Trial(study, claimed)
    with _Heartbeat(storage_of(study), claimed, heartbeat_s):
        trial.set_user_attr(WORKER_ATTR, worker_id())
        try:
            values = objective(trial)
        except BaseException as err:
            counted = not isinstance(err, (KeyboardInterrupt, SystemExit))
            fail_and_requeue(study, claimed, counted=counted)
            raise
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # Optuna's own message on bad values
            frozen = study.tell(trial, list(values))
    except optuna.exceptions.UpdateFinishedTrialError:
        # Our heartbeats were late (an overloaded machine): another worker failed this trial as
        # stale and re-queued it. Its copy will be run; this result is dropped.
        _logger.warning(f"Trial {trial.number} was failed as stale while running; dropped.")
        return False
    if frozen.state != TrialState.COMPLETE:  # Optuna refused the values (NaN, wrong count)
        warnings.warn(
            f"Trial {trial.number} returned {list(values)}, which are not finite numbers: it failed "
            "and its slot is queued again.",
            stacklevel=2,
        )
        requeue(study, frozen, counted=True)
        return False
    return True


def _others_running(study: optuna.Study) -> bool:
    return bool(study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)))


def run_trials(
    study: optuna.Study,
    objective: Objective,
    max_trials: int | None = None,
    heartbeat_s: float = 10.0,
    poll_s: float = 1.0,
    show_progress_bar: bool = True,
    storage_url: str | None = None,
) -> int:
    """Run queued trials of ``study`` until none is left (or ``max_trials`` ran here).

    While other workers still run trials, it waits and fails stale ones, so a trial lost with a dead
    worker is re-queued and run. Returns the number of trials this process completed.
    """
    done = 0
    waiting = len(study.get_trials(deepcopy=False, states=(TrialState.WAITING,)))
    total = waiting if max_trials is None else min(max_trials, waiting)
    with tqdm(total=total, desc="trials", unit="trial", disable=not show_progress_bar) as bar:
        while max_trials is None or done < max_trials:
            optuna.storages.fail_stale_trials(study)
            claimed = _claim(study, storage_url)
            if claimed is None:
                if not _others_running(study):
                    break
                time.sleep(poll_s)
                continue
            if _run_one(study, objective, claimed, heartbeat_s):
                done += 1
                bar.update(1)
    return done
