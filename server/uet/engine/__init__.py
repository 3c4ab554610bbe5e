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
    ``ProgressSnapshot`` (done/total, %, running tasks, elapsed, ETA); a subscriber wrapped
    in ``KindFilter(kinds, callback)`` receives only those kinds (events nobody wants are
    not built).
Store
    ``connect(db_path)`` opens ``.uet/runs.db``; ``open_for_reading(db_path)`` opens it
    for reading, also where it cannot be written (nothing migrated); ``run_record``,
    ``step_attempt_records``, ``run_event_records`` read artifacts; ``list_runs``,
    ``run_summary``, ``task_statuses``, ``run_metrics``, ``system_summary`` answer
    monitoring questions (a run whose engine is gone is shown ``interrupted``).
Library (``docs/library.md``)
    For programs that drive tasks themselves, the original UET's classes over the same parts:
    ``ExecutionScheduler`` and ``Task`` (dependency order, ready set, skipping),
    ``ProgressTracker`` (``TrackerSnapshot``: %, elapsed, estimate), ``RunMonitor``
    (a run store's metrics and summary), ``ResilientExecutor`` (retries and a circuit
    breaker per tool; ``RetryExhausted``, ``CircuitBreakerOpen``, ``ToolState``) and
    ``AdapterRegistry`` (a router config's apps as ``ToolAdapter``s whose ``execute``
    returns an ``ExecutionResult``).

Names are loaded on first use (PEP 562, :mod:`uet.lazy_exports`): importing ``uet.engine``
imports none of its modules, and each name brings only its own module and what that needs.
A host that must not import later (an event loop) resolves the names it will use in a
worker thread first, for instance ``for name in uet.engine.__all__: getattr(uet.engine,
name)``.

**Architecture Invariant:** nothing here imports pygls, lsprotocol or ``uet.lsp``/``uet.cli``;
the engine reads artifacts only through ``uet.artifacts``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from uet.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from uet.engine.adapters.spawn import CpuPriority
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
    from uet.engine.library.monitoring import RunMonitor
    from uet.engine.library.resilient import (
        CircuitBreakerOpen,
        ResilientExecutor,
        RetryExhausted,
        ToolState,
    )
    from uet.engine.library.scheduling import ExecutionScheduler, Task
    from uet.engine.library.tool_adapters import AdapterRegistry, ExecutionResult, ToolAdapter
    from uet.engine.library.tracking import ProgressTracker, TrackerSnapshot
    from uet.engine.running.control import cancel_run
    from uet.engine.running.handle import RunHandle, RunResult
    from uet.engine.running.monitor import (
        RunMetrics,
        RunSummary,
        SystemSummary,
        list_runs,
        run_metrics,
        run_summary,
        system_summary,
    )
    from uet.engine.running.progress import (
        EngineEvent,
        EngineEventKind,
        KindFilter,
        ProgressSnapshot,
        Subscriber,
    )
    from uet.engine.running.resume import resume_run
    from uet.engine.running.session import RunOptions
    from uet.engine.running.start import start_run
    from uet.engine.store.database import connect, integrity_problems, open_for_reading
    from uet.engine.store.lifecycle import EventKind, RunState, StepState, TaskState
    from uet.engine.store.records import (
        TaskStatus,
        find_run_id,
        run_event_records,
        run_record,
        step_attempt_records,
        task_statuses,
    )
    from uet.engine.workspace import Workspace, find_workspace

# Public name → the module defining it. A name's module is imported on first use (PEP 562),
# so ``uet run`` loads what a run needs and not, say, the monitoring queries.
_SOURCES = {
    "AdapterRegistry": "uet.engine.library.tool_adapters",
    "CircuitBreakerOpen": "uet.engine.library.resilient",
    "CpuPriority": "uet.engine.adapters.spawn",
    "CycleError": "uet.engine.errors",
    "EngineError": "uet.engine.errors",
    "EngineEvent": "uet.engine.running.progress",
    "EngineEventKind": "uet.engine.running.progress",
    "KindFilter": "uet.engine.running.progress",
    "EventKind": "uet.engine.store.lifecycle",
    "ExecutionResult": "uet.engine.library.tool_adapters",
    "ExecutionScheduler": "uet.engine.library.scheduling",
    "IllegalTransitionError": "uet.engine.errors",
    "MigrationError": "uet.engine.errors",
    "ProgressSnapshot": "uet.engine.running.progress",
    "ProgressTracker": "uet.engine.library.tracking",
    "ResilientExecutor": "uet.engine.library.resilient",
    "RetryExhausted": "uet.engine.library.resilient",
    "RunControlError": "uet.engine.errors",
    "RunHandle": "uet.engine.running.handle",
    "RunMetrics": "uet.engine.running.monitor",
    "RunMonitor": "uet.engine.library.monitoring",
    "RunNotFoundError": "uet.engine.errors",
    "RunOptions": "uet.engine.running.session",
    "RunResult": "uet.engine.running.handle",
    "RunState": "uet.engine.store.lifecycle",
    "RunSummary": "uet.engine.running.monitor",
    "SpecError": "uet.engine.errors",
    "StepState": "uet.engine.store.lifecycle",
    "StoreError": "uet.engine.errors",
    "Subscriber": "uet.engine.running.progress",
    "SystemSummary": "uet.engine.running.monitor",
    "Task": "uet.engine.library.scheduling",
    "TaskState": "uet.engine.store.lifecycle",
    "TaskStatus": "uet.engine.store.records",
    "ToolAdapter": "uet.engine.library.tool_adapters",
    "ToolState": "uet.engine.library.resilient",
    "TrackerSnapshot": "uet.engine.library.tracking",
    "UnroutableTaskError": "uet.engine.errors",
    "Workspace": "uet.engine.workspace",
    "WorkspaceError": "uet.engine.errors",
    "cancel_run": "uet.engine.running.control",
    "connect": "uet.engine.store.database",
    "find_run_id": "uet.engine.store.records",
    "find_workspace": "uet.engine.workspace",
    "integrity_problems": "uet.engine.store.database",
    "list_runs": "uet.engine.running.monitor",
    "open_for_reading": "uet.engine.store.database",
    "resume_run": "uet.engine.running.resume",
    "run_event_records": "uet.engine.store.records",
    "run_metrics": "uet.engine.running.monitor",
    "run_record": "uet.engine.store.records",
    "run_summary": "uet.engine.running.monitor",
    "start_run": "uet.engine.running.start",
    "step_attempt_records": "uet.engine.store.records",
    "system_summary": "uet.engine.running.monitor",
    "task_statuses": "uet.engine.store.records",
}


__getattr__, __dir__ = lazy_exports(__name__, _SOURCES, globals())


__all__ = [
    "AdapterRegistry",
    "CircuitBreakerOpen",
    "CpuPriority",
    "CycleError",
    "EngineError",
    "EngineEvent",
    "EngineEventKind",
    "EventKind",
    "ExecutionResult",
    "ExecutionScheduler",
    "IllegalTransitionError",
    "KindFilter",
    "MigrationError",
    "ProgressSnapshot",
    "ProgressTracker",
    "ResilientExecutor",
    "RetryExhausted",
    "RunControlError",
    "RunHandle",
    "RunMetrics",
    "RunMonitor",
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
    "Task",
    "TaskState",
    "TaskStatus",
    "ToolAdapter",
    "ToolState",
    "TrackerSnapshot",
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
