"""Stopping what a run whose engine died left behind, and closing its attempts.

Resume, cancel and the run's reaper use the same steps: kill every process of the run that
is still alive (:func:`kill_orphan_groups`: the process groups of its unfinished attempts,
in the store and in its process-group record, and every process marked with the run), wait
until they are gone, so that nothing of the run runs twice at once, then close the
unfinished attempts (:func:`close_interrupted_attempts`).
"""

from __future__ import annotations

import os
import signal
import sqlite3
import time
from datetime import datetime
from pathlib import Path

from uet.engine.adapters import processes
from uet.engine.errors import RunControlError
from uet.engine.running.ownership import pid_alive, process_started
from uet.engine.running.process_record import read_process_record
from uet.engine.store.database import append_event
from uet.engine.store.lifecycle import EventKind, StepOutcome, StepState, TaskState
from uet.engine.store.transitions import transition

__all__ = ["STOP_WAIT_SECONDS", "close_interrupted_attempts", "kill_orphan_groups"]

# How long resume and cancel wait for the killed processes of an orphaned run to be gone.
STOP_WAIT_SECONDS = 10.0
_LOOK_SECONDS = 0.05


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
        alive += [process for process in marked if pid_alive(process.pid)]
        if not alive:
            return killed
        if time.monotonic() >= deadline:
            names = ", ".join(processes.describe(process) for process in alive[:10])
            raise RunControlError(
                f"processes of run {run_id} are still alive after SIGKILL ({names});"
                " nothing was run again"
            )
        time.sleep(_LOOK_SECONDS)


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


def _group_matches(pgid: int, started_at: float | None) -> bool:
    """Whether process group ``pgid`` can still be the one an attempt started then.

    While any member of a group lives, Linux does not hand its id to a new process; when the
    leader itself still exists, its start time must match the attempt's.
    """
    if started_at is None:
        return True
    leader_started = process_started(pgid)
    if leader_started is None:
        return True
    return started_at - 5.0 <= leader_started <= started_at + 120.0


def _group_started_by(pgid: int, started_by: int | None) -> bool:
    """Whether a live member of process group ``pgid`` started by ``started_by`` (clock
    ticks after boot; ``None``: no limit)."""
    if started_by is None:
        return True
    return any(member.started <= started_by for member in processes.group_members(pgid))


def _epoch(timestamp: str | None) -> float | None:
    if not timestamp:
        return None
    try:
        return datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None
