"""The run store: one SQLite database per workspace (``.uet/runs.db``).

Owns opening connections (WAL checkpointed every 512 KB, ``synchronous=NORMAL``, foreign
keys, busy timeout), the migration runner and short ``BEGIN IMMEDIATE`` transactions.
Several processes (a CLI, the language server) may use one database at once: every write
takes the write lock up front (``BEGIN IMMEDIATE``) so that no transaction ever has to
upgrade a read lock, and waiters queue on the busy timeout instead of failing.

Each thread opens its own connection; connections are never shared between threads.

Reading history (:func:`open_for_reading`) also works where the store cannot be written
(a read-only mount, a copy without write permission): the database is then opened
read-only, or immutable when its write-ahead log is gone, and nothing is migrated.
"""

from __future__ import annotations

import itertools
import json
import os
import sqlite3
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from uet.engine.errors import MigrationError, StoreError
from uet.engine.store.ids import new_ulid, utc_timestamp
from uet.engine.store.migrations import MIGRATIONS, SCHEMA_VERSION

__all__ = [
    "BUSY_TIMEOUT_SECONDS",
    "WAL_CHECKPOINT_PAGES",
    "append_event",
    "compact_json",
    "connect",
    "insert_rows",
    "integrity_problems",
    "open_for_reading",
    "open_read_only",
    "schema_version",
    "transaction",
]

# JSON as stored in the run store's *_json columns (one reusable encoder: json.dumps with
# options builds a new encoder on every call, and the engine writes several per task).
compact_json = json.JSONEncoder(separators=(",", ":")).encode
# Long enough for another process's short transactions (and its WAL checkpoints) to finish.
BUSY_TIMEOUT_SECONDS = 30.0
# A commit that leaves the WAL this long (in pages) copies it into the database file
# (SQLite's default: 1,000). Closing the last connection checkpoints whatever is left, and
# the command waits for it; checkpointing more often along the way, on the writer thread
# while tasks run, leaves little for the end of the run.
WAL_CHECKPOINT_PAGES = 128


def connect(path: Path, *, migrate: bool = True) -> sqlite3.Connection:
    """Open (creating when needed) the run store at ``path`` and bring it up to date.

    The connection is in autocommit mode: writes go through :func:`transaction`.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        connection = sqlite3.connect(
            path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None, check_same_thread=True
        )
    except sqlite3.Error as exc:
        raise StoreError(f"cannot open run store {path}: {exc}") from exc
    try:
        connection.row_factory = sqlite3.Row
        connection.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_SECONDS * 1000)}")
        _set_up(connection, path, migrate=migrate)
    except sqlite3.Error as exc:
        connection.close()
        raise StoreError(f"cannot use run store {path}: {exc}") from exc
    except StoreError:
        connection.close()
        raise
    return connection


def open_for_reading(path: Path) -> sqlite3.Connection:
    """A connection for reading the existing run store at ``path``.

    Where the store and its folder can be written this is :func:`connect`. Where they
    cannot, writing is impossible anyway: the database is opened read-only (SQLite then
    reads a write-ahead log left behind too), else immutable when there is no log (SQLite
    cannot open a WAL database read-only without its ``-shm`` file, which it would have to
    create). Nothing is migrated: a store of an older schema is refused with a message.
    """
    if os.access(path, os.W_OK) and os.access(path.parent, os.W_OK):
        return connect(path)
    connection = open_read_only(path)
    try:
        current = schema_version(connection)
    except sqlite3.Error as exc:
        connection.close()
        raise StoreError(f"cannot read run store {path}: {exc}") from exc
    if current < SCHEMA_VERSION:
        connection.close()
        raise MigrationError(
            f"run store {path} was written by an older uet (schema version {current}; this"
            f" uet reads {SCHEMA_VERSION}) and cannot be brought up to date here, because its"
            " folder is read-only; run any uet command on it once where it is writable"
        )
    if current > SCHEMA_VERSION:
        connection.close()
        raise MigrationError(_newer_schema(path, current))
    return connection


def open_read_only(path: Path, timeout: float = BUSY_TIMEOUT_SECONDS) -> sqlite3.Connection:
    """The existing database at ``path``, opened read-only whatever the permissions, as
    :func:`open_for_reading` does where nothing can be written; its schema is not checked.
    Raises :class:`StoreError`."""
    log = path.with_name(path.name + "-wal")
    has_log = log.exists() and log.stat().st_size > 0
    last_error: sqlite3.Error | None = None
    for mode in ("mode=ro", "immutable=1"):
        if mode == "immutable=1" and has_log:
            break  # immutable ignores the log, and with it the latest changes
        try:
            connection = sqlite3.connect(
                f"{path.absolute().as_uri()}?{mode}",
                uri=True,
                timeout=timeout,
                isolation_level=None,
                check_same_thread=True,
            )
        except sqlite3.Error as exc:
            last_error = exc
            continue
        try:
            connection.row_factory = sqlite3.Row
            connection.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
        except sqlite3.Error as exc:
            connection.close()
            last_error = exc
            if _busy(exc):
                break  # a writer holds it: immutable would read past its lock, mid-write
            continue
        return connection
    hint = (
        "; its write-ahead log can only be read where SQLite may create the log's index"
        " (runs.db-shm) next to it"
        if has_log
        else ""
    )
    raise StoreError(f"cannot read run store {path}: {last_error}{hint}")


def _busy(error: sqlite3.Error) -> bool:
    """Whether SQLite refused because another connection holds a lock."""
    name = getattr(error, "sqlite_errorname", "") or ""
    return name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in str(error)


def _set_up(connection: sqlite3.Connection, path: Path, *, migrate: bool) -> None:
    """WAL, pragmas and migrations, retried while another process sets up the same store.

    Switching a new database to WAL and the first migration take locks for which SQLite
    answers "database is locked" at once instead of waiting on the busy timeout (to avoid a
    deadlock between lock upgrades), so concurrent first opens retry with a short back-off.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_SECONDS
    delay = 0.005
    while True:
        try:
            if connection.execute("PRAGMA page_count").fetchone()[0] == 0:
                # A new, empty store has nothing to lose while it switches to WAL, so the
                # switch (a rollback-journal transaction) need not wait for the disk; every
                # first run in a workspace (every run on a fresh CI clone) starts here.
                connection.execute("PRAGMA synchronous = OFF")
            mode = connection.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise StoreError(f"run store {path} cannot use write-ahead logging (mode {mode})")
            connection.execute("PRAGMA synchronous = NORMAL")
            connection.execute(f"PRAGMA wal_autocheckpoint = {WAL_CHECKPOINT_PAGES}")
            connection.execute("PRAGMA foreign_keys = ON")
            if migrate:
                _migrate(connection, path)
            return
        except sqlite3.OperationalError as exc:
            locked = "locked" in str(exc) or "busy" in str(exc)
            if not locked or time.monotonic() + delay > deadline:
                raise
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            time.sleep(delay)
            delay = min(delay * 2, 0.2)


