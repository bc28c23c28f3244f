"""Opening the shared SQL study storage: heartbeats on, stale trials retried, clear errors."""

from __future__ import annotations

from pathlib import Path

import optuna
import sqlalchemy as sa

from optuna_srprune._redact import mask_url
from optuna_srprune.exceptions import StudyError
from optuna_srprune.orchestration._retry import requeue_stale


def _engine_kwargs(url: str) -> dict[str, object]:
    kwargs: dict[str, object] = {"pool_pre_ping": True}
    if sa.make_url(url).get_backend_name() == "sqlite":
        # Several workers may write at once: wait for the lock instead of failing.
        kwargs["connect_args"] = {"timeout": 60}
    return kwargs


def _parse(url: str) -> sa.URL:
    try:
        return sa.make_url(url)
    except sa.exc.ArgumentError:
        raise StudyError(
            f"Storage {mask_url(url)} is not a database URL; use e.g. sqlite:///srprune.db or "
            "postgresql+psycopg://user@host/db."
        ) from None


def sqlite_file(url: str) -> Path | None:
    """The database file of a SQLite ``url`` (``None`` for other databases and in-memory SQLite)."""
    parsed = _parse(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    database = parsed.database
    if database.startswith("file:"):  # a URI filename (?uri=true): file:path?mode=ro
        database = database[len("file:") :].split("?", 1)[0]
    return Path(database)


def database_error_reason(err: BaseException) -> str:
    """The first line of what the database driver said, without SQLAlchemy's boilerplate."""
    orig = getattr(err, "orig", None) or getattr(err, "__cause__", None) or err
    orig = getattr(orig, "orig", None) or orig
    lines = str(orig).strip().splitlines()
    return lines[0].strip() if lines else type(orig).__name__


def open_storage(url: str, heartbeat_s: int = 10, *, must_exist: bool = False) -> optuna.storages.RDBStorage:
    """An RDB storage for ``url``; trials silent for three heartbeats are failed and retried.

    Args:
        url: SQLAlchemy database URL.
        heartbeat_s: Heartbeat interval of the trials run through this storage.
        must_exist: Refuse a SQLite file that does not exist, instead of creating it: commands that
            read or join a study must not leave an empty database behind when the name is mistyped.

    Raises:
        StudyError: The URL is malformed, the database cannot be opened, is not an Optuna database,
            or (with ``must_exist``) is a SQLite file that does not exist.
    """
    _parse(url)
    path = sqlite_file(url)
    if path is not None:
        if path.exists() and not path.is_file():
            raise StudyError(f"The SQLite database {str(path)!r} is not a file.")
        if must_exist and not path.is_file():
            raise StudyError(
                f"No database file {str(path)!r} (from {mask_url(url)}); create the study there with "
                "`optuna-srprune search`, or check the --storage URL."
            )
    try:
        return optuna.storages.RDBStorage(
            url,
            heartbeat_interval=heartbeat_s,
            grace_period=3 * heartbeat_s,
            heartbeat_stale_trial_callback=requeue_stale,
            engine_kwargs=_engine_kwargs(url),
        )
    except ModuleNotFoundError as err:
        raise StudyError(
            f"The database driver {err.name!r} for {mask_url(url)} is not installed "
            "(for PostgreSQL: pip install 'optuna-srprune[postgres]')."
        ) from None
    except (sa.exc.SQLAlchemyError, optuna.exceptions.StorageInternalError, OSError) as err:
        raise StudyError(
            f"Cannot open the study storage {mask_url(url)}: {database_error_reason(err)} "
            "(is it an Optuna database, reachable and writable?)"
        ) from None
    except RuntimeError as err:  # Optuna: the schema belongs to another Optuna version
        raise StudyError(f"Cannot use the study storage {mask_url(url)}: {err}") from None
