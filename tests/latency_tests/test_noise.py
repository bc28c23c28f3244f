"""Calibration measures the machine's noise, stores it, and refuses a table measured on a busy machine."""

from __future__ import annotations

from collections.abc import Iterator
import contextlib
import json
import math
import os
from pathlib import Path
import shutil
import subprocess

import pytest
import sqlalchemy as sa

from optuna_srprune.cli import main
from optuna_srprune.config import LayerSpec
from optuna_srprune.latency import ACCEPT_NOISE_ENV
from optuna_srprune.latency import calibrate
from optuna_srprune.latency import DEFAULT_MAX_NOISE
from optuna_srprune.latency import LatencyTable
from optuna_srprune.latency import NoisyMachineError
from optuna_srprune.latency import OnnxRuntimeBackend
from optuna_srprune.latency import Timing
from optuna_srprune.latency._noise import kernel_noise
from optuna_srprune.latency._noise import NoiseProbe
from optuna_srprune.latency._noise import reference_layers
from optuna_srprune.latency._noise import resolve_max_noise
from optuna_srprune.search_space import SRSearchSpace

# Big enough that a kernel runs for milliseconds, so that the scheduler takes its core away for a
# busy loop mid-run (kernels far shorter than a time slice mostly run through, and a busy machine
# then looks quiet: at 96x96 the full space's calibration once passed with busy loops); small enough
# to calibrate the tiny space in seconds.
SIZE = (512, 512)


def _space() -> SRSearchSpace:
    return SRSearchSpace(
        scale=2, widths=(16,), max_depth=1, max_ratio=0.5, ratio_step=0.5, channel_multiple=8
    )


@contextlib.contextmanager
def _busy_loops() -> Iterator[None]:
    """One shell busy loop per CPU this process may use, pinned to that CPU; always killed."""
    cpus = sorted(os.sched_getaffinity(0))
    pin = shutil.which("taskset")
    procs = []
    try:
        for cpu in cpus:
            argv = ["sh", "-c", "while :; do :; done"]
            procs.append(subprocess.Popen([pin, "-c", str(cpu), *argv] if pin else argv))
        yield
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()


def _counts(url: str) -> tuple[int, int, int]:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        counts = tuple(
            int(conn.execute(sa.text(f"SELECT count(*) FROM srprune_latency_{name}")).scalar_one())
            for name in ("kernels", "overheads", "noise")
        )
    engine.dispose()
    return counts  # type: ignore[return-value]


