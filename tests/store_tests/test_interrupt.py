"""Ctrl-C during ``search``, then ``worker`` on the same study: it still ends with exactly ``--trials``
complete trials (the interrupted trial's slot was queued again), on SQLite and PostgreSQL."""

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
from PIL import Image
import pytest
import torch

from optuna_srprune.data import default_validation_dir
from optuna_srprune.search_space import SRSearchSpace
from optuna_srprune.supernet import SRSupernet

pytestmark = pytest.mark.slow
N_TRIALS = 6


@pytest.fixture(scope="module")
def assets(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("interrupt")
    torch.manual_seed(0)
    SRSupernet(SRSearchSpace(scale=2, max_depth=2, widths=(8, 16))).save(root / "supernet.pt")
    (root / "val").mkdir()
    Image.open(default_validation_dir() / "bird.png").crop((0, 0, 128, 128)).save(root / "val/bird.png")
    return root


@pytest.fixture(params=["sqlite", "postgres"])
def storage_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'study.db'}"
    else:
        yield request.getfixturevalue("postgres_url")


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
