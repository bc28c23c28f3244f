"""Latency lookup tables in SQL (SQLAlchemy 2), safe for many concurrent writers.

Two tables live beside an Optuna study's own, prefixed ``srprune_``:

- ``srprune_latency_kernels``: one row per (device fingerprint, kernel key), unique;
- ``srprune_latency_overheads``: the fitted per-network overhead per (fingerprint, context);
- ``srprune_latency_noise``: how noisy the machine was while calibrating, per (fingerprint, context).
  Added in issue 14: a database made before it gets the table when opened, and its calibrations
  have no noise figure (``None``).

Rows are only ever inserted with the dialect's insert-or-ignore (``ON CONFLICT DO NOTHING`` on SQLite
and PostgreSQL, ``INSERT IGNORE`` on MySQL, a savepoint per row elsewhere), so several processes
calibrating at once can neither duplicate nor lose a kernel.
"""

from __future__ import annotations

import csv
import datetime
import functools
from pathlib import Path
import time
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.engine import Engine

from optuna_srprune._defaults import DEFAULT_STORAGE
from optuna_srprune._redact import mask_url
from optuna_srprune.exceptions import LatencyTableError
from optuna_srprune.latency._timing import Timing

CSV_COLUMNS = ("fingerprint", "kernel_key", "median_ms", "spread_ms", "repeats")

_metadata = sa.MetaData()
KERNELS = sa.Table(
    "srprune_latency_kernels",
    _metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("fingerprint", sa.String(255), nullable=False),
    sa.Column("kernel_key", sa.String(255), nullable=False),
    sa.Column("median_ms", sa.Float, nullable=False),
    sa.Column("spread_ms", sa.Float, nullable=False),
    sa.Column("repeats", sa.Integer, nullable=False),
    sa.Column("measured_at", sa.DateTime, nullable=False),
    sa.UniqueConstraint("fingerprint", "kernel_key", name="srprune_latency_kernels_uq"),
)
OVERHEADS = sa.Table(
    "srprune_latency_overheads",
    _metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("fingerprint", sa.String(255), nullable=False),
    sa.Column("context", sa.String(255), nullable=False),
    sa.Column("intercept_ms", sa.Float, nullable=False),
    sa.Column("slope", sa.Float, nullable=False),
    sa.Column("points", sa.Integer, nullable=False),
    sa.Column("fitted_at", sa.DateTime, nullable=False),
    sa.UniqueConstraint("fingerprint", "context", name="srprune_latency_overheads_uq"),
)
NOISE = sa.Table(
    "srprune_latency_noise",
    _metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("fingerprint", sa.String(255), nullable=False),
    sa.Column("context", sa.String(255), nullable=False),
    sa.Column("noise", sa.Float, nullable=False),
    sa.Column("max_noise", sa.Float, nullable=True),  # the limit it was checked against; NULL: accepted
    sa.Column("measured_at", sa.DateTime, nullable=False),
    sa.UniqueConstraint("fingerprint", "context", name="srprune_latency_noise_uq"),
)


def _reason(err: BaseException) -> str:
    """The first line of what the driver said (SQLAlchemy appends statements and links)."""
    orig = getattr(err, "orig", None) or err
    lines = str(orig).strip().splitlines()
    return f"{type(orig).__name__}: {lines[0].strip()}" if lines else type(orig).__name__


@functools.cache
def _engine(url: str) -> Engine:
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError:
        raise LatencyTableError(
            f"Storage {mask_url(url)} is not a SQLAlchemy URL, e.g. sqlite:///srprune.db."
        ) from None
    # Concurrent SQLite writers wait for the file lock instead of failing at once.
    connect_args = {"timeout": 60} if parsed.get_backend_name() == "sqlite" else {}
    try:
        return sa.create_engine(parsed, connect_args=connect_args, pool_pre_ping=True)
    except Exception as err:  # bad driver, missing module...
        raise LatencyTableError(f"Cannot open storage {mask_url(parsed)}: {_reason(err)}") from None


def _create_tables(engine: Engine, attempts: int = 5) -> None:
    for attempt in range(attempts):
        try:
            _metadata.create_all(engine)  # checkfirst: only the missing tables
            return
        except sa.exc.DatabaseError:
            # Another process created a table between the existence check and CREATE TABLE:
            # the next attempt sees it and skips it.
            if attempt == attempts - 1:
                raise
            time.sleep(0.05 * (attempt + 1))