def test_loaded_calibration_is_detected_and_leaves_nothing(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.delenv(ACCEPT_NOISE_ENV, raising=False)
    url = f"sqlite:///{tmp_path / 'busy.db'}"
    backend = OnnxRuntimeBackend()  # all cores: each shares its core with a busy loop
    table = LatencyTable(url, backend.fingerprint())
    with _busy_loops(), pytest.raises(NoisyMachineError) as err:
        calibrate(backend, table, _space(), SIZE, warmup=1, overhead_networks=2, progress=False)
    message = str(err.value)
    assert "too noisy" in message and "--accept-noise" in message and "fewer threads" in message
    assert "\n" not in message
    assert _counts(url) == (0, 0, 0)  # nothing a later run would trust


def test_loaded_calibration_cli_one_line(tmp_path: Path, capsys, monkeypatch) -> None:
    import optuna_srprune.search_space

    monkeypatch.delenv(ACCEPT_NOISE_ENV, raising=False)
    monkeypatch.setattr(optuna_srprune.search_space, "SRSearchSpace", lambda scale: _space())
    url = f"sqlite:///{tmp_path / 'busy.db'}"
    argv = ["calibrate", "--hr-size", f"{SIZE[0]}x{SIZE[1]}", "--storage", url, "--json", "--max-noise", "5"]
    with _busy_loops():
        code = main(argv)
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and "too noisy" in err[-1] and "--accept-noise" in err[-1]
    assert _counts(url) == (0, 0, 0)


def test_accept_noise_keeps_the_table_and_its_noise(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.delenv(ACCEPT_NOISE_ENV, raising=False)
    url = f"sqlite:///{tmp_path / 'accept.db'}"
    common = ["--hr-size", "8x8", "--threads", "1", "--storage", url, "--json"]
    with _busy_loops():
        assert main(["calibrate", "--accept-noise", *common]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["noise"] is not None and out["noise"] >= 0 and out["measured"] == out["kernels"]
    assert set(out["phases_s"]) == {"noise", "kernels", "overhead"}
    assert 5 <= out["repeats_mean"] <= 10
    table = LatencyTable(url, OnnxRuntimeBackend(threads=1).fingerprint())
    assert table.noise("x2:4x4") == pytest.approx(out["noise"], abs=1e-4)
    assert table.overhead("x2:4x4") is not None
    assert main(["calibrate", *common]) == 0  # complete: nothing measured, no probe, noise as stored
    again = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert again["measured"] == 0 and again["noise"] == out["noise"] and again["phases_s"] == {}


def test_old_database_without_noise_table_still_opens(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:  # the schema before issue 14
        conn.execute(
            sa.text(
                "CREATE TABLE srprune_latency_kernels (id INTEGER PRIMARY KEY, fingerprint VARCHAR(255) "
                "NOT NULL, kernel_key VARCHAR(255) NOT NULL, median_ms FLOAT NOT NULL, spread_ms FLOAT "
                "NOT NULL, repeats INTEGER NOT NULL, measured_at DATETIME NOT NULL, "
                "CONSTRAINT srprune_latency_kernels_uq UNIQUE (fingerprint, kernel_key))"
            )
        )
        conn.execute(
            sa.text(
                "INSERT INTO srprune_latency_kernels VALUES "
                "(1, 'dev|threads=1', 'k', 1.5, 0.1, 10, '2025-01-01 00:00:00')"
            )
        )
    engine.dispose()
    table = LatencyTable(url, "dev|threads=1")
    assert table.timings() == {"k": Timing(1.5, 0.1, 10)}
    assert table.noise("x2:4x4") is None and table.overhead("x2:4x4") is None
    assert table.set_noise("x2:4x4", 0.03, 0.05) == 0.03
    assert table.set_noise("x2:4x4", 0.01, 0.05) == 0.03  # a table keeps its noisiest part's figure


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--max-noise", "0"], "percentage above 0"),
        (["--max-noise", "-5"], "percentage above 0"),
        (["--max-noise", "nan"], "finite"),
        (["--max-noise", "abc"], "expected a number"),
        (["--max-noise", "5000"], "at most 1000"),
        (["--max-noise", "5", "--accept-noise"], "not allowed with"),
        (["--max-repeats", "0"], "positive integer"),
        (["--max-repeats", "x"], "positive integer"),
    ],
)
@pytest.mark.parametrize("command", ["calibrate", "latency"])
def test_bad_noise_and_repeat_flags(
    command: str, flags: list[str], message: str, tmp_path: Path, capsys
) -> None:
    db = tmp_path / "x.db"
    with pytest.raises(SystemExit) as exc:
        main([command, "--hr-size", "8x8", "--storage", f"sqlite:///{db}", *flags])
    assert exc.value.code == 2
    assert message in capsys.readouterr().err
    assert not db.exists()


def test_max_repeats_below_repeats_is_one_line(tmp_path: Path, capsys) -> None:
    db = tmp_path / "x.db"
    argv = ["calibrate", "--hr-size", "8x8", "--storage", f"sqlite:///{db}", "--repeats", "6"]
    assert main([*argv, "--max-repeats", "3"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--max-repeats 3 is below --repeats 6" in err[0]
    assert not db.exists()  # refused before the table was created


def test_resolve_max_noise(monkeypatch) -> None:
    monkeypatch.delenv(ACCEPT_NOISE_ENV, raising=False)
    assert resolve_max_noise(None) == DEFAULT_MAX_NOISE
    assert resolve_max_noise(0.2) == 0.2
    monkeypatch.setenv(ACCEPT_NOISE_ENV, "1")
    assert resolve_max_noise(None) == math.inf
    assert resolve_max_noise(0.2) == 0.2  # an explicit limit wins
    for bad in (0.0, -1.0, math.nan):
        with pytest.raises(ValueError, match="positive share"):
            resolve_max_noise(bad)


def test_noise_figure_is_spread_or_drift() -> None:
    steady = [Timing(10.0, 0.1, 10)] * 3
    assert kernel_noise(steady) == pytest.approx(0.01)
    drifting = [Timing(10.0, 0.1, 10), Timing(12.0, 0.1, 10), Timing(10.0, 0.1, 10)]
    assert kernel_noise(drifting) == pytest.approx(0.2)
    ms = iter([10.0, 10.0, 10.0, 30.0, 10.0, 10.0])
    layers = [LayerSpec(name, "conv", 8, 8, 3, 1, 4, 4) for name in "ab"]
    probe = NoiseProbe(lambda layer: Timing(next(ms), 0.0, 5), layers)
    probe.probe(), probe.probe(), probe.probe()
    assert probe.noise() == pytest.approx(1.0)  # median of the two references: 0 and 2
    assert probe.noise(last=1) == 0.0


def test_reference_layers_spread_over_cost() -> None:
    universe = _space().layer_universe(48, 48)
    refs = reference_layers(universe)
    assert len(refs) == 3 and len({r.key() for r in refs}) == 3
    macs = sorted(layer.macs for layer in universe)
    assert macs[0] <= refs[0].macs <= refs[1].macs <= refs[2].macs <= macs[-1]
    assert reference_layers(universe[:2]) == sorted(universe[:2], key=lambda s: (s.macs, s.key()))
