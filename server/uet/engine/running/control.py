"""Run ownership and control across processes: heartbeats, orphans, cancel requests.

A running run is *owned* by one engine (``runs.owner_*``); the owner's writer thread
refreshes ``heartbeat_at`` and watches ``cancel_requested``, so that ``uet cancel`` in
another process only has to set the flag. A run whose owner is gone (its process died, or its
heartbeat is stale) is an *orphan*: resume and cancel claim it with a compare-and-set on
``owner_id`` (only one claimant wins), kill the process groups its attempts left behind,
and close those attempts as interrupted.
"""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import time
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

from uet.engine.errors import RunControlError
from uet.engine.store.database import append_event, connect, transaction
from uet.engine.store.ids import new_ulid, ulid_seconds
from uet.engine.store.lifecycle import (
    TERMINAL_RUN_STATES,
    EventKind,
    RunState,
    StepOutcome,
    StepState,
    TaskState,
)
from uet.engine.store.records import find_run_id
from uet.engine.store.transitions import transition

__all__ = [
    "HEARTBEAT_INTERVAL_SECONDS",
    "HEARTBEAT_STALE_SECONDS",
    "STOP_WAIT_SECONDS",
    "Owner",
    "cancel_run",
    "claim_run",
    "close_interrupted_attempts",
    "heartbeat",
    "host_name",
    "kill_orphan_groups",
    "owner_alive",
    "pending_cancel_request",
    "read_process_record",
    "run_logs_dir",
]

HEARTBEAT_INTERVAL_SECONDS = 1.0
# A heartbeat older than this means the owner is gone even if its pid exists (pid reuse).
HEARTBEAT_STALE_SECONDS = 30.0
_CANCEL_POLL_SECONDS = 0.05
# How long resume and cancel wait for the killed processes of an orphaned run to be gone.
STOP_WAIT_SECONDS = 10.0
_PROC = Path("/proc")


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
        return fresh and _pid_alive(int(pid)) and _same_process(int(pid), row["owner_id"])
    return fresh


# /proc gives a process's start in clock ticks after a boot time in whole seconds.
_START_TIME_SLACK_SECONDS = 1.5


def _same_process(pid: int, owner_id: str | None) -> bool:
    """Whether process ``pid`` started before the owner identity ``owner_id`` was made in
    it (unknown: yes)."""
    made = ulid_seconds(owner_id) if owner_id else None
    started = _process_started(pid)
    return made is None or started is None or started <= made + _START_TIME_SLACK_SECONDS


