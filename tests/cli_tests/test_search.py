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
    SRSupernet(SRSearchSpace(scale=2, max_depth=1, widths=(8,), channel_multiple=4)).save(path)
    return path


def _search(url: str, supernet: Path, *extra: str) -> list[str]:
    """A small search; ``extra`` flags come last, so they override these (argparse keeps the last)."""
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


@pytest.fixture(scope="module")
def small_supernet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("supernet") / "small.pt"
    torch.manual_seed(0)
    SRSupernet(SRSearchSpace(scale=2, max_depth=2, widths=(8, 16))).save(path)
    return path


@pytest.fixture(scope="module")
def small_val(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from PIL import Image

    from optuna_srprune.data import default_validation_dir

    folder = tmp_path_factory.mktemp("val")
    Image.open(default_validation_dir() / "head.png").crop((0, 0, 48, 48)).save(folder / "head.png")
    return folder


def _configs(url: str) -> list[str]:
    from optuna.trial import TrialState

    study = optuna.load_study(study_name="s", storage=url)
    return [t.user_attrs["srprune:config"] for t in study.get_trials(states=(TrialState.COMPLETE,))]


@pytest.mark.slow
def test_forty_trials_evaluate_forty_networks(
    tmp_path: Path, small_supernet: Path, small_val: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    argv = _search(
        url,
        small_supernet,
        "--data",
        str(small_val),
        "--json",
        "--seed",
        "0",
        "--trials",
        "40",
        "--budget-ms",
        "100",
    )
    assert main(argv) == 0
    captured = capsys.readouterr()
    result = json.loads(captured.out.strip().splitlines()[-1])
    assert result["complete_trials"] == 40 and result["distinct_networks"] == 40
    configs = _configs(url)
    assert len(configs) == 40 and len(set(configs)) == 40
    front = [json.dumps(row["config"], sort_keys=True) for row in result["pareto_front"]]
    assert len(front) == len(set(front))


@pytest.mark.slow
def test_repeats_of_another_sampler_reuse_results_and_the_front_lists_each_network_once(
    tmp_path: Path, tiny_supernet: Path, small_val: Path, capsys: pytest.CaptureFixture[str]
) -> None:

    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    # The tiny space has 16 networks: 24 random trials must repeat some.
    argv = _search(url, tiny_supernet, "--data", str(small_val), "--sampler", "random", "--seed", "0")
    argv[argv.index("--trials") + 1] = "24"
    assert main(argv) == 0
    out = capsys.readouterr().out
    study = optuna.load_study(study_name="s", storage=url)
    configs = _configs(url)
    repeats = [t for t in study.trials if "srprune:duplicate_of" in t.user_attrs]
    assert len(configs) == 24 and len(set(configs)) + len(repeats) == 24 and repeats
    for trial in repeats:
        earlier = study.trials[trial.user_attrs["srprune:duplicate_of"]]
        assert earlier.values == trial.values
        assert earlier.user_attrs["srprune:config"] == trial.user_attrs["srprune:config"]
    rows = out[out.index("Pareto front") :].strip().splitlines()[2:]
    networks = [row.split(None, 3)[3] for row in rows]
    assert networks and len(networks) == len(set(networks))
    assert f"evaluated {len(set(configs))} distinct networks" in out


@pytest.mark.slow
def test_an_exhausted_space_is_reported(
    tmp_path: Path, tiny_supernet: Path, small_val: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    argv = _search(
        url,
        tiny_supernet,
        "--data",
        str(small_val),
        "--json",
        "--seed",
        "0",
        "--trials",
        "18",
        "--budget-ms",
        "100",
    )
    assert main(argv) == 0
    # The CLI prints warnings as one line each on stderr.
    warnings = [line for line in capsys.readouterr().err.splitlines() if "optuna-srprune: warning:" in line]
    assert any("search space is exhausted" in line for line in warnings), warnings
    configs = _configs(url)
    assert len(configs) == 18 and len(set(configs)) == 16
