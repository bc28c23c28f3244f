"""Opening the shared SQL study store: heartbeats on, stale trials retried, clear errors."""

from __future__ import annotations

import optuna
from optuna.storages import RetryHeartbeatStaleTrialCallback
import sqlalchemy as sa

from optuna_srprune.exceptions import StudyError
from optuna_srprune.latency import mask_url

DEFAULT_STORAGE = "sqlite:///srprune.db"
_MAX_RETRY = 3


def _engine_kwargs(url: str) -> dict[str, object]:
    kwargs: dict[str, object] = {"pool_pre_ping": True}
    if sa.make_url(url).get_backend_name() == "sqlite":
        # Several workers may write at once: wait for the lock instead of failing.
        kwargs["connect_args"] = {"timeout": 60}
    return kwargs


def open_storage(url: str, heartbeat_s: int = 10) -> optuna.storages.RDBStorage:
    """An RDB storage for ``url``; trials silent for three heartbeats are failed and retried."""
    try:
        sa.make_url(url)
    except sa.exc.ArgumentError:
        raise StudyError(
            f"Storage {url!r} is not a database URL; use e.g. sqlite:///srprune.db or "
            "postgresql+psycopg://user@host/db."
        ) from None
    try:
        return optuna.storages.RDBStorage(
            url,
            heartbeat_interval=heartbeat_s,
            grace_period=3 * heartbeat_s,
            heartbeat_stale_trial_callback=RetryHeartbeatStaleTrialCallback(max_retry=_MAX_RETRY),
            engine_kwargs=_engine_kwargs(url),
        )
    except (sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.NoSuchModuleError) as err:
        reason = str(getattr(err, "orig", None) or err).strip().splitlines()[0]
        raise StudyError(f"Cannot open the study storage {mask_url(url)}: {reason}") from None
    except ModuleNotFoundError as err:
        raise StudyError(
            f"The database driver {err.name!r} for {mask_url(url)} is not installed "
            "(for PostgreSQL: pip install 'optuna-srprune[postgres]')."
        ) from None