@contextmanager
def transaction(connection: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One short write transaction: ``BEGIN IMMEDIATE`` ... ``COMMIT`` (rollback on error)."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        yield connection
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")


def schema_version(connection: sqlite3.Connection) -> int:
    """The ``user_version`` of the database (number of migrations applied)."""
    return int(connection.execute("PRAGMA user_version").fetchone()[0])


def integrity_problems(connection: sqlite3.Connection) -> list[str]:
    """``PRAGMA integrity_check`` and ``foreign_key_check`` findings (empty when sound)."""
    problems = [
        str(row[0])
        for row in connection.execute("PRAGMA integrity_check").fetchall()
        if str(row[0]) != "ok"
    ]
    problems.extend(
        f"foreign key violation in {row[0]} row {row[1]} -> {row[2]}"
        for row in connection.execute("PRAGMA foreign_key_check").fetchall()
    )
    return problems


def append_event(
    connection: sqlite3.Connection,
    run_id: str,
    kind: str,
    payload: Mapping[str, Any] | None = None,
    *,
    step_attempt_id: str | None = None,
    ts: str | None = None,
) -> str:
    """Append one run_event row (inside the caller's transaction); returns its id."""
    event_id = new_ulid()
    connection.execute(
        "INSERT INTO run_events (event_id, run_id, step_attempt_id, ts, kind, payload_json)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (
            event_id,
            run_id,
            step_attempt_id,
            ts or utc_timestamp(),
            kind,
            compact_json(payload) if payload else None,
        ),
    )
    return event_id


# Bound parameters per statement: SQLite's historical default limit, so that any build works.
_MAX_PARAMETERS = 999


def insert_rows(connection: sqlite3.Connection, insert: str, rows: Sequence[Sequence[Any]]) -> None:
    """Insert ``rows`` with multi-row ``INSERT ... VALUES (...), (...)`` statements.

    ``insert`` is the statement without its ``VALUES`` clause (``INSERT INTO t (a, b)``).
    ``executemany`` steps the statement once per row, releasing and re-taking the GIL each
    time; on the store writer's thread each re-take waits for the engine's busy worker
    threads, so one statement per chunk of rows writes a batch in a few steps instead.
    """
    if not rows:
        return
    width = len(rows[0])
    per_statement = max(1, _MAX_PARAMETERS // width)
    group = "(" + ", ".join("?" * width) + ")"
    for start in range(0, len(rows), per_statement):
        chunk = rows[start : start + per_statement]
        connection.execute(
            f"{insert} VALUES {', '.join(itertools.repeat(group, len(chunk)))}",
            list(itertools.chain.from_iterable(chunk)),
        )


def _migrate(connection: sqlite3.Connection, path: Path) -> None:
    """Apply every migration the database lacks, each in its own transaction."""
    if schema_version(connection) == SCHEMA_VERSION:
        return
    for migration in MIGRATIONS:
        with transaction(connection):
            # Re-read under the write lock: another process may have migrated meanwhile.
            current = schema_version(connection)
            if current > SCHEMA_VERSION:
                raise MigrationError(_newer_schema(path, current))
            if current >= migration.version:
                continue
            if current != migration.version - 1:
                raise MigrationError(f"run store {path} skipped migrations (at {current})")
            for statement in migration.statements:
                connection.execute(statement)
            connection.execute(f"PRAGMA user_version = {migration.version}")


def _newer_schema(path: Path, current: int) -> str:
    return (
        f"run store {path} has schema version {current}, newer than this uet "
        f"understands ({SCHEMA_VERSION}); upgrade uet-lsp"
    )
