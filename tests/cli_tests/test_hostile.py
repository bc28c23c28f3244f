"""Hostile input common to every command: secrets, thread counts, budgets, study names, the last line
of defence. Each case: a non-zero exit, one line on stderr, no traceback, nothing written.
(See tests/HOSTILE.md for the list of classes.)"""

from __future__ import annotations

from collections.abc import Callable
import os
from pathlib import Path

import pytest

from optuna_srprune.cli import main

SECRET = "SECRETPW"
MALFORMED = f"postgresql+psycopg//postgres:{SECRET}@127.0.0.1/test"
UNREACHABLE = f"postgresql+psycopg://postgres:{SECRET}@127.0.0.1:1/test"
CliError = Callable[..., str]
Snapshot = Callable[[Path], dict[str, str]]
TOO_MANY = str(4 * (os.cpu_count() or 1) + 1)


def _storage_commands(url: str, tmp_path: Path) -> list[list[str]]:
    return [
        ["calibrate", "--storage", url, "--hr-size", "8x8"],
        ["latency", "--storage", url, "--hr-size", "8x8"],
        ["search", "--storage", url, "--study", "s", "--scale", "2", "--budget-ms", "5", "--no-progress"],
        ["worker", "--storage", url, "--study", "s", "--no-progress"],
        ["report", "--storage", url, "--study", "s", "--out", str(tmp_path / "r.html")],
        ["export", "--storage", url, "--study", "s", "--trial", "0", "--out", str(tmp_path / "e")],
    ]


@pytest.mark.parametrize("url", [MALFORMED, UNREACHABLE], ids=["malformed", "unreachable"])
def test_a_storage_password_is_never_printed(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], cli_error: CliError
) -> None:
    for argv in _storage_commands(url, tmp_path):
        line = cli_error(argv, "", code=None)
        assert SECRET not in line, (argv[0], line)
        assert "***" in line, (argv[0], line)
    assert list(tmp_path.iterdir()) == []


def test_the_password_of_a_malformed_url_is_hidden_in_every_message() -> None:
    from optuna_srprune._redact import redact
    from optuna_srprune.latency import mask_url

    assert SECRET not in mask_url(MALFORMED) and "postgres:***@127.0.0.1" in mask_url(MALFORMED)
    assert SECRET not in mask_url(UNREACHABLE)
    for text in (f"x 'mysql://u:{SECRET}@h/d' y", f"(sqlite+pysqlite://a:{SECRET}/x@h/d)", MALFORMED):
        assert SECRET not in redact(text), text
    for harmless in ("sqlite:///srprune.db", "at 12:30 mail user@host", "mysql://u@h/d"):
        assert redact(harmless) == harmless


@pytest.mark.parametrize(
    "argv",
    [
        ["latency", "--threads", TOO_MANY, "--hr-size", "8x8"],
        ["calibrate", "--threads", TOO_MANY, "--hr-size", "8x8"],
        ["search", "--study", "s", "--scale", "2", "--threads", TOO_MANY],
        ["evaluate", "--scale", "2", "--threads", TOO_MANY],
        ["upscale", "m.onnx", "a.png", "b.png", "--threads", TOO_MANY],
        [
            "train-supernet",
            "--scale",
            "2",
            "--data",
            "d",
            "--steps",
            "1",
            "--out",
            "x.pt",
            "--threads",
            TOO_MANY,
        ],
        ["export", "--study", "s", "--trial", "0", "--out", "o", "--threads", TOO_MANY],
        ["evaluate", "--scale", "2", "--threads", "100000"],
        ["upscale", "m.onnx", "a.png", "b.png", "--threads", "0"],
    ],
    ids=lambda argv: f"{argv[0]}-{argv[argv.index('--threads') + 1]}",
)
def test_threads_beyond_four_per_cpu_are_refused_at_once(
    argv: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli_error: CliError
) -> None:
    monkeypatch.chdir(tmp_path)
    cli_error(argv, "threads", code=2)
    assert list(tmp_path.iterdir()) == []


def test_threads_at_the_bound_are_accepted() -> None:
    from optuna_srprune.cli._common import threads

    assert threads(str(4 * (os.cpu_count() or 1))) == 4 * (os.cpu_count() or 1)


@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "1e400", "0", "abc"])
@pytest.mark.parametrize("command", ["search", "report"])
def test_a_budget_must_be_a_finite_positive_number(
    command: str, value: str, tmp_path: Path, cli_error: CliError
) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    argv = [command, "--storage", url, "--study", "s", "--budget-ms", value]
    argv += ["--scale", "2"] if command == "search" else ["--out", str(tmp_path / "r.html")]
    cli_error(argv, "budget", code=2)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("name", "match"), [("", "must not be empty"), ("   ", "must not be empty"), ("x" * 609, "at most 512"),
                        ("a\nb", "printable")],
    ids=["empty", "blank", "609-chars", "newline"],
)  # fmt: skip
@pytest.mark.parametrize("command", ["search", "worker", "report", "export"])
def test_bad_study_names_are_refused_before_the_storage_is_opened(
    command: str, name: str, match: str, tmp_path: Path, cli_error: CliError
) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    extra = {
        "search": ["--scale", "2", "--budget-ms", "5"],
        "worker": [],
        "report": ["--out", str(tmp_path / "r.html")],
        "export": ["--trial", "0", "--out", str(tmp_path / "e")],
    }[command]
    cli_error([command, "--storage", url, "--study", name, *extra], match, code=2)
    assert list(tmp_path.iterdir()) == []


