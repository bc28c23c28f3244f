"""Bad input to ``search`` and ``worker``: a clear error, exit status 2, and nothing written."""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest
import torch

from optuna_srprune.cli import main
from optuna_srprune.search_space import SRSearchSpace
from optuna_srprune.supernet import SRSupernet


@pytest.fixture(scope="module")
def tiny_supernet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("supernet") / "tiny.pt"
    torch.manual_seed(0)
    SRSupernet(SRSearchSpace(scale=2, max_depth=1, widths=(8,))).save(path)
    return path


def _search(url: str, supernet: Path, *extra: str) -> list[str]:
    return [
        "search", "--storage", url, "--study", "s", "--scale", "2", "--budget-ms", "1",
        "--trials", "2", "--supernet", str(supernet), "--hr-size", "32x32", "--no-progress", *extra,
    ]  # fmt: skip


def _expect_error(argv: list[str], capsys: pytest.CaptureFixture[str], match: str) -> str:
    with pytest.raises(SystemExit) as exit_info:
        raise SystemExit(main(argv))
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert match in err
    assert "Traceback" not in err
    return err


def _studies(url: str) -> list[str]:
    return optuna.get_all_study_names(url)


def test_unknown_sampler(tmp_path: Path, tiny_supernet: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    _expect_error(_search(url, tiny_supernet, "--sampler", "cmaes"), capsys, "invalid choice: 'cmaes'")
    assert not (tmp_path / "db.sqlite").exists()


@pytest.mark.parametrize("budget", ["0", "-3"])
def test_budget_must_be_positive(
    tmp_path: Path, tiny_supernet: Path, capsys: pytest.CaptureFixture[str], budget: str
) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    argv = _search(url, tiny_supernet)
    argv[argv.index("--budget-ms") + 1] = budget
    _expect_error(argv, capsys, "budget must be positive")
    assert not (tmp_path / "db.sqlite").exists()


def test_unreachable_database_hides_the_password(
    tiny_supernet: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = "postgresql+psycopg://me:hunter2@127.0.0.1:1/nowhere"
    err = _expect_error(_search(url, tiny_supernet), capsys, "Cannot open the study storage")
    assert "hunter2" not in err


def test_joining_a_plain_optuna_study(
    tmp_path: Path, tiny_supernet: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    study = optuna.create_study(study_name="s", storage=url, direction="minimize")
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=2)
    _expect_error(_search(url, tiny_supernet), capsys, "has objectives ['minimize']")
    _expect_error(["worker", "--storage", url, "--study", "s"], capsys, "has objectives")
    after = optuna.load_study(study_name="s", storage=url)
    assert len(after.trials) == 2 and not after.user_attrs


def test_joining_with_another_scale(
    tmp_path: Path, tiny_supernet: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    assert main(_search(url, tiny_supernet)) == 0
    before = optuna.load_study(study_name="s", storage=url).trials
    argv = _search(url, tiny_supernet)
    argv[argv.index("--scale") + 1] = "4"
    _expect_error(argv, capsys, "scale: study has 2, asked 4")
    assert optuna.load_study(study_name="s", storage=url).trials == before


def test_worker_needs_an_existing_study(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    _expect_error(["worker", "--storage", url, "--study", "nope"], capsys, "No database file")
    assert not (tmp_path / "db.sqlite").exists()  # a mistyped database is not created
    assert _studies(url) == []
    _expect_error(["worker", "--storage", url, "--study", "nope"], capsys, "No study 'nope'")


def test_search_json_prints_the_pareto_front(
    tmp_path: Path, tiny_supernet: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    assert main(_search(url, tiny_supernet, "--json")) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["complete_trials"] == 2
    assert result["pareto_front"] and {"trial", "psnr", "latency_ms", "config"} <= set(
        result["pareto_front"][0]
    )
