"""The run-store schema, as an ordered list of versioned migrations.

``PRAGMA user_version`` holds the number of the last migration applied. Migrations are only
ever appended: a released migration is never edited, so every database can be brought up to
date from any earlier version. Each migration is a tuple of single SQL statements, applied in
one ``BEGIN IMMEDIATE`` transaction together with the new ``user_version``.

Tables (version 1):

- ``runs``: one row per run (a run_record plus the frozen plan and engine ownership);
- ``run_tasks``: one row per task of a run, its task-level outcome (including skips);
- ``step_attempts``: one row per attempt to run a task (a step_attempt, with the
  execution_request of its routing decision); at most one ``completed`` row per task;
- ``run_events``: the append-only event log (a run_event per row; triggers forbid changes);
- ``circuit_breakers``: per-app breaker state, so that it survives a restart.

Version 2 moves the frozen plan out of the ``runs`` row into ``run_plans`` (one row per
run): a run's row is updated several times while it executes (start, heartbeats, end), and
with a plan of a few hundred KB inside it every update rewrote the plan's overflow pages
(and every read of a column after it walked them). ``runs.plan_json`` stays, empty: SQLite
only drops columns from 3.35 on.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "Migration"]

_RUN_STATES = "'pending', 'running', 'succeeded', 'failed', 'canceled', 'quarantined'"
_STEP_STATES = "'pending', 'running', 'completed', 'error', 'canceled'"
_TASK_STATES = "'pending', 'running', 'succeeded', 'failed', 'skipped', 'canceled'"
_BREAKER_STATES = "'closed', 'open', 'half_open'"


class Migration(NamedTuple):
    """One schema version: the statements that bring version ``version - 1`` to it."""

    version: int
    description: str
    statements: tuple[str, ...]


_V1 = Migration(
    version=1,
    description="runs, run_tasks, step_attempts, run_events, circuit_breakers",
    statements=(
        f"""CREATE TABLE runs (
            run_id TEXT PRIMARY KEY,
            project_id TEXT NOT NULL,
            phase_id TEXT NOT NULL,
            workstream_id TEXT,
            workstream_path TEXT,
            workspace TEXT NOT NULL,
            state TEXT NOT NULL CHECK (state IN ({_RUN_STATES})),
            state_reason TEXT,
            created_at TEXT NOT NULL,
            started_at TEXT,
            ended_at TEXT,
            execution_request_id TEXT,
            trigger_type TEXT NOT NULL DEFAULT 'manual',
            requested_by TEXT,
            plan_json TEXT NOT NULL,
            owner_id TEXT,
            owner_pid INTEGER,
            owner_host TEXT,
            heartbeat_at REAL,
            cancel_requested INTEGER NOT NULL DEFAULT 0,
            cancel_reason TEXT
        )""",
        "CREATE INDEX runs_by_creation ON runs (created_at)",
        "CREATE INDEX runs_by_state ON runs (state)",
        f"""CREATE TABLE run_tasks (
            run_id TEXT NOT NULL REFERENCES runs (run_id),
            task_id TEXT NOT NULL,
            position INTEGER NOT NULL,
            name TEXT NOT NULL,
            state TEXT NOT NULL CHECK (state IN ({_TASK_STATES})),
            state_reason TEXT,
            PRIMARY KEY (run_id, task_id)
        ) WITHOUT ROWID""",
        f"""CREATE TABLE step_attempts (
            step_attempt_id TEXT PRIMARY KEY,
            run_id TEXT NOT NULL REFERENCES runs (run_id),
            task_id TEXT NOT NULL,
            sequence INTEGER NOT NULL CHECK (sequence >= 1),
            attempt INTEGER NOT NULL CHECK (attempt >= 1),
            tool_id TEXT NOT NULL,
            state TEXT NOT NULL CHECK (state IN ({_STEP_STATES})),
            state_reason TEXT,
            started_at TEXT NOT NULL,
            ended_at TEXT,
            exit_code INTEGER,
            duration_ms REAL,
            execution_request_id TEXT,
            execution_request_json TEXT,
            logs_path TEXT,
            process_group INTEGER,
            UNIQUE (run_id, sequence),
            UNIQUE (run_id, task_id, attempt),
            FOREIGN KEY (run_id, task_id) REFERENCES run_tasks (run_id, task_id)
        )""",
        # The exactly-once guarantee, enforced by the database itself.
        """CREATE UNIQUE INDEX step_attempts_one_completion
            ON step_attempts (run_id, task_id) WHERE state = 'completed'""",
        # Clustered by run: a run's events are one contiguous, time-ordered range. Event ids
        # are ULIDs, unique by construction.
        """CREATE TABLE run_events (
            run_id TEXT NOT NULL REFERENCES runs (run_id),
            event_id TEXT NOT NULL,
            step_attempt_id TEXT REFERENCES step_attempts (step_attempt_id),
            ts TEXT NOT NULL,
            kind TEXT NOT NULL,
            payload_json TEXT,
            PRIMARY KEY (run_id, event_id)
        ) WITHOUT ROWID""",
        """CREATE TRIGGER run_events_no_update BEFORE UPDATE ON run_events
            BEGIN SELECT RAISE(ABORT, 'run_events is append-only'); END""",
        """CREATE TRIGGER run_events_no_delete BEFORE DELETE ON run_events
            BEGIN SELECT RAISE(ABORT, 'run_events is append-only'); END""",
        f"""CREATE TABLE circuit_breakers (
            app_id TEXT PRIMARY KEY,
            state TEXT NOT NULL CHECK (state IN ({_BREAKER_STATES})),
            failure_count INTEGER NOT NULL DEFAULT 0 CHECK (failure_count >= 0),
            opened_at REAL,
            updated_at TEXT NOT NULL
        ) WITHOUT ROWID""",
    ),
)

_V2 = Migration(
    version=2,
    description="run_plans: the frozen plan of each run, out of its runs row",
    statements=(
        """CREATE TABLE run_plans (
            run_id TEXT PRIMARY KEY REFERENCES runs (run_id),
            plan_json TEXT NOT NULL
        )""",
        "INSERT INTO run_plans (run_id, plan_json) SELECT run_id, plan_json FROM runs",
        "UPDATE runs SET plan_json = ''",
    ),
)

MIGRATIONS: tuple[Migration, ...] = (_V1, _V2)
SCHEMA_VERSION = MIGRATIONS[-1].version
