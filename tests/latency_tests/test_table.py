"""Lookup tables in SQL: keys, CSV, fingerprints, concurrent calibration on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
from pathlib import Path
import subprocess
import sys
import time

import pytest
import sqlalchemy as sa

from optuna_srprune.config import LayerSpec
from optuna_srprune.config import lr_size
from optuna_srprune.exceptions import LatencyTableError
from optuna_srprune.latency import calibrate
from optuna_srprune.latency import LatencyPredictor
from optuna_srprune.latency import LatencyTable
from optuna_srprune.latency import mask_url
from optuna_srprune.latency import OnnxRuntimeBackend
from optuna_srprune.latency import Timing
from optuna_srprune.search_space import SRSearchSpace

FP = "test-device|threads=1|float32"


def tiny_space(scale: int = 2) -> SRSearchSpace:
    return SRSearchSpace(
        scale=scale, widths=(8,), max_depth=2, max_ratio=0.5, ratio_step=0.25, channel_multiple=4
    )


def test_key_round_trip_over_the_default_space(tmp_path: Path) -> None:
    table = LatencyTable(f"sqlite:///{tmp_path / 'k.db'}", FP)
    spaces = [SRSearchSpace(scale=s) for s in (2, 4)] + [SRSearchSpace.for_backend(s) for s in (2, 4)]
    for space in spaces:
        universe = space.layer_universe(*lr_size(720, 1280, space.scale))
        for layer in universe:  # a key names the kernel; where it sits in a block is not part of it
            plain = dataclasses.replace(layer, opens_block=False)
            assert LayerSpec.from_key(layer.key(), layer.name) == plain
        table.add_many({layer.key(): Timing(1.0, 0.1, 3) for layer in universe})
        assert {layer.key() for layer in universe} <= set(table.timings())


def test_csv_round_trip(tmp_path: Path) -> None:
    source = LatencyTable(f"sqlite:///{tmp_path / 'a.db'}", FP)
    rows = {
        layer.key(): Timing(0.1 + i / 7, i / 100, 5)
        for i, layer in enumerate(tiny_space().layer_universe(4, 4))
    }
    source.add_many(rows)
    source.set_overhead("x2:4x4", 0.5, 1.1, 6)
    assert source.to_csv(tmp_path / "t.csv") == len(rows)
    target = LatencyTable(f"sqlite:///{tmp_path / 'b.db'}", FP)
    assert target.from_csv(tmp_path / "t.csv") == len(rows)
    assert target.timings() == rows  # floats written with repr: exact
    assert target.from_csv(tmp_path / "t.csv") == 0  # importing twice adds nothing


def test_another_fingerprint_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'f.db'}"
    mine = LatencyTable(url, FP)
    mine.add("conv:k3s1:3>8:4x4:act=-:res=-:ps=1", Timing(1.0, 0.0, 1))
    mine.to_csv(tmp_path / "mine.csv")
    other = LatencyTable(url, "other-device|threads=4|float32")
    with pytest.raises(LatencyTableError, match="another device"):
        LatencyPredictor(other)
    with pytest.raises(LatencyTableError, match="refusing to mix devices"):
        other.from_csv(tmp_path / "mine.csv")
    assert len(other) == 0  # nothing written
    with pytest.raises(LatencyTableError, match="calibrate this back-end"):
        LatencyPredictor(mine, backend=OnnxRuntimeBackend(threads=1))


def test_bad_storage_and_masked_password() -> None:
    with pytest.raises(LatencyTableError, match="not a SQLAlchemy URL"):
        LatencyTable("no-such-url", FP)
    masked = mask_url("postgresql+psycopg://user:secret@host:5432/db")
    assert "secret" not in masked and "user" in masked


_WORKER = """
import sys, time
from optuna_srprune.latency import LatencyTable, OnnxRuntimeBackend, calibrate
from optuna_srprune.search_space import SRSearchSpace
url, start = sys.argv[1], float(sys.argv[2])
backend = OnnxRuntimeBackend(threads=1)
table = LatencyTable(url, backend.fingerprint())
space = SRSearchSpace(scale=2, widths=(8,), max_depth=2, max_ratio=0.5, ratio_step=0.25, channel_multiple=4)
time.sleep(max(0.0, start - time.time()))  # all workers start together
report = calibrate(backend, table, space, (8, 8), warmup=0, repeats=1, overhead_networks=2, progress=False)
print(report.measured)
"""


def _calibrate_concurrently(url: str, workers: int = 3) -> None:
    start = time.time() + 4.0
    procs = [
        subprocess.Popen([sys.executable, "-c", _WORKER, url, str(start)], stdout=subprocess.PIPE, text=True)
        for _ in range(workers)
    ]
    outputs = [p.communicate(timeout=120)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs), outputs
    universe = tiny_space().layer_universe(4, 4)
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        keys = conn.execute(sa.text("SELECT fingerprint, kernel_key FROM srprune_latency_kernels")).all()
        fits = conn.execute(sa.text("SELECT count(*) FROM srprune_latency_overheads")).scalar_one()
    engine.dispose()
    assert len(keys) == len(set(keys)) == len(universe)  # no duplicates, nothing lost
    assert {k for _, k in keys} == {layer.key() for layer in universe}
    assert sum(int(o) for o in outputs) == len(universe)  # every row inserted by exactly one worker
    assert fits == 1


def test_concurrent_calibration_sqlite(tmp_path: Path) -> None:
    _calibrate_concurrently(f"sqlite:///{tmp_path / 'concurrent.db'}")


@pytest.mark.postgres
def test_concurrent_calibration_postgres(postgres_url: str) -> None:
    _calibrate_concurrently(postgres_url)


def test_calibration_is_resumable(tmp_path: Path) -> None:
    backend = OnnxRuntimeBackend(threads=1)
    table = LatencyTable(f"sqlite:///{tmp_path / 'r.db'}", backend.fingerprint())
    universe = tiny_space().layer_universe(4, 4)
    table.add_many({layer.key(): Timing(1.0, 0.0, 1) for layer in universe[:5]})  # an interrupted run
    report = calibrate(
        backend, table, tiny_space(), (8, 8), warmup=0, repeats=1, overhead_networks=2, progress=False
    )
    assert (report.kernels, report.measured, report.skipped) == (len(universe), len(universe) - 5, 5)
    assert table.timings()[universe[0].key()].median_ms == 1.0  # existing rows untouched
    assert report.overhead is not None and table.overhead("x2:4x4") == report.overhead
