"""Several worker processes on one study, on SQLite and on PostgreSQL, one of them killed."""

from __future__ import annotations

from collections.abc import Iterator
import os
from pathlib import Path
import signal
import subprocess
import sys
import time

import optuna
from optuna.trial import TrialState
import pytest

pytestmark = pytest.mark.slow
N_TRIALS = 40


@pytest.fixture(autouse=True)
def _reap() -> Iterator[None]:
    """Kill whatever worker a failed test left running."""
    yield
    for proc in _STARTED:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    _STARTED.clear()


_STARTED: list[subprocess.Popen[bytes]] = []


def _popen(args: list[str]) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _STARTED.append(proc)
    return proc


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "optuna_srprune", *args, "--no-progress"]


def _start_search(assets: Path, url: str) -> subprocess.Popen[bytes]:
    options = {
        "--storage": url,
        "--study": "s",
        "--scale": "2",
        "--budget-ms": "1",
        "--trials": str(N_TRIALS),
        "--supernet": str(assets / "supernet.pt"),
        "--data": str(assets / "val"),
        "--hr-size": "64x64",
        "--heartbeat": "1",
        "--seed": "0",
    }
    return _popen(_cli("search", *(part for item in options.items() for part in item)))


def _start_worker(url: str) -> subprocess.Popen[bytes]:
    return _popen(_cli("worker", "--storage", url, "--study", "s"))


def _wait_for_study(url: str, timeout: float = 120) -> optuna.Study:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            study = optuna.load_study(study_name="s", storage=url)
            if "srprune:settings" in study.user_attrs:
                return study
        except KeyError:
            pass
        time.sleep(0.2)
    raise AssertionError("the study was not created in time")


def _finish(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        _, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err.decode()[-2000:]


def _check_complete(study: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    trials = study.get_trials(deepcopy=False)
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    assert len(complete) == N_TRIALS
    assert len({t.number for t in trials}) == len(trials)
    assert not [t for t in trials if t.state in (TrialState.RUNNING, TrialState.WAITING)]
    return complete


def test_four_workers_complete_exactly_the_study(assets: Path, storage_url: str) -> None:
    procs = [_start_search(assets, storage_url)]
    _wait_for_study(storage_url)
    procs += [_start_worker(storage_url) for _ in range(3)]
    _finish(procs)
    study = optuna.load_study(study_name="s", storage=storage_url)
    complete = _check_complete(study)
    assert not study.get_trials(states=(TrialState.FAIL,))
    workers = {t.user_attrs["srprune:worker"] for t in complete}
    assert len(workers) >= 2, "the trials were not shared between workers"


def test_killed_worker_trial_is_failed_and_retried(assets: Path, storage_url: str) -> None:
    search = _start_search(assets, storage_url)
    study = _wait_for_study(storage_url)
    victim = _start_worker(storage_url)
    others = [_start_worker(storage_url) for _ in range(2)]
    victim_id = f"{os.uname().nodename}:{victim.pid}"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        running = study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
        if any(t.user_attrs.get("srprune:worker") == victim_id for t in running):
            break
        time.sleep(0.05)
    else:
        pytest.fail("the victim worker never ran a trial")
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    _finish([search, *others])
    complete = _check_complete(study)
    failed = study.get_trials(deepcopy=False, states=(TrialState.FAIL,))
    assert [t.user_attrs["srprune:worker"] for t in failed] == [victim_id]
    retried = [t for t in complete if "failed_trial" in t.system_attrs]
    assert [t.system_attrs["failed_trial"] for t in retried] == [failed[0].number]
