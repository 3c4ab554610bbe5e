"""Answers about runs from the run store: listings, per-task status, metrics, a system
summary. Read-only; safe to call from any process while runs execute (WAL readers never
block the writer).

A run the store has as ``pending`` or ``running`` whose engine is gone (its process died
or its heartbeat is stale: :func:`uet.engine.running.ownership.owner_alive`) is shown as
:data:`INTERRUPTED`, with the command that finishes it (``uet resume RUN_ID``): the store
keeps it ``running`` so that resume can claim it.

The per-task status (:class:`TaskStatus`, :func:`task_statuses`) lives with the other row
readers in :mod:`uet.engine.store.records` (``uet run`` prints it after every run without
loading this module) and is re-exported here.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime
from statistics import fmean, median

from uet.engine.errors import RunNotFoundError
from uet.engine.running.ownership import owner_alive
from uet.engine.running.resilience import load_breakers
from uet.engine.store.records import TaskStatus, task_statuses

__all__ = [
    "INTERRUPTED",
    "AppSummary",
    "RunMetrics",
    "RunSummary",
    "SystemSummary",
    "TaskStatus",
    "list_runs",
    "run_metrics",
    "run_summary",
    "system_summary",
    "task_statuses",
]

# The state shown for a run whose engine stopped before it ended (never stored).
INTERRUPTED = "interrupted"
_UNFINISHED = ("pending", "running")


@dataclass(frozen=True, slots=True)
class RunSummary:
    """One run at a glance. ``state`` is the stored state, or :data:`INTERRUPTED` for an
    unfinished run whose engine is gone; ``resume_command`` then finishes it."""

    run_id: str
    workstream_id: str | None
    workstream_path: str | None
    state: str
    state_reason: str | None
    created_at: str
    started_at: str | None
    ended_at: str | None
    duration_seconds: float | None
    task_counts: dict[str, int]
    active: bool
    resume_command: str | None = None

    @property
    def total_tasks(self) -> int:
        """Number of tasks in the run."""
        return sum(self.task_counts.values())


@dataclass(frozen=True, slots=True)
class RunMetrics:
    """Figures of one run."""

    run_id: str
    state: str
    task_counts: dict[str, int]
    attempts: int
    failed_attempts: int
    retries: int
    wall_seconds: float | None
    mean_attempt_ms: float | None
    p50_attempt_ms: float | None
    p95_attempt_ms: float | None
    tasks_per_second: float | None


@dataclass(frozen=True, slots=True)
class AppSummary:
    """An app's record over every run."""

    app_id: str
    attempts: int
    success_rate: float | None
    mean_duration_ms: float | None
    circuit_state: str


@dataclass(frozen=True, slots=True)
class SystemSummary:
    """The whole store at a glance."""

    runs_by_state: dict[str, int]
    active_runs: list[str]
    attempts: int
    apps: list[AppSummary]


def list_runs(connection: sqlite3.Connection, limit: int = 20) -> list[RunSummary]:
    """The most recent runs, newest first."""
    rows = connection.execute(
        "SELECT * FROM runs ORDER BY run_id DESC LIMIT ?", (max(1, limit),)
    ).fetchall()
    return [_summary(connection, row) for row in rows]


def run_summary(connection: sqlite3.Connection, run_id: str) -> RunSummary:
    """The summary of ``run_id``."""
    row = connection.execute("SELECT * FROM runs WHERE run_id = ?", (run_id,)).fetchone()
    if row is None:
        raise RunNotFoundError(f"no run {run_id}")
    return _summary(connection, row)


