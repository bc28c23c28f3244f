"""Ctrl-C during ``search``, then ``worker`` on the same study: it still ends with exactly ``--trials``
complete trials (the interrupted trial's slot was queued again), on SQLite and PostgreSQL."""

from __future__ import annotations

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
N_TRIALS = 6


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "optuna_srprune", *args, "--no-progress"]


def test_an_interrupted_search_keeps_its_trial_count(assets: Path, storage_url: str) -> None:
    search = subprocess.Popen(
        _cli(
            "search",
            "--storage",
            storage_url,
            "--study",
            "s",
            "--scale",
            "2",
            "--budget-ms",
            "1",
            "--trials",
            str(N_TRIALS),
            "--supernet",
            str(assets / "supernet.pt"),
            "--data",
            str(assets / "val"),
            "--hr-size",
            "64x64",
            "--heartbeat",
            "1",
            "--seed",
            "0",
        ),  # fmt: skip
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        me = f"{os.uname().nodename}:{search.pid}"
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and search.poll() is None:
            try:
                study = optuna.load_study(study_name="s", storage=storage_url)
                running = study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
                if any(t.user_attrs.get("srprune:worker") == me for t in running):
                    break
            except KeyError:
                pass
            time.sleep(0.05)
        else:
            pytest.fail("the search never ran a trial")
        search.send_signal(signal.SIGINT)
        _, err = search.communicate(timeout=120)
    finally:
        if search.poll() is None:
            search.kill()
            search.wait()
    text = err.decode()
    assert search.returncode == 130, text[-2000:]
    assert "Traceback" not in text and text.strip().splitlines()[-1] == "optuna-srprune: error: interrupted"
    study = optuna.load_study(study_name="s", storage=storage_url)
    assert len(study.get_trials(states=(TrialState.COMPLETE,))) < N_TRIALS

    worker = subprocess.run(
        _cli("worker", "--storage", storage_url, "--study", "s"), capture_output=True, timeout=600
    )
    assert worker.returncode == 0, worker.stderr.decode()[-2000:]
    trials = study.get_trials(deepcopy=False)
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    failed = [t for t in trials if t.state == TrialState.FAIL]
    assert len(complete) == N_TRIALS
    assert len(failed) == 1 and not [t for t in trials if t.state in (TrialState.WAITING, TrialState.RUNNING)]
    assert [t.system_attrs["failed_trial"] for t in complete if "failed_trial" in t.system_attrs] == [
        failed[0].number
    ]