def _boom(*args: object, **kwargs: object) -> None:
    raise RuntimeError(f"boom\nsecond line postgresql://u:{SECRET}@h/d")


def test_an_unexpected_error_is_one_line_naming_the_command(
    monkeypatch: pytest.MonkeyPatch, cli_error: CliError
) -> None:
    import optuna_srprune.export

    monkeypatch.setattr(optuna_srprune.export, "upscale_path", _boom)
    monkeypatch.delenv("SRPRUNE_DEBUG", raising=False)
    line = cli_error(["upscale", "m.onnx", "a.png", "b.png"], "upscale failed unexpectedly", code=1)
    assert "RuntimeError: boom second line" in line and "--debug" in line and "SRPRUNE_DEBUG" in line
    assert SECRET not in line


@pytest.mark.parametrize("how", ["flag", "env"])
def test_debug_shows_the_traceback(
    how: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import optuna_srprune.export

    monkeypatch.setattr(optuna_srprune.export, "upscale_path", _boom)
    argv = ["upscale", "m.onnx", "a.png", "b.png"]
    if how == "flag":
        argv.insert(0, "--debug")
    else:
        monkeypatch.setenv("SRPRUNE_DEBUG", "1")
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and "_boom" in err and SECRET not in err


def test_argparse_errors_are_one_line(cli_error: CliError) -> None:
    cli_error(["upscale", "--tile", "x", "m", "a", "b"], "expected an integer >= 0", code=2)
    cli_error(["no-such-command"], "invalid choice", code=2)


def test_a_nan_result_is_an_error_not_a_value(capsys: pytest.CaptureFixture[str]) -> None:
    from optuna_srprune.cli._common import emit_json
    from optuna_srprune.exceptions import SRPruneError

    emit_json({"psnr": float("inf")})  # identical images: spelt as a string, still valid
    assert '"inf"' in capsys.readouterr().out
    with pytest.raises(SRPruneError, match="NaN"):
        emit_json({"psnr": float("nan")})


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (["latency", "--hr-size", "100000x8"], "at most 16384"),
        (["calibrate", "--hr-size", "8x100000"], "at most 16384"),
        (["search", "--study", "s", "--scale", "2", "--hr-size", "99999x99999"], "at most 16384"),
        (["search", "--study", "s", "--scale", "2", "--trials", "1000000000"], "at most 100000 trials"),
        (["search", "--study", "s", "--scale", "2", "--trials", "-1"], "trials >= 0"),
        (["search", "--study", "s", "--scale", "2", "--seed", "-1"], "seed >= 0"),
        (["worker", "--study", "s", "--seed", str(2**32)], "below 2**32"),
        (["export", "--study", "s", "--trial", "0", "--out", "o", "--seed", "-5"], "seed >= 0"),
        (["train-supernet", "--scale", "2", "--data", "d", "--steps", "1", "--out", "x.pt", "--seed", "-1"],
         "seed >= 0"),
    ],
    ids=["latency-hr", "calibrate-hr", "search-hr", "trials-huge", "trials-neg", "search-seed", "worker-seed",
         "export-seed", "train-seed"],
)  # fmt: skip
def test_sizes_counts_and_seeds_are_bounded(
    argv: list[str], match: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli_error: CliError
) -> None:
    monkeypatch.chdir(tmp_path)
    cli_error(argv, match)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("missing", ["--supernet", "--data"])
def test_search_with_a_missing_path_creates_no_database(
    missing: str, tmp_path: Path, cli_error: CliError
) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"
    argv = ["search", "--storage", url, "--study", "s", "--scale", "2", "--budget-ms", "5", "--no-progress"]
    cli_error([*argv, missing, str(tmp_path / "nope")], "does not exist")
    assert list(tmp_path.iterdir()) == []


def test_train_supernet_never_overwrites_a_checkpoint_silently(
    tmp_path: Path, cli_error: CliError, snapshot: Snapshot
) -> None:
    (tmp_path / "ckpt.pt").write_bytes(b"weeks of training")
    (tmp_path / "folder").mkdir()
    before = snapshot(tmp_path)
    argv = ["train-supernet", "--scale", "2", "--data", str(tmp_path), "--steps", "1", "--out"]
    cli_error([*argv, str(tmp_path / "ckpt.pt")], "pass --resume to continue its training, --force")
    cli_error([*argv, str(tmp_path / "folder")], "is a folder")
    assert snapshot(tmp_path) == before
