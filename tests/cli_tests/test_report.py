"""``optuna-srprune report``: the page for a searched study, its options, and bad input."""

from __future__ import annotations

import json
from pathlib import Path
import re

import optuna
import pytest

from optuna_srprune.cli import main
from optuna_srprune.data import default_validation_dir
from optuna_srprune.objective import DIRECTIONS
from optuna_srprune.orchestration import save_settings
from optuna_srprune.orchestration import SearchSettings


def _report(url: str, study: str, out: Path, *extra: str) -> list[str]:
    return ["report", "--storage", url, "--study", study, "--out", str(out), *extra]


def _images(out: Path) -> int:
    return len(re.findall(r'<img src="data:image/png;base64,', out.read_text(encoding="utf-8")))


def _expect_error(argv: list[str], capsys: pytest.CaptureFixture[str], match: str) -> str:
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert match in captured.err
    assert captured.err.startswith("optuna-srprune: error: ") and captured.err.count("\n") == 1
    assert "Traceback" not in captured.err and captured.out == ""
    return captured.err


def test_report_of_a_searched_study(
    searched_study, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "report.html"
    # The study's validation image is 96x96: room for two crops of 32.
    assert main(_report(searched_study.url, searched_study.name, out, "--crop-size", "32", "--json")) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    study = optuna.load_study(study_name=searched_study.name, storage=searched_study.url)
    front = [t.number for t in sorted(study.best_trials, key=lambda t: t.values[1])]
    assert result["pareto_front"] == front and result["complete_trials"] == len(study.trials)
    assert result["compared_trials"] and set(result["compared_trials"]) <= set(front)
    assert result["image"] == "bird"  # the first image of the study's validation set
    assert result["dashboard_figure"] is True and result["out"] == str(out)
    assert _images(out) == 2 * (2 + len(result["compared_trials"]))  # 2 crops x (HR, bicubic, models)
    text = out.read_text(encoding="utf-8")
    for number in front:
        assert f"<td>{number}</td>" in text


def test_report_options(searched_study, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "report.html"
    assert main(_report(searched_study.url, searched_study.name, out, "--crops", "0", "--json")) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["compared_trials"] == [] and result["image"] is None and _images(out) == 0

    head = default_validation_dir() / "head.png"
    argv = _report(searched_study.url, searched_study.name, out, "--crops", "1", "--models", "1")
    argv += ["--image", str(head), "--crop-size", "40", "--budget-ms", "1000", "--json"]
    assert main(argv) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["image"] == "head" and len(result["compared_trials"]) == 1 and _images(out) == 3
    assert "budget 1000 ms" in out.read_text(encoding="utf-8")


def test_unknown_study_lists_the_studies(
    searched_study, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "report.html"
    err = _expect_error(_report(searched_study.url, "nope", out), capsys, "No study 'nope' in sqlite:///")
    assert "(studies there: 'probe', 'study')" in err
    assert not out.exists()
    empty = f"sqlite:///{tmp_path / 'empty.db'}"
    _expect_error(_report(empty, "nope", out), capsys, "No database file")
    assert not (tmp_path / "empty.db").exists()  # a mistyped database is not created
    optuna.storages.RDBStorage(empty)
    _expect_error(_report(empty, "nope", out), capsys, "(studies there: none)")


def test_unreachable_storage(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = "postgresql+psycopg://me:hunter2@127.0.0.1:1/nowhere"
    err = _expect_error(_report(url, "s", tmp_path / "r.html"), capsys, "Cannot open the study storage")
    assert "hunter2" not in err


def test_study_without_complete_trials(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    study = optuna.create_study(study_name="s", storage=url, directions=list(DIRECTIONS))
    save_settings(study, SearchSettings(scale=2, budget_ms=5.0, n_trials=3))
    study.tell(study.ask(), state=optuna.trial.TrialState.FAIL)
    _expect_error(_report(url, "s", tmp_path / "r.html"), capsys, "'s' has no complete trials yet")
    assert not (tmp_path / "r.html").exists()


def test_study_not_made_by_srprune(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    optuna.create_study(study_name="s", storage=url).optimize(lambda t: t.suggest_float("x", 0, 1), 1)
    _expect_error(_report(url, "s", tmp_path / "r.html"), capsys, "was not made by `optuna-srprune search`")


def test_output_in_a_missing_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    out = tmp_path / "missing" / "report.html"
    _expect_error(_report(url, "s", out), capsys, "does not exist; create it first")
    assert not out.parent.exists() and not (tmp_path / "db.sqlite").exists()  # failed before opening


@pytest.mark.parametrize(
    ("option", "value", "match"),
    [("--crops", "-1", "--crops must be 0 or more"), ("--budget-ms", "0", "budget must be positive")],
)
def test_bad_numbers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], option: str, value: str, match: str
) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    _expect_error(_report(url, "s", tmp_path / "r.html", option, value), capsys, match)


def test_the_front_lists_a_repeated_network_once() -> None:
    from optuna_srprune.cli._report import _each_network_once
    from optuna_srprune.visualization import TrialPoint

    a, b = '{"a": 1}', '{"b": 2}'
    front = [
        TrialPoint(3, 30.0, 2.0, True, "A", a),
        TrialPoint(1, 30.0, 2.0, True, "A", a),  # a repeat of trial 1's network, same values
        TrialPoint(2, 31.0, 3.0, True, "B", b),
        TrialPoint(4, 31.0, 3.0, True, "?", None),  # no config recorded: kept
    ]
    assert [p.number for p in _each_network_once(front)] == [1, 2, 4]