def _insert_ignore(conn: Connection, table: sa.Table, rows: list[dict[str, Any]]) -> int:
    """Insert ``rows``, skipping those that violate the unique constraint; return how many were new."""
    if not rows:
        return 0
    name = conn.dialect.name
    if name in ("sqlite", "postgresql"):
        module: Any = sqlite if name == "sqlite" else postgresql
        # RETURNING yields exactly the new rows; executemany's rowcount is unreliable on psycopg.
        stmt = module.insert(table).on_conflict_do_nothing().returning(table.c.id)
        return len(conn.execute(stmt, rows).all())
    if name in ("mysql", "mariadb"):
        return conn.execute(table.insert().prefix_with("IGNORE"), rows).rowcount
    inserted = 0
    for row in rows:  # portable fallback: one savepoint per row
        try:
            with conn.begin_nested():
                conn.execute(table.insert(), row)
            inserted += 1
        except sa.exc.IntegrityError:
            pass
    return inserted


class LatencyTable:
    """The kernel latencies of one device (fingerprint) in a SQL database.

    Example:

        .. code::

            from optuna_srprune.latency import LatencyTable, Timing

            table = LatencyTable("sqlite://", "my-device|threads=2|float32")
            table.add("conv:k3s1:3>8:16x16:act=-:res=-:ps=1", Timing(0.5, 0.01, 10))
            assert len(table) == 1

    Args:
        storage: A SQLAlchemy URL (the Optuna study's database works), SQLite by default.
        fingerprint: The device fingerprint this table is for; other devices' rows are never read.
    """

    def __init__(self, storage: str = DEFAULT_STORAGE, fingerprint: str = "") -> None:
        if not fingerprint or len(fingerprint) > 255:
            raise LatencyTableError(f"A fingerprint must be 1..255 characters, got {fingerprint!r}.")
        self.storage = storage
        self.fingerprint = fingerprint
        self.engine = _engine(storage)
        try:
            _create_tables(self.engine)
        except sa.exc.SQLAlchemyError as err:
            raise LatencyTableError(
                f"Cannot use storage {mask_url(storage)}: {_reason(err)} "
                "(is it reachable, writable, and a database?)"
            ) from None

    def __len__(self) -> int:
        query = (
            sa.select(sa.func.count()).select_from(KERNELS).where(KERNELS.c.fingerprint == self.fingerprint)
        )
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def fingerprints(self) -> list[str]:
        """Every fingerprint with kernels in this database."""
        with self.engine.connect() as conn:
            return sorted(conn.execute(sa.select(KERNELS.c.fingerprint).distinct()).scalars())

    def require(self) -> None:
        """Raise :class:`LatencyTableError` unless this fingerprint has kernels here."""
        if len(self):
            return
        others = [f for f in self.fingerprints() if f != self.fingerprint]
        where = mask_url(self.storage)
        if others:
            raise LatencyTableError(
                f"The latency table in {where} was made for another device ({'; '.join(others)}), not "
                f"{self.fingerprint!r}; run `optuna-srprune calibrate` for this back-end and thread count."
            )
        raise LatencyTableError(
            f"No latency table for {self.fingerprint!r} in {where}; run `optuna-srprune calibrate`."
        )

    def has(self, key: str) -> bool:
        query = sa.select(KERNELS.c.id).where(
            KERNELS.c.fingerprint == self.fingerprint, KERNELS.c.kernel_key == key
        )
        with self.engine.connect() as conn:
            return conn.execute(query).first() is not None

    def timings(self) -> dict[str, Timing]:
        """Every kernel of this fingerprint: key -> timing."""
        cols = KERNELS.c
        query = sa.select(cols.kernel_key, cols.median_ms, cols.spread_ms, cols.repeats).where(
            cols.fingerprint == self.fingerprint
        )
        with self.engine.connect() as conn:
            return {key: Timing(m, s, r) for key, m, s, r in conn.execute(query)}

    def add(self, key: str, timing: Timing) -> bool:
        """Store one kernel; ``False`` when it was already there (the first measurement is kept)."""
        return self.add_many({key: timing}) == 1

    def add_many(self, timings: dict[str, Timing]) -> int:
        """Store kernels in one transaction, skipping those already present; return how many were new."""
        now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
        rows = [
            dict(
                fingerprint=self.fingerprint,
                kernel_key=key,
                median_ms=float(t.median_ms),
                spread_ms=float(t.spread_ms),
                repeats=int(t.repeats),
                measured_at=now,
            )
            for key, t in timings.items()
        ]
        with self.engine.begin() as conn:
            return _insert_ignore(conn, KERNELS, rows)

    # ------------------------------------------------------------------ overhead fit
    def overhead(self, context: str) -> tuple[float, float] | None:
        """The fitted ``(intercept_ms, slope)`` for ``context``, or ``None``."""
        cols = OVERHEADS.c
        query = sa.select(cols.intercept_ms, cols.slope).where(
            cols.fingerprint == self.fingerprint, cols.context == context
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return None if row is None else (float(row[0]), float(row[1]))

    def set_overhead(self, context: str, intercept_ms: float, slope: float, points: int) -> None:
        """Store (or replace) the overhead fit of ``context``."""
        now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
        values = dict(intercept_ms=intercept_ms, slope=slope, points=points, fitted_at=now)
        row = dict(fingerprint=self.fingerprint, context=context, **values)
        cols = OVERHEADS.c
        with self.engine.begin() as conn:
            if not _insert_ignore(conn, OVERHEADS, [row]):
                where = sa.and_(cols.fingerprint == self.fingerprint, cols.context == context)
                conn.execute(OVERHEADS.update().where(where).values(**values))

    def remove(self, keys: list[str]) -> int:
        """Delete these kernels of this fingerprint (a calibration taking back what it stored)."""
        if not keys:
            return 0
        cols = KERNELS.c
        with self.engine.begin() as conn:
            where = sa.and_(cols.fingerprint == self.fingerprint, cols.kernel_key.in_(keys))
            return int(conn.execute(KERNELS.delete().where(where)).rowcount)

    # ------------------------------------------------------------------ noise
    def noise(self, context: str) -> float | None:
        """The noise stored for ``context`` (IQR-or-drift share, 0.05 is 5%), or ``None``."""
        cols = NOISE.c
        query = sa.select(cols.noise).where(cols.fingerprint == self.fingerprint, cols.context == context)
        with self.engine.connect() as conn:
            value = conn.execute(query).scalar()
        return None if value is None else float(value)

    def set_noise(self, context: str, noise: float, max_noise: float | None) -> float:
        """Record a calibration's noise for ``context``; a table keeps its noisiest part's figure.

        Returns the figure now stored. ``max_noise`` is the limit it passed (``None``: accepted).
        """
        now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
        noise = max(float(noise), self.noise(context) or 0.0)
        values = dict(noise=noise, max_noise=max_noise, measured_at=now)
        row = dict(fingerprint=self.fingerprint, context=context, **values)
        cols = NOISE.c
        with self.engine.begin() as conn:
            if not _insert_ignore(conn, NOISE, [row]):
                where = sa.and_(cols.fingerprint == self.fingerprint, cols.context == context)
                conn.execute(NOISE.update().where(where).values(**values))
        return noise

    # ------------------------------------------------------------------ CSV
    def to_csv(self, path: str | Path) -> int:
        """Write this fingerprint's kernels to ``path``; return the row count."""
        timings = self.timings()
        with open(path, "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(CSV_COLUMNS)
            for key in sorted(timings):
                t = timings[key]
                writer.writerow([self.fingerprint, key, repr(t.median_ms), repr(t.spread_ms), t.repeats])
        return len(timings)

    def from_csv(self, path: str | Path) -> int:
        """Load kernels from a CSV written by :meth:`to_csv` (or by hand, e.g. on a phone).

        Every row must carry this table's fingerprint: measurements of another device are refused
        with :class:`LatencyTableError`, and nothing is written. Returns how many rows were new.
        """
        timings: dict[str, Timing] = {}
        try:
            with open(path, newline="", encoding="utf-8") as f:
                reader = csv.DictReader(f)
                if reader.fieldnames is None or set(CSV_COLUMNS) - set(reader.fieldnames):
                    raise LatencyTableError(
                        f"{path}: a latency CSV needs the columns {', '.join(CSV_COLUMNS)}."
                    )
                for line, row in enumerate(reader, start=2):
                    timings[row["kernel_key"]] = self._csv_timing(path, line, row)
        except OSError as err:
            raise LatencyTableError(f"Cannot read latency CSV {path}: {err}") from err
        return self.add_many(timings)

    def _csv_timing(self, path: str | Path, line: int, row: dict[str, str]) -> Timing:
        from optuna_srprune.config import LayerSpec

        if row["fingerprint"] != self.fingerprint:
            raise LatencyTableError(
                f"{path}:{line} was measured on {row['fingerprint']!r}, not on {self.fingerprint!r}; "
                "refusing to mix devices in one table."
            )
        try:
            LayerSpec.from_key(row["kernel_key"])
            timing = Timing(float(row["median_ms"]), float(row["spread_ms"]), int(row["repeats"]))
        except (ValueError, TypeError) as err:
            raise LatencyTableError(f"{path}:{line}: bad row {row}: {err}") from err
        if not timing.median_ms > 0:
            raise LatencyTableError(f"{path}:{line}: latency must be positive, got {timing.median_ms}.")
        return timing
