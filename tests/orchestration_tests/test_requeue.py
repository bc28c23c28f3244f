"""A trial that is interrupted, raises or returns NaN keeps its slot; a slot that keeps failing is
given up after a bounded number of retries, with a warning."""

from __future__ import annotations

from pathlib import Path

import optuna
from optuna.trial import TrialState
import pytest

from optuna_srprune.orchestration import add_tickets
from optuna_srprune.orchestration import open_storage
from optuna_srprune.orchestration import run_trials
from optuna_srprune.orchestration._retry import MAX_RETRY
from optuna_srprune.orchestration._retry import SlotLostWarning


def _study(tmp_path: Path, n: int) -> tuple[optuna.Study, str]:
    url = f"sqlite:///{tmp_path / 'study.db'}"
    study = optuna.create_study(storage=open_storage(url), directions=["maximize", "minimize"])
    add_tickets(study, n)
    return study, url


def _good(trial: optuna.Trial) -> tuple[float, float]:
    x = trial.suggest_float("x", 0, 1)
    return x, 1 - x


def _states(study: optuna.Study) -> dict[str, int]:
    counts: dict[str, int] = {}
    for trial in study.get_trials(deepcopy=False):
        counts[trial.state.name] = counts.get(trial.state.name, 0) + 1
    return counts


@pytest.mark.parametrize("error", [KeyboardInterrupt, RuntimeError])
def test_an_interrupted_or_raising_trial_is_queued_again(tmp_path: Path, error: type[BaseException]) -> None:
    study, url = _study(tmp_path, 4)
    calls = {"n": 0}

    def objective(trial: optuna.Trial) -> tuple[float, float]:
        calls["n"] += 1
        values = _good(trial)
        if calls["n"] == 2:
            raise error("stop")
        return values

    with pytest.raises(error):
        run_trials(study, objective, show_progress_bar=False, storage_url=url, heartbeat_s=1)
    failed = study.get_trials(deepcopy=False, states=(TrialState.FAIL,))
    assert len(failed) == 1
    (copy,) = [t for t in study.get_trials(deepcopy=False) if t.system_attrs.get("failed_trial") is not None]
    assert copy.state == TrialState.WAITING and copy.params == failed[0].params
    # An interruption is not the trial's fault: it does not count against the slot's retries.
    assert copy.system_attrs["retry_history"] == ([] if error is KeyboardInterrupt else [failed[0].number])
    assert run_trials(study, _good, show_progress_bar=False, storage_url=url, heartbeat_s=1) == 3
    assert _states(study) == {"COMPLETE": 4, "FAIL": 1}


def test_a_slot_that_keeps_raising_is_given_up_with_a_warning(tmp_path: Path) -> None:
    study, url = _study(tmp_path, 1)

    def broken(trial: optuna.Trial) -> tuple[float, float]:
        raise ValueError("always")

    for _ in range(MAX_RETRY):
        with pytest.raises(ValueError):
            run_trials(study, broken, show_progress_bar=False, storage_url=url, heartbeat_s=1)
    with pytest.warns(SlotLostWarning, match=r"failed 4 times in a row"):
        with pytest.raises(ValueError):
            run_trials(study, broken, show_progress_bar=False, storage_url=url, heartbeat_s=1)
    assert _states(study) == {"FAIL": MAX_RETRY + 1}  # given up: nothing queued, and it was said
    assert run_trials(study, _good, show_progress_bar=False, storage_url=url, heartbeat_s=1) == 0


def test_a_nan_result_fails_the_trial_and_keeps_its_slot(tmp_path: Path) -> None:
    study, url = _study(tmp_path, 2)
    calls = {"n": 0}

    def sometimes_nan(trial: optuna.Trial) -> tuple[float, float]:
        calls["n"] += 1
        x, y = _good(trial)
        return (float("nan"), y) if calls["n"] == 1 else (x, y)

    with pytest.warns(UserWarning, match="not finite"):
        done = run_trials(study, sometimes_nan, show_progress_bar=False, storage_url=url, heartbeat_s=1)
    assert done == 2
    assert _states(study) == {"COMPLETE": 2, "FAIL": 1}


def test_the_stale_callback_does_not_copy_the_failed_run(tmp_path: Path) -> None:
    """A dead worker's trial comes back with its parameters only: no stale constraint or config, so
    the objective records them again without Optuna's 'constraint ignored' warning."""
    from optuna_srprune.orchestration._retry import requeue_stale

    study, _ = _study(tmp_path, 0)
    trial = study.ask({"x": optuna.distributions.FloatDistribution(0, 1)})
    trial.set_user_attr("srprune:config", "{}")
    trial.set_constraint("latency_ms", 3.0)
    study.tell(trial, state=TrialState.FAIL)
    requeue_stale(study, study.trials[0])
    copy = study.trials[1]
    assert copy.state == TrialState.WAITING and copy.params == study.trials[0].params
    assert copy.user_attrs == {} and not any(k.startswith("constraints") for k in copy.system_attrs)
    assert copy.system_attrs["failed_trial"] == 0 and copy.system_attrs["retry_history"] == [0]
