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
    ``connect(db_path)`` opens ``.uet/runs.db``; ``open_for_reading(db_path)`` opens it
    for reading, also where it cannot be written (nothing migrated); ``run_record``,
    ``step_attempt_records``, ``run_event_records`` read artifacts; ``list_runs``,
    ``run_summary``, ``task_statuses``, ``run_metrics``, ``system_summary`` answer
    monitoring questions (a run whose engine is gone is shown ``interrupted``).

Names are loaded on first use (PEP 562): importing ``uet.engine`` imports none of its
modules, and each name brings only its own module and what that needs. A host that must
not import later (an event loop) resolves the names it will use in a worker thread first,
for instance ``for name in uet.engine.__all__: getattr(uet.engine, name)``.

**Architecture Invariant:** nothing here imports pygls, lsprotocol or ``uet.lsp``/``uet.cli``;
the engine reads artifacts only through ``uet.artifacts``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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
    from uet.engine.handle import RunHandle, RunResult
    from uet.engine.monitor import (
        RunMetrics,
        RunSummary,
        SystemSummary,
        list_runs,
        run_metrics,
        run_summary,
        system_summary,
    )
    from uet.engine.progress import EngineEvent, EngineEventKind, ProgressSnapshot, Subscriber
    from uet.engine.records import (
        TaskStatus,
        find_run_id,
        run_event_records,
        run_record,
        step_attempt_records,
        task_statuses,
    )
    from uet.engine.resume import resume_run
    from uet.engine.runner import start_run
    from uet.engine.session import RunOptions
    from uet.engine.states import EventKind, RunState, StepState, TaskState
    from uet.engine.store import connect, integrity_problems, open_for_reading
    from uet.engine.workspace import Workspace, find_workspace

# Public name → the module defining it. A name's module is imported on first use (PEP 562),
# so ``uet run`` loads what a run needs and not, say, the monitoring queries.
_SOURCES = {
    "CpuPriority": "uet.engine.adapters.spawn",
    "CycleError": "uet.engine.errors",
    "EngineError": "uet.engine.errors",
    "EngineEvent": "uet.engine.progress",
    "EngineEventKind": "uet.engine.progress",
    "EventKind": "uet.engine.states",
    "IllegalTransitionError": "uet.engine.errors",
    "MigrationError": "uet.engine.errors",
    "ProgressSnapshot": "uet.engine.progress",
    "RunControlError": "uet.engine.errors",
    "RunHandle": "uet.engine.handle",
    "RunMetrics": "uet.engine.monitor",
    "RunNotFoundError": "uet.engine.errors",
    "RunOptions": "uet.engine.session",
    "RunResult": "uet.engine.handle",
    "RunState": "uet.engine.states",
    "RunSummary": "uet.engine.monitor",
    "SpecError": "uet.engine.errors",
    "StepState": "uet.engine.states",
    "StoreError": "uet.engine.errors",
    "Subscriber": "uet.engine.progress",
    "SystemSummary": "uet.engine.monitor",
    "TaskState": "uet.engine.states",
    "TaskStatus": "uet.engine.records",
    "UnroutableTaskError": "uet.engine.errors",
    "Workspace": "uet.engine.workspace",
    "WorkspaceError": "uet.engine.errors",
    "cancel_run": "uet.engine.control",
    "connect": "uet.engine.store",
    "open_for_reading": "uet.engine.store",
    "find_run_id": "uet.engine.records",
    "find_workspace": "uet.engine.workspace",
    "integrity_problems": "uet.engine.store",
    "list_runs": "uet.engine.monitor",
    "resume_run": "uet.engine.resume",
    "run_event_records": "uet.engine.records",
    "run_metrics": "uet.engine.monitor",
    "run_record": "uet.engine.records",
    "run_summary": "uet.engine.monitor",
    "start_run": "uet.engine.runner",
    "step_attempt_records": "uet.engine.records",
    "system_summary": "uet.engine.monitor",
    "task_statuses": "uet.engine.records",
}


def __getattr__(name: str) -> Any:
    source = _SOURCES.get(name)
    if source is None:
        raise AttributeError(f"module 'uet.engine' has no attribute {name!r}")
    value = getattr(importlib.import_module(source), name)
    globals()[name] = value
    return value


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
    "open_for_reading",
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
