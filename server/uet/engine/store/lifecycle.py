"""The states of runs, step attempts and tasks, which transitions between them are legal,
and the records of step transitions: data only (:mod:`uet.engine.store.transitions` performs
transitions).

Run states follow ``common.schema.json#/$defs/run_state``; step states are the step_attempt
schema's (``pending → running → completed | error | canceled``). The original UET code,
schema and SQL disagreed on step states; the schema's list is the one kept (see
``docs/compat.md``). Task states (``run_tasks.state``) are the outcome of each task, derived
from its attempts.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any, NamedTuple

__all__ = [
    "RUN_TRANSITIONS",
    "STEP_TRANSITIONS",
    "TERMINAL_RUN_STATES",
    "TERMINAL_STEP_STATES",
    "EventKind",
    "NewStep",
    "RunState",
    "StepChange",
    "StepOutcome",
    "StepState",
    "TaskState",
    "is_legal",
]


class RunState(StrEnum):
    """State of a run (``run_state``)."""

    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"
    QUARANTINED = "quarantined"


class StepState(StrEnum):
    """State of one step attempt (``step_state``)."""

    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    ERROR = "error"
    CANCELED = "canceled"


class TaskState(StrEnum):
    """Outcome of one task of a run (``run_tasks.state``), derived from its attempts."""

    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"
    CANCELED = "canceled"


class EventKind(StrEnum):
    """``run_event.kind``: the original's kinds plus the engine's additions."""

    RUN_CREATED = "run_created"
    RUN_STARTED = "run_started"
    RUN_STATE_CHANGED = "run_state_changed"
    TOOL_CALL_STARTED = "tool_call_started"
    TOOL_CALL_COMPLETED = "tool_call_completed"
    TOOL_CALL_ERROR = "tool_call_error"
    PATCH_CREATED = "patch_created"
    PATCH_VALIDATED = "patch_validated"
    PATCH_APPLY_STARTED = "patch_apply_started"
    PATCH_APPLY_SUCCEEDED = "patch_apply_succeeded"
    PATCH_APPLY_FAILED = "patch_apply_failed"
    PATCH_QUARANTINED = "patch_quarantined"
    ERROR_PIPELINE_TRIGGERED = "error_pipeline_triggered"
    PHASE_TRANSITION = "phase_transition"
    NOTE = "note"
    STEP_STATE_CHANGED = "step_state_changed"
    TASK_SKIPPED = "task_skipped"
    ATTEMPT_INTERRUPTED = "attempt_interrupted"
    RUN_RESUMED = "run_resumed"
    RETRY_SCHEDULED = "retry_scheduled"
    CIRCUIT_STATE_CHANGED = "circuit_state_changed"


RUN_TRANSITIONS: Mapping[RunState, frozenset[RunState]] = {
    RunState.PENDING: frozenset({RunState.RUNNING, RunState.CANCELED}),
    RunState.RUNNING: frozenset(
        {RunState.SUCCEEDED, RunState.FAILED, RunState.QUARANTINED, RunState.CANCELED}
    ),
    RunState.FAILED: frozenset({RunState.QUARANTINED}),
    RunState.SUCCEEDED: frozenset(),
    RunState.CANCELED: frozenset(),
    RunState.QUARANTINED: frozenset(),
}
STEP_TRANSITIONS: Mapping[StepState, frozenset[StepState]] = {
    StepState.PENDING: frozenset({StepState.RUNNING, StepState.CANCELED}),
    StepState.RUNNING: frozenset({StepState.COMPLETED, StepState.ERROR, StepState.CANCELED}),
    StepState.COMPLETED: frozenset(),
    StepState.ERROR: frozenset(),
    StepState.CANCELED: frozenset(),
}
TERMINAL_RUN_STATES = frozenset(state for state, nxt in RUN_TRANSITIONS.items() if not nxt)
TERMINAL_STEP_STATES = frozenset(state for state, nxt in STEP_TRANSITIONS.items() if not nxt)


def is_legal(current: RunState | StepState, target: RunState | StepState) -> bool:
    """Whether ``current → target`` is a legal transition (run or step)."""
    if isinstance(current, RunState) and isinstance(target, RunState):
        return target in RUN_TRANSITIONS[current]
    if isinstance(current, StepState) and isinstance(target, StepState):
        return target in STEP_TRANSITIONS[current]
    return False


class StepOutcome(NamedTuple):
    """Columns written together with a step transition (``None`` leaves a column alone)."""

    exit_code: int | None = None
    duration_ms: float | None = None
    logs_path: str | None = None
    process_group: int | None = None
    task_state: TaskState | None = None


class StepChange(NamedTuple):
    """One step transition, ``expected → to``, of attempt ``step_attempt_id`` of a task."""

    run_id: str
    step_attempt_id: str
    task_id: str
    expected: StepState
    to: StepState
    now: str
    reason: str | None = None
    outcome: StepOutcome = StepOutcome()
    payload: Mapping[str, Any] | None = None


class NewStep(NamedTuple):
    """A step attempt created ``pending`` at ``created_at`` (its ``started_at``), written by
    :func:`uet.engine.store.transitions.apply_step_changes` with the changes of the same batch."""

    step_attempt_id: str
    run_id: str
    task_id: str
    sequence: int
    attempt: int
    tool_id: str
    created_at: str
    execution_request_id: str | None = None
    # The execution_request artifact as JSON text (as ``store.compact_json`` writes it).
    execution_request_json: str | None = None
