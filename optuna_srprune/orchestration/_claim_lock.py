"""Making the claim of a queued trial atomic on SQLite.

Optuna claims a WAITING trial with ``SELECT ... FOR UPDATE`` then an update; PostgreSQL and MySQL
lock the row, but SQLite ignores ``FOR UPDATE``, so two processes can claim the same trial. SQLite
databases live on one machine, so an OS file lock beside the database serialises the claims.
"""

from __future__ import annotations

from collections.abc import Iterator
import contextlib
import fcntl

from optuna_srprune.exceptions import StudyError


@contextlib.contextmanager
def claim_lock(storage_url: str) -> Iterator[None]:
    """Hold an exclusive lock while claiming a trial (a no-op for server databases)."""
    from optuna_srprune.orchestration._storage import sqlite_file

    database = sqlite_file(storage_url)
    if database is None:
        yield
        return
    lock_path = database.with_name(database.name + ".claim-lock")
    try:
        handle = open(lock_path, "a")  # noqa: SIM115 - closed by the with below
    except OSError as err:
        raise StudyError(
            f"Cannot create the claim lock {str(lock_path)!r} beside the SQLite database "
            f"({err.strerror or type(err).__name__}); SQLite workers need a writable database folder."
        ) from None
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
