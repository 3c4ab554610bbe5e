"""Workstream execution: run store, state machine, scheduler, router, adapters (plain Python).

The public API (everything else is private to the package):

Running
    ``start_run(workstream_path, *, workspace=None, options=None, subscribers=()) -> RunHandle``
    checks, plans and starts a run on a background thread; ``SpecError`` (nothing started)
    for an invalid workstream or router config, a dependency cycle or an unroutable task.
    ``resume_run(run_id, ...)`` continues a run whose engine stopped (even ``kill -9``).
    ``cancel_run(db_path, run_id)`` cancels a run from any process.
    ``RunHandle``: ``.run_id``, ``.subscribe(callback)``, ``.snapshot()``, ``.cancel()``,
    ``.wait(timeout) -> RunResult | None``. ``RunOptions``: jobs, router path, log cap,
    kill grace, a task subset (``only_tasks``: those tasks and what they depend on), the
    children's CPU priority (``child_priority``, a ``CpuPriority``), injection points for
    tests.
Events
    Subscribers receive ``EngineEvent``s (``EngineEventKind``) carrying a
    ``ProgressSnapshot`` (done/total, %, running tasks, elapsed, ETA).
Store
    ``connect(db_path)`` opens ``.uet/runs.db``; ``run_record``, ``step_attempt_records``,
    ``run_event_records`` read artifacts; ``list_runs``, ``run_summary``, ``task_statuses``,
    ``run_metrics``, ``system_summary`` answer monitoring questions.

**Architecture Invariant:** nothing here imports pygls, lsprotocol or ``uet.lsp``/``uet.cli``;
the engine reads artifacts only through ``uet.artifacts``.
"""

from uet.engine.adapters.spawn import CpuPriority
from uet.engine.control import cancel_run
from uet.engine.errors import (
    CycleError,
    EngineError,
    IllegalTransitionError,
    MigrationError,
    RunControlError,
    RunNotFoundError,
    SpecError,
    StoreError,
    UnroutableTaskError,
    WorkspaceError,
)
from uet.engine.monitor import (
    RunMetrics,
    RunSummary,
    SystemSummary,
    TaskStatus,
    list_runs,
    run_metrics,
    run_summary,
    system_summary,
    task_statuses,
)
from uet.engine.progress import EngineEvent, EngineEventKind, ProgressSnapshot, Subscriber
from uet.engine.records import (
    find_run_id,
    run_event_records,
    run_record,
    step_attempt_records,
)
from uet.engine.runner import RunHandle, RunResult, resume_run, start_run
from uet.engine.session import RunOptions
from uet.engine.states import EventKind, RunState, StepState, TaskState
from uet.engine.store import connect, integrity_problems
from uet.engine.workspace import Workspace, find_workspace

__all__ = [
    "CpuPriority",
    "CycleError",
    "EngineError",
    "EngineEvent",
    "EngineEventKind",
    "EventKind",
    "IllegalTransitionError",
    "MigrationError",
    "ProgressSnapshot",
    "RunControlError",
    "RunHandle",
    "RunMetrics",
    "RunNotFoundError",
    "RunOptions",
    "RunResult",
    "RunState",
    "RunSummary",
    "SpecError",
    "StepState",
    "StoreError",
    "Subscriber",
    "SystemSummary",
    "TaskState",
    "TaskStatus",
    "UnroutableTaskError",
    "Workspace",
    "WorkspaceError",
    "cancel_run",
    "connect",
    "find_run_id",
    "find_workspace",
    "integrity_problems",
    "list_runs",
    "resume_run",
    "run_event_records",
    "run_metrics",
    "run_record",
    "run_summary",
    "start_run",
    "step_attempt_records",
    "system_summary",
    "task_statuses",
]
