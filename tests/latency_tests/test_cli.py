"""The ``calibrate`` and ``latency`` sub-commands: JSON output and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from optuna_srprune.cli import main


def _last_json(capsys: pytest.CaptureFixture[str]) -> dict:
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_latency_calibrates_first_then_predicts_and_measures(tmp_path: Path, capsys) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    common = ["--hr-size", "8x8", "--threads", "1", "--storage", url, "--repeats", "1", "--json"]
    assert main(["latency", "--config", "smallest", "--predict", "--measure", *common]) == 0
    out = _last_json(capsys)
    assert out["predicted_ms"] > 0 and out["measured_ms"] > 0
    assert main(["calibrate", *common]) == 0
    out = _last_json(capsys)
    assert out["measured"] == 0 and out["skipped"] == out["kernels"]  # already calibrated: resumed


def test_config_file(tmp_path: Path, capsys) -> None:
    config = tmp_path / "c.json"
    config.write_text('{"scale": 4, "width": 16, "blocks": [{"kind": "edsr", "channels": [8]}]}')
    args = ["latency", "--scale", "4", "--hr-size", "8x8", "--threads", "1", "--config", str(config)]
    assert main([*args, "--measure", "--repeats", "1", "--json", "--storage", "sqlite://"]) == 0
    out = _last_json(capsys)
    assert out["measured_ms"] > 0 and out["predicted_ms"] is None
    assert out["measured_iqr_ms"] >= 0 and out["measured_runs"] == 2  # one round of two runs


@pytest.mark.parametrize(
    "argv, message",
    [
        (["latency", "--config", "nope.json"], "largest', 'smallest' or a JSON file"),
        (["latency", "--hr-size", "9x9"], "not a multiple of scale"),
        (["calibrate", "--storage", "not-a-url"], "not a SQLAlchemy URL"),
        (["latency", "--scale", "4", "--config", "BADJSON"], "not valid JSON"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    argv: list[str], message: str, tmp_path: Path, capsys, monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "BADJSON").write_text("{not json")
    assert (
        main(
            [
                *argv,
                "--threads",
                "1",
                "--storage" if "--storage" not in argv else "--json",
                *([f"sqlite:///{tmp_path / 'x.db'}"] if "--storage" not in argv else []),
            ]
        )
        == 2
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]


def test_argparse_rejects_bad_flags(capsys) -> None:
    for argv in (
        ["calibrate", "--backend", "tflite"],
        ["calibrate", "--threads", "0"],
        ["latency", "--hr-size", "720"],
    ):
        with pytest.raises(SystemExit) as exc:
            main(argv)
        assert exc.value.code == 2


def test_password_is_never_printed(capsys) -> None:
    url = "postgresql+psycopg://postgres:hunter2@127.0.0.1:1/nowhere"
    assert main(["calibrate", "--hr-size", "8x8", "--threads", "1", "--storage", url]) == 2
    captured = capsys.readouterr()
    assert "hunter2" not in captured.err + captured.out


def test_every_long_phase_shows_progress_on_stderr(tmp_path: Path, capsys) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    common = ["--hr-size", "8x8", "--threads", "1", "--storage", url, "--repeats", "1", "--json"]
    assert main(["calibrate", *common]) == 0
    captured = capsys.readouterr()
    assert "calibrate x2" in captured.err and "overhead fit x2 4x4: timing 32 networks" in captured.err
    assert json.loads(captured.out.strip().splitlines()[-1])["kernels"] > 0  # stdout: JSON only
    assert len(captured.out.strip().splitlines()) == 1
    assert main(["latency", "--config", "smallest", "--measure", *common]) == 0
    captured = capsys.readouterr()
    assert "end to end" in captured.err and len(captured.out.strip().splitlines()) == 1


def test_latency_threads_beyond_four_per_cpu_are_refused(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    argv = ["train-supernet", "--scale", "2", "--data", "d", "--steps", "1", "--out", "x.pt"]
    with pytest.raises(SystemExit) as exc:
        main([*argv, "--band-ms", "10", "20", "--latency-threads", "100000"])
    assert exc.value.code == 2 and "per logical CPU" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
