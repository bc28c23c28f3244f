"""Hostile storages and damaged studies: one clear line, nothing created or changed.

Uses the session study of ``searched_study`` (tests/conftest.py), copied before anything touches it.
"""

from __future__ import annotations

from collections.abc import Callable
import json
from pathlib import Path
import shutil

import optuna
import pytest

from optuna_srprune._names import SETTINGS

CliError = Callable[..., str]
Snapshot = Callable[[Path], dict[str, str]]


@pytest.fixture
def study_copy(searched_study, tmp_path: Path) -> tuple[Path, str]:  # type: ignore[no-untyped-def]
    """A private copy of the searched study's database: ``(file, url)``."""
    db = tmp_path / "copy" / "study.db"
    db.parent.mkdir()
    shutil.copyfile(Path(searched_study.url[len("sqlite:///") :]), db)
    return db, f"sqlite:///{db}"


def _reading_commands(url: str, out: Path) -> list[list[str]]:
    return [
        ["worker", "--storage", url, "--study", "study", "--no-progress"],
        ["report", "--storage", url, "--study", "study", "--out", str(out / "r.html"), "--crops", "0"],
        ["export", "--storage", url, "--study", "study", "--trial", "0", "--out", str(out / "e")],
    ]


def test_a_mistyped_database_is_not_created(tmp_path: Path, cli_error: CliError) -> None:
    url = f"sqlite:///{tmp_path / 'typo.db'}"
    for argv in _reading_commands(url, tmp_path):
        cli_error(argv, "No database file")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("content", [b"just some text\n" * 10, b"\x00" * 100], ids=["text", "zeros"])
def test_a_file_that_is_not_a_database(
    tmp_path: Path, content: bytes, cli_error: CliError, snapshot: Snapshot
) -> None:
    db = tmp_path / "notes.db"
    db.write_bytes(content)
    url = f"sqlite:///{db}"
    before = snapshot(tmp_path)
    search = ["search", "--storage", url, "--study", "s", "--scale", "2", "--budget-ms", "5", "--no-progress"]
    for argv in [search, *_reading_commands(url, tmp_path)]:
        cli_error(argv, "Cannot open the study storage")
    assert snapshot(tmp_path) == before


def test_a_folder_where_the_database_should_be(tmp_path: Path, cli_error: CliError) -> None:
    (tmp_path / "db").mkdir()
    cli_error(["worker", "--storage", f"sqlite:///{tmp_path / 'db'}", "--study", "s"], "is not a file")


def test_joining_a_read_only_database(
    study_copy: tuple[Path, str], cli_error: CliError, snapshot: Snapshot
) -> None:
    db, url = study_copy
    optuna.load_study(study_name="study", storage=url).enqueue_trial({})  # something to claim
    before = snapshot(db)
    read_only = f"sqlite:///file:{db}?mode=ro&uri=true"
    line = cli_error(["worker", "--storage", read_only, "--study", "study", "--no-progress"], "readonly")
    assert "storage" in line
    assert snapshot(db) == before


def test_a_claim_lock_that_cannot_be_created(
    study_copy: tuple[Path, str], cli_error: CliError, snapshot: Snapshot
) -> None:
    """What a worker meets in a database folder it may not write (root can write anywhere, so the
    lock's place is taken by a folder: the same OSError path)."""
    db, url = study_copy
    optuna.load_study(study_name="study", storage=url).enqueue_trial({})
    (db.parent / "study.db.claim-lock").mkdir()
    before = snapshot(db)
    cli_error(["worker", "--storage", url, "--study", "study", "--no-progress"], "claim lock")
    assert snapshot(db) == before


def _settings(url: str) -> dict[str, object]:
    return dict(json.loads(optuna.load_study(study_name="study", storage=url).user_attrs[SETTINGS]))


@pytest.mark.parametrize(
    ("damage", "match"),
    [
        (lambda s: "{not json", "not valid JSON"),
        (lambda s: "[" * 100_000, "not valid JSON"),
        (lambda s: json.dumps([1, 2]), "JSON object"),
        (lambda s: json.dumps({**s, "tiles": 4, "written_by": "optuna-srprune 9.1.0"}),
         "written by optuna-srprune 9.1.0"),
        (lambda s: json.dumps({**s, "hr_size": [0, 5]}), "hr_size"),
        (lambda s: json.dumps({**s, "hr_size": "720x1280"}), "hr_size"),
        (lambda s: json.dumps({**s, "scale": "2"}), "'scale' must be an integer"),
        (lambda s: json.dumps({**s, "threads": 0}), "threads"),
        (lambda s: json.dumps({k: v for k, v in s.items() if k != "scale"}), "lack ['scale']"),
        (lambda s: json.dumps({**s, "budget_ms": float("inf")}), "not valid JSON"),
        (lambda s: json.dumps(s).replace(f'"budget_ms": {s["budget_ms"]}', '"budget_ms": 1e999'), "finite"),
        (lambda s: json.dumps({**s, "tiles": 4}), "unknown key(s) ['tiles']"),
    ],
    ids=["garbage", "deep", "list", "newer-version", "hr-zero", "hr-string", "scale-string", "threads-0",
         "missing", "infinity", "overflow", "unknown-key"],
)  # fmt: skip
def test_damaged_study_settings(
    study_copy: tuple[Path, str],
    damage: Callable[[dict[str, object]], str],
    match: str,
    cli_error: CliError,
    snapshot: Snapshot,
) -> None:
    db, url = study_copy
    settings = _settings(url)
    optuna.load_study(study_name="study", storage=url).set_user_attr(SETTINGS, damage(settings))
    before = snapshot(db)
    cli_error(["worker", "--storage", url, "--study", "study", "--no-progress"], match)
    cli_error(
        ["export", "--storage", url, "--study", "study", "--trial", "0", "--out", str(db.parent / "e")], match
    )
    assert snapshot(db) == before
    assert not (db.parent / "e").exists()


def test_damaged_settings_in_report(study_copy: tuple[Path, str], cli_error: CliError) -> None:
    db, url = study_copy
    optuna.load_study(study_name="study", storage=url).set_user_attr(SETTINGS, "{not json")
    out = db.parent / "r.html"
    cli_error(
        ["report", "--storage", url, "--study", "study", "--out", str(out), "--crops", "0"],
        "not a JSON object",
    )
    assert not out.exists()


@pytest.mark.postgres
def test_a_missing_postgres_database_is_one_line(
    postgres_url: str, tmp_path: Path, cli_error: CliError
) -> None:
    url = postgresql_with_password = postgres_url.replace("postgres@", "postgres:SECRETPW@") + "_absent"
    for argv in _reading_commands(url, tmp_path):
        line = cli_error(argv, "Cannot open the study storage")
        assert "SECRETPW" not in line and postgresql_with_password not in line


def test_report_never_writes_over_its_database_or_image(
    study_copy: tuple[Path, str], tmp_path: Path, cli_error: CliError, snapshot: Snapshot
) -> None:
    from PIL import Image

    db, url = study_copy
    image = tmp_path / "image.png"
    Image.new("RGB", (16, 16)).save(image)
    before = {**snapshot(db), **snapshot(image)}
    base = ["report", "--storage", url, "--study", "study", "--crops", "0", "--out"]
    cli_error([*base, str(db)], "is the study's database")
    cli_error([*base, str(image), "--image", str(image)], "is --image")
    assert {**snapshot(db), **snapshot(image)} == before
