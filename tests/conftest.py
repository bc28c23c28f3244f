"""Fixtures shared by the whole suite."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterator
import os
from pathlib import Path
import shutil
from typing import NamedTuple
import uuid

import pytest

REPO = Path(__file__).resolve().parent.parent
# The suite calibrates tiny tables on shared, loaded machines, where the noise check would refuse
# them; the tests of the check pass their limit explicitly (tests/latency_tests/test_noise.py).
os.environ.setdefault("SRPRUNE_ACCEPT_NOISE", "1")
TEST_DATA = REPO / "tests" / "data"
POSTGRES_ADMIN_URL = os.environ.get(
    "SRPRUNE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def _under_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(scope="session")
def set14_dir() -> Path:
    """Set14 HR images copied into the repo (bridge.png is mode L)."""
    return TEST_DATA / "Set14"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards.

    Skips when no server is reachable, except under CI (``CI=true``), where the distributed tests must
    run for real: there it fails instead.
    """
    sqlalchemy = pytest.importorskip("sqlalchemy")
    try:
        admin = sqlalchemy.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sqlalchemy.text("SELECT 1"))
    except Exception as err:  # noqa: BLE001 - any failure to connect means "no server here"
        message = f"PostgreSQL is not reachable at {POSTGRES_ADMIN_URL}: {err.__class__.__name__}"
        if _under_ci():
            pytest.fail(message + " (CI=true: the PostgreSQL tests must run)")
        pytest.skip(message)
    name = f"srprune_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(sqlalchemy.text(f'CREATE DATABASE "{name}"'))
    try:
        yield POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as conn:
            conn.execute(
                sqlalchemy.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                {"n": name},
            )
            conn.execute(sqlalchemy.text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


class SearchedStudy(NamedTuple):
    """A small study made by ``optuna-srprune search`` (see :func:`searched_study`)."""

    url: str
    name: str
    budget_ms: float
    root: Path


@pytest.fixture(scope="session")
def searched_study(tmp_path_factory: pytest.TempPathFactory) -> SearchedStudy:
    """A study made by the real ``search`` path: an untrained x2 supernet, one 96x96 validation image,
    8 random trials, and a budget between their latencies so that some are feasible and some not.

    The budget comes from a first study with the same seed (the same networks): latency is measured
    on this machine, so no fixed budget would split the trials everywhere.
    """
    import optuna
    from PIL import Image
    import torch

    from optuna_srprune.cli import main
    from optuna_srprune.data import default_validation_dir
    from optuna_srprune.search_space import SRSearchSpace
    from optuna_srprune.supernet import SRSupernet

    root = tmp_path_factory.mktemp("searched_study")
    torch.manual_seed(0)
    SRSupernet(SRSearchSpace(scale=2, max_depth=2, widths=(8, 16), channel_multiple=4)).save(
        root / "supernet.pt"
    )
    (root / "val").mkdir()
    Image.open(default_validation_dir() / "bird.png").crop((64, 64, 160, 160)).save(root / "val/bird.png")
    url = f"sqlite:///{root / 'study.db'}"

    def search(name: str, budget_ms: float) -> optuna.Study:
        argv = [
            "search", "--storage", url, "--study", name, "--scale", "2", "--budget-ms", str(budget_ms),
            "--trials", "8", "--sampler", "random", "--seed", "0", "--supernet", str(root / "supernet.pt"),
            "--data", str(root / "val"), "--hr-size", "64x64", "--no-progress", "--json",
        ]  # fmt: skip
        assert main(argv) == 0
        return optuna.load_study(study_name=name, storage=url)

    latencies = sorted(t.values[1] for t in search("probe", 1e6).trials)
    budget_ms = (latencies[3] + latencies[4]) / 2
    search("study", budget_ms)
    return SearchedStudy(url=url, name="study", budget_ms=budget_ms, root=root)


@pytest.fixture(scope="session")
def chromium() -> str:
    """The headless Chromium binary (Debian's ``chromium``).

    Skips when it is missing, except under CI (``CI=true``), where the browser tests must run: there it
    fails instead (``.ci/setup`` installs it).
    """
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        message = "Chromium is not installed (apt-get install chromium)"
        if _under_ci():
            pytest.fail(message + " (CI=true: the browser tests must run)")
        pytest.skip(message)
    return path


def _digest(root: Path) -> dict[str, str]:
    import hashlib

    if root.is_file():
        return {root.name: hashlib.sha256(root.read_bytes()).hexdigest()}
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "<dir>"
        for p in sorted(root.rglob("*"))
    }


@pytest.fixture
def snapshot() -> Callable[[Path], dict[str, str]]:
    """``snapshot(path)``: the SHA-256 of every file under ``path`` (or of the file), to compare
    before and after a command that must change nothing."""
    return _digest


@pytest.fixture
def cli_error(capsys: pytest.CaptureFixture[str]) -> Callable[..., str]:
    """``cli_error(argv, match, code=2)``: run the CLI, expect a non-zero exit (``code``; ``None``:
    any), exactly one line on stderr containing ``match``, no traceback; returns that line."""
    from optuna_srprune.cli import main

    def run(argv: list[str], match: str, code: int | None = 2) -> str:
        try:
            status = main(argv)
        except SystemExit as exit_info:
            status = exit_info.code  # argparse
        err = capsys.readouterr().err.strip()
        assert status != 0 if code is None else status == code, (status, err)
        assert "Traceback" not in err, err
        assert len(err.splitlines()) == 1, err
        assert match in err, err
        return err

    return run
