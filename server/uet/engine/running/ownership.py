"""Who drives a run: the owner's identity, its heartbeat, and whether it is still alive.

A running run is *owned* by one engine (``runs.owner_*``); the owner's writer thread
refreshes ``heartbeat_at`` and watches ``cancel_requested``, so that ``uet cancel`` in
another process only has to set the flag. A run whose owner is gone (its process died, or
its heartbeat is stale) is an *orphan*: resume and cancel claim it with a compare-and-set on
``owner_id`` (:func:`claim_run`: only one claimant wins).
"""

from __future__ import annotations

import os
import socket
import sqlite3
import time
from pathlib import Path
from typing import NamedTuple

from uet.engine.adapters import processes
from uet.engine.store.ids import new_ulid, ulid_seconds

__all__ = [
    "HEARTBEAT_INTERVAL_SECONDS",
    "HEARTBEAT_STALE_SECONDS",
    "Owner",
    "claim_run",
    "heartbeat",
    "host_name",
    "owner_alive",
    "pending_cancel_request",
    "pid_alive",
    "process_started",
]

HEARTBEAT_INTERVAL_SECONDS = 1.0
# A heartbeat older than this means the owner is gone even if its pid exists (pid reuse).
HEARTBEAT_STALE_SECONDS = 30.0
# /proc gives a process's start in clock ticks after a boot time in whole seconds.
_START_TIME_SLACK_SECONDS = 1.5


class Owner(NamedTuple):
    """The engine instance driving a run."""

    owner_id: str
    pid: int
    host: str

    @classmethod
    def current(cls) -> Owner:
        """A new owner identity for this process."""
        return cls(new_ulid(), os.getpid(), host_name())


def host_name() -> str:
    """This machine's name, as recorded with a run's owner."""
    return socket.gethostname()


def claim_run(
    connection: sqlite3.Connection, run_id: str, owner: Owner, expected_owner_id: str | None
) -> bool:
    """Take ownership of ``run_id`` if its owner is still ``expected_owner_id``."""
    cursor = connection.execute(
        "UPDATE runs SET owner_id = ?, owner_pid = ?, owner_host = ?, heartbeat_at = ?"
        " WHERE run_id = ? AND owner_id IS ?",
        (owner.owner_id, owner.pid, owner.host, time.time(), run_id, expected_owner_id),
    )
    return cursor.rowcount == 1


def heartbeat(connection: sqlite3.Connection, run_id: str, owner: Owner) -> None:
    """Refresh the owner's heartbeat (autocommit)."""
    connection.execute(
        "UPDATE runs SET heartbeat_at = ? WHERE run_id = ? AND owner_id = ?",
        (time.time(), run_id, owner.owner_id),
    )


def pending_cancel_request(connection: sqlite3.Connection, run_id: str) -> str | None:
    """The reason of a cancel request recorded for ``run_id``, if any."""
    row = connection.execute(
        "SELECT cancel_requested, cancel_reason FROM runs WHERE run_id = ?", (run_id,)
    ).fetchone()
    if row is None or not row[0]:
        return None
    return str(row[1] or "canceled")


def owner_alive(row: sqlite3.Row, now: float | None = None) -> bool:
    """Whether the engine recorded as owning the run (``runs`` row) still drives it.

    On another host only the heartbeat can tell. On this one the owner's process must also
    be alive and be the same process: a pid is reused once its process is gone, but a
    process that started after the owner identity was made (its ULID holds the time) cannot
    be the owner.
    """
    pid, host, beat = row["owner_pid"], row["owner_host"], row["heartbeat_at"]
    if pid is None:
        return False
    fresh = beat is not None and (now or time.time()) - float(beat) < HEARTBEAT_STALE_SECONDS
    if host == host_name():
        return fresh and pid_alive(int(pid)) and _same_process(int(pid), row["owner_id"])
    return fresh


def _same_process(pid: int, owner_id: str | None) -> bool:
    """Whether process ``pid`` started before the owner identity ``owner_id`` was made in
    it (unknown: yes)."""
    made = ulid_seconds(owner_id) if owner_id else None
    started = process_started(pid)
    return made is None or started is None or started <= made + _START_TIME_SLACK_SECONDS


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` runs (a zombie has ended)."""
    process = processes.read(pid)
    if process is not None:
        return process.alive
    try:  # not in /proc: gone, or a platform without /proc
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def process_started(pid: int) -> float | None:
    """When process ``pid`` started (seconds since the epoch); ``None`` when unknown (no
    such process, no /proc)."""
    process = processes.read(pid)
    boot = _boot_time()
    if process is None or boot is None:
        return None
    return boot + process.started / os.sysconf("SC_CLK_TCK")


def _boot_time() -> float | None:
    """When the machine booted (seconds since the epoch), from ``/proc/stat``."""
    try:
        text = Path("/proc/stat").read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("btime "):
            return float(line.split()[1])
    return None