def run_metrics(connection: sqlite3.Connection, run_id: str) -> RunMetrics:
    """Attempt counts, durations and throughput of ``run_id``."""
    summary = run_summary(connection, run_id)
    durations = [
        float(row[0])
        for row in connection.execute(
            "SELECT duration_ms FROM step_attempts WHERE run_id = ? AND duration_ms IS NOT NULL",
            (run_id,),
        )
    ]
    attempts, failed = connection.execute(
        "SELECT COUNT(*), COALESCE(SUM(state = 'error'), 0) FROM step_attempts WHERE run_id = ?",
        (run_id,),
    ).fetchone()
    retries = connection.execute(
        "SELECT COUNT(*) FROM run_events WHERE run_id = ? AND kind = 'retry_scheduled'", (run_id,)
    ).fetchone()[0]
    wall = summary.duration_seconds
    finished = summary.task_counts.get("succeeded", 0) + summary.task_counts.get("failed", 0)
    return RunMetrics(
        run_id=run_id,
        state=summary.state,
        task_counts=summary.task_counts,
        attempts=int(attempts),
        failed_attempts=int(failed),
        retries=int(retries),
        wall_seconds=wall,
        mean_attempt_ms=fmean(durations) if durations else None,
        p50_attempt_ms=median(durations) if durations else None,
        p95_attempt_ms=_percentile(durations, 0.95),
        tasks_per_second=finished / wall if wall else None,
    )


def system_summary(connection: sqlite3.Connection) -> SystemSummary:
    """Runs by state, the runs executing now, and every app's record and circuit."""
    by_state = {
        str(row[0]): int(row[1])
        for row in connection.execute("SELECT state, COUNT(*) FROM runs GROUP BY state")
    }
    active = []
    for row in connection.execute("SELECT * FROM runs WHERE state IN ('pending', 'running')"):
        if owner_alive(row):
            active.append(str(row["run_id"]))
            continue
        by_state[row["state"]] -= 1
        by_state[INTERRUPTED] = by_state.get(INTERRUPTED, 0) + 1
    by_state = {state: count for state, count in by_state.items() if count}
    breakers = load_breakers(connection)
    apps = []
    for row in connection.execute(
        "SELECT tool_id, COUNT(*), SUM(state = 'completed'), AVG(duration_ms) FROM step_attempts"
        " WHERE state IN ('completed', 'error') GROUP BY tool_id ORDER BY tool_id"
    ):
        breaker = breakers.get(str(row[0]))
        apps.append(
            AppSummary(
                app_id=str(row[0]),
                attempts=int(row[1]),
                success_rate=int(row[2] or 0) / int(row[1]) if row[1] else None,
                mean_duration_ms=row[3],
                circuit_state=breaker.state.value if breaker else "closed",
            )
        )
    attempts = connection.execute("SELECT COUNT(*) FROM step_attempts").fetchone()[0]
    return SystemSummary(by_state, active, int(attempts), apps)


def _summary(connection: sqlite3.Connection, row: sqlite3.Row) -> RunSummary:
    counts = {
        str(state): int(count)
        for state, count in connection.execute(
            "SELECT state, COUNT(*) FROM run_tasks WHERE run_id = ? GROUP BY state",
            (row["run_id"],),
        )
    }
    state, reason, resume = row["state"], row["state_reason"], None
    active = state in _UNFINISHED and owner_alive(row)
    if state in _UNFINISHED and not active:
        state, reason, resume = INTERRUPTED, _why_interrupted(row), f"uet resume {row['run_id']}"
    return RunSummary(
        run_id=row["run_id"],
        workstream_id=row["workstream_id"],
        workstream_path=row["workstream_path"],
        state=state,
        state_reason=reason,
        created_at=row["created_at"],
        started_at=row["started_at"],
        ended_at=row["ended_at"],
        duration_seconds=_seconds_between(row["started_at"], row["ended_at"]),
        task_counts=counts,
        active=active,
        resume_command=resume,
    )


def _why_interrupted(row: sqlite3.Row) -> str:
    if row["owner_pid"] is None:
        return "no engine ever ran it"
    engine = f"process {row['owner_pid']} on {row['owner_host']}"
    return f"the engine running it ({engine}) stopped before the run ended"


def _seconds_between(start: str | None, end: str | None) -> float | None:
    if not start or not end:
        return None
    began = datetime.fromisoformat(start.replace("Z", "+00:00"))
    ended = datetime.fromisoformat(end.replace("Z", "+00:00"))
    return (ended - began).total_seconds()


def _percentile(values: list[float], fraction: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]