def kill_orphan_groups(
    connection: sqlite3.Connection,
    run_id: str,
    run_logs_dir: Path | None = None,
    started_by: int | None = None,
) -> list[int]:
    """Stop every process of ``run_id`` still alive: SIGKILL the process groups of its
    unfinished attempts (those in the store and those in the run's process-group record in
    ``run_logs_dir``, where each child is written as it starts) and every process marked
    with the run, then wait until they are gone. Returns the groups hit. ``started_by``
    (clock ticks after boot, :func:`~uet.engine.adapters.processes.boot_ticks`) spares
    what started later: the run's reaper stops what its dead engine left, never what an
    engine that resumed the run meanwhile has started.

    Raises :class:`RunControlError` when some survive :data:`STOP_WAIT_SECONDS`: nothing
    of the run may run again while a copy of it still runs.
    """
    from uet.engine.adapters import processes

    finished = {
        str(row[0])
        for row in connection.execute(
            "SELECT step_attempt_id FROM step_attempts"
            " WHERE run_id = ? AND state NOT IN ('pending', 'running')",
            (run_id,),
        )
    }
    groups: dict[int, float | None] = {}
    for pgid, started_at in connection.execute(
        "SELECT process_group, started_at FROM step_attempts"
        " WHERE run_id = ? AND state IN ('pending', 'running') AND process_group IS NOT NULL",
        (run_id,),
    ):
        groups[int(pgid)] = _epoch(started_at)
    if run_logs_dir is not None:
        for pgid, recorded_at, attempt_id in read_process_record(run_logs_dir):
            if attempt_id not in finished:
                groups.setdefault(pgid, recorded_at)
    killed: list[int] = []
    for pgid, started_at in groups.items():
        if not _group_matches(pgid, started_at) or not _group_started_by(pgid, started_by):
            continue
        try:
            os.killpg(pgid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            continue
        killed.append(pgid)
    marked = processes.kill_and_reap(
        processes.with_descendants(processes.marked(run_id, started_by=started_by))
    )
    deadline = time.monotonic() + STOP_WAIT_SECONDS
    while True:
        alive = [member for pgid in killed for member in processes.group_members(pgid)]
        alive += [process for process in marked if _pid_alive(process.pid)]
        if not alive:
            return killed
        if time.monotonic() >= deadline:
            names = ", ".join(processes.describe(process) for process in alive[:10])
            raise RunControlError(
                f"processes of run {run_id} are still alive after SIGKILL ({names});"
                " nothing was run again"
            )
        time.sleep(_CANCEL_POLL_SECONDS)


def read_process_record(run_logs_dir: Path) -> list[tuple[int, float | None, str]]:
    """The ``(process group, time recorded, attempt id)`` lines of a run's process-group
    record (none when it does not exist)."""
    from uet.engine.running.session import process_record_path

    try:
        text = process_record_path(run_logs_dir).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    entries = []
    for line in text.splitlines():
        fields = line.split()
        try:
            pgid = int(fields[0])
            recorded_at = float(fields[1]) if len(fields) > 1 else None
        except (ValueError, IndexError):
            continue  # a line cut short by a crash
        if pgid > 1:
            entries.append((pgid, recorded_at, fields[2] if len(fields) > 2 else ""))
    return entries


def run_logs_dir(db_path: Path, run_id: str) -> Path:
    """The folder of run ``run_id``'s logs next to the run store at ``db_path``."""
    from uet.engine.workspace import LOGS_DIR_NAME

    return db_path.parent / LOGS_DIR_NAME / run_id


def close_interrupted_attempts(
    connection: sqlite3.Connection,
    run_id: str,
    *,
    step_state: StepState,
    task_state: TaskState,
    reason: str,
) -> list[str]:
    """Close every unfinished attempt of ``run_id`` (in the caller's transaction) and put
    the unfinished tasks in ``task_state``; returns the attempt ids."""
    rows = connection.execute(
        "SELECT step_attempt_id, task_id, state FROM step_attempts"
        " WHERE run_id = ? AND state IN ('pending', 'running') ORDER BY sequence",
        (run_id,),
    ).fetchall()
    for attempt_id, task_id, state in rows:
        target = step_state
        if state == StepState.PENDING and target is StepState.ERROR:
            target = StepState.CANCELED  # a pending attempt never ran: it cannot have failed
        transition(
            connection,
            run_id=run_id,
            step_attempt_id=attempt_id,
            to=target,
            reason=reason,
            outcome=StepOutcome(),
        )
        append_event(
            connection,
            run_id,
            EventKind.ATTEMPT_INTERRUPTED,
            {"task_id": task_id, "reason": reason},
            step_attempt_id=attempt_id,
        )
    connection.execute(
        "UPDATE run_tasks SET state = ?, state_reason = ?"
        " WHERE run_id = ? AND state IN ('pending', 'running')",
        (task_state, reason if task_state is not TaskState.PENDING else None, run_id),
    )
    return [row[0] for row in rows]


def cancel_run(
    db_path: Path, run: str, reason: str = "canceled by user", *, wait_seconds: float = 30.0
) -> RunState:
    """Cancel run ``run`` (id or unique prefix) from any process; returns its state after.

    A live owner is asked through the database and waited for (up to ``wait_seconds``); an
    orphaned or never-started run is canceled here: its leftover processes are killed and
    its unfinished attempts closed.
    """
    connection = connect(db_path)
    try:
        run_id = find_run_id(connection, run)
        row = _run_row(connection, run_id)
        state = RunState(row["state"])
        if state in TERMINAL_RUN_STATES or state is RunState.FAILED:
            raise RunControlError(f"run {run_id} has already finished ({state})")
        with transaction(connection):
            connection.execute(
                "UPDATE runs SET cancel_requested = 1, cancel_reason = ? WHERE run_id = ?",
                (reason, run_id),
            )
        if owner_alive(row):
            return _wait_for_end(connection, run_id, wait_seconds)
        return _cancel_orphan(connection, db_path, run_id, row["owner_id"], reason)
    finally:
        connection.close()


def _cancel_orphan(
    connection: sqlite3.Connection, db_path: Path, run_id: str, owner_id: str | None, reason: str
) -> RunState:
    with transaction(connection):
        if not claim_run(connection, run_id, Owner.current(), owner_id):
            raise RunControlError(f"run {run_id} was claimed by another process meanwhile")
        kill_orphan_groups(connection, run_id, run_logs_dir(db_path, run_id))
        close_interrupted_attempts(
            connection,
            run_id,
            step_state=StepState.CANCELED,
            task_state=TaskState.CANCELED,
            reason=f"canceled: {reason}",
        )
        transition(connection, run_id=run_id, to=RunState.CANCELED, reason=reason)
    return RunState.CANCELED


def _wait_for_end(connection: sqlite3.Connection, run_id: str, wait_seconds: float) -> RunState:
    deadline = time.monotonic() + wait_seconds
    while True:
        state = RunState(_run_row(connection, run_id)["state"])
        if state in TERMINAL_RUN_STATES or state is RunState.FAILED:
            return state
        if time.monotonic() >= deadline:
            return state
        time.sleep(_CANCEL_POLL_SECONDS)


def _run_row(connection: sqlite3.Connection, run_id: str) -> sqlite3.Row:
    row: sqlite3.Row | None = connection.execute(
        "SELECT * FROM runs WHERE run_id = ?", (run_id,)
    ).fetchone()
    if row is None:
        raise RunControlError(f"run {run_id} disappeared")
    return row


def _pid_alive(pid: int) -> bool:
    if _PROC.joinpath("self").exists():
        try:
            fields = (_PROC / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError, IndexError):
            return False
        return fields[0] not in ("Z", "X")
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _group_matches(pgid: int, started_at: float | None) -> bool:
    """Whether process group ``pgid`` can still be the one an attempt started then.

    While any member of a group lives, Linux does not hand its id to a new process; when the
    leader itself still exists, its start time must match the attempt's.
    """
    if started_at is None:
        return True
    leader_started = _process_started(pgid)
    if leader_started is None:
        return True
    return started_at - 5.0 <= leader_started <= started_at + 120.0


def _group_started_by(pgid: int, started_by: int | None) -> bool:
    """Whether a live member of process group ``pgid`` started by ``started_by`` (clock
    ticks after boot; ``None``: no limit)."""
    if started_by is None:
        return True
    from uet.engine.adapters import processes

    return any(member.started <= started_by for member in processes.group_members(pgid))


def _process_started(pid: int) -> float | None:
    """When process ``pid`` started (seconds since the epoch); ``None`` when unknown (no
    such process, no /proc)."""
    if not _PROC.joinpath("self").exists():
        return None
    try:
        fields = (_PROC / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
        boot = _boot_time()
    except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
        return None
    if boot is None:
        return None
    return boot + int(fields[19]) / os.sysconf("SC_CLK_TCK")


def _boot_time() -> float | None:
    for line in (_PROC / "stat").read_text().splitlines():
        if line.startswith("btime "):
            return float(line.split()[1])
    return None


def _epoch(timestamp: str | None) -> float | None:
    if not timestamp:
        return None
    try:
        return datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None
