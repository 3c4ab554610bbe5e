"""Executing one task: its attempts, with routing, the circuit breaker and retries.

Each attempt is decided afresh (``auto`` and ``round_robin`` may pick another app, and an
app whose circuit opened meanwhile is avoided), asks the app's breaker first (an open circuit
ends the task without calling the app, so retries stop), gets its own step_attempt row with
the execution_request of its decision (which shares the attempt's id), and runs through
the app's adapter. Retries go through tenacity
(:func:`~uet.engine.running.resilience.retry_controller`) with the retry policy of the app
first chosen, sleeping on the run's cancel token so that a cancel cuts a back-off short.

A task whose routing rules name validators runs them after its command succeeded, within
the same attempt (:mod:`uet.engine.running.validators`).

An app with ``limits.max_parallel`` runs at most that many attempts at once. A task whose
first attempt finds no free slot is parked (:data:`PARKED`) and its worker moves on; the
task comes back when a slot is released (:mod:`uet.engine.running.slots`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final, NamedTuple

from uet.engine.adapters.base import AdapterResult, AttemptStatus
from uet.engine.planning.plan import Invocation, TaskPlan
from uet.engine.planning.routing import Decision, choose_app, execution_request
from uet.engine.running.progress import EngineEventKind
from uet.engine.running.resilience import RetryableFailure, is_retryable, retry_controller
from uet.engine.running.session import RunSession
from uet.engine.running.validators import run_validations
from uet.engine.store.database import compact_json
from uet.engine.store.ids import new_ulid, utc_timestamp
from uet.engine.store.lifecycle import EventKind, NewStep, StepOutcome, StepState, TaskState

if TYPE_CHECKING:  # tenacity is imported only by runs that may retry
    import tenacity

__all__ = ["PARKED", "TaskOutcome", "run_task"]

_STEP_STATE = {
    AttemptStatus.COMPLETED: StepState.COMPLETED,
    AttemptStatus.FAILED: StepState.ERROR,
    AttemptStatus.TIMED_OUT: StepState.ERROR,
    AttemptStatus.SPAWN_FAILED: StepState.ERROR,
    AttemptStatus.CANCELED: StepState.CANCELED,
}


class TaskOutcome(NamedTuple):
    """How a task ended: succeeded, failed or canceled, and why."""

    state: TaskState
    reason: str


# run_task's answer for a task parked until its app has a free slot (no outcome yet).
PARKED: Final = TaskOutcome(TaskState.PENDING, "waiting for a free slot of its app")


class _Canceled(Exception):
    pass


class _Refused(Exception):
    pass


def run_task(session: RunSession, task_id: str) -> TaskOutcome:
    """Run ``task_id``'s attempts until one succeeds, a failure is final, or cancellation;
    :data:`PARKED` when its app has no free slot for the first attempt."""
    task_plan = session.plan.tasks[task_id]
    first = _decide(session, task_plan)
    if session.app_slots.limited(first.app_id):
        assert first.app_id is not None
        if not session.app_slots.take_or_park(first.app_id, task_id):
            return PARKED
    invocation = task_plan.invocations[first.app_id]
    try:
        if invocation.max_attempts == 1 or not _may_retry(invocation):
            # Nothing this attempt can do is retryable: no retry loop needed.
            result, _ = _attempt(session, task_plan, first, last=True, holds_slot=True)
            return _outcome(result)
        return _with_retries(session, task_plan, first, invocation)
    except _Canceled as exc:
        return TaskOutcome(TaskState.CANCELED, str(exc))
    except _Refused as exc:
        session.record_task(task_id, TaskState.FAILED, str(exc), EventKind.TOOL_CALL_ERROR)
        return TaskOutcome(TaskState.FAILED, str(exc))


def _with_retries(
    session: RunSession, task_plan: TaskPlan, first: Decision, invocation: Invocation
) -> TaskOutcome:
    """The attempts of one task through a tenacity retry loop."""
    task_id = task_plan.task.task_id
    controller = retry_controller(
        invocation.max_attempts,
        invocation.retry,
        sleep=session.options.sleep or session.cancel.wait,
        before_sleep=lambda state: _before_sleep(session, task_id, state),
    )
    decision: Decision | None = first
    try:
        for attempt in controller:
            with attempt:
                holds_slot = decision is first  # run_task took the first attempt's slot
                if decision is None:
                    decision = _decide(session, task_plan)
                last = attempt.retry_state.attempt_number >= invocation.max_attempts
                result, retryable = _attempt(session, task_plan, decision, last, holds_slot)
                decision = None
                if retryable:
                    raise RetryableFailure(result)
                return _outcome(result)
    except RetryableFailure as exc:  # pragma: no cover - the last attempt is never retryable
        return TaskOutcome(TaskState.FAILED, exc.result.reason)
    raise AssertionError("tenacity stopped without an outcome")  # pragma: no cover


def _may_retry(invocation: Invocation) -> bool:
    """Whether any failure of ``invocation`` can be retried."""
    policy = invocation.retry
    timeouts = policy.retry_on_timeout and invocation.timeout_seconds is not None
    return bool(policy.retryable_exit_codes) or timeouts


def _outcome(result: AdapterResult) -> TaskOutcome:
    if result.status is AttemptStatus.COMPLETED:
        return TaskOutcome(TaskState.SUCCEEDED, result.reason)
    if result.status is AttemptStatus.CANCELED:
        raise _Canceled(result.reason)
    return TaskOutcome(TaskState.FAILED, result.reason)


def _decide(session: RunSession, task_plan: TaskPlan) -> Decision:
    return choose_app(
        task_plan.route,
        stats=session.stats,
        is_open=session.breakers.is_open,
        round_robin=session.round_robin,
    )


def _attempt(
    session: RunSession,
    task_plan: TaskPlan,
    decision: Decision,
    last: bool,
    holds_slot: bool = False,
) -> tuple[AdapterResult, bool]:
    """One attempt: slot, breaker, row, adapter, outcome. Returns the result and whether
    the failure (if any) is to be retried. ``holds_slot``: the caller took the app's slot
    (when it has a limit); the attempt gives it back either way."""
    app_id = decision.app_id
    slotted = session.app_slots.limited(app_id)
    if slotted and not holds_slot:
        assert app_id is not None
        # A retry waits for a slot in place; on cancel the adapter reports the attempt
        # canceled without starting it.
        holds_slot = session.app_slots.take_waiting(app_id, session.cancel)
    try:
        return _slotted_attempt(session, task_plan, decision, last)
    finally:
        if slotted and holds_slot:
            assert app_id is not None
            _release_slot(session, app_id)


def _release_slot(session: RunSession, app_id: str) -> None:
    """Give the app's slot back and hand the task parked longest to the executor."""
    parked = session.app_slots.release(app_id)
    if parked is not None:
        session.resubmit(parked)


def _slotted_attempt(
    session: RunSession, task_plan: TaskPlan, decision: Decision, last: bool
) -> tuple[AdapterResult, bool]:
    task = task_plan.task
    if session.cancel.canceled:
        raise _Canceled(f"canceled: {session.cancel.reason}")
    app_id = decision.app_id
    if app_id is not None and not session.breakers.admit(app_id):
        raise _Refused(f"circuit open for app {app_id!r}; not calling it")
    invocation = task_plan.invocations[app_id]
    number, sequence = session.allocate_attempt(task.task_id)
    # The attempt's execution_request is part of the attempt: it shares the attempt's id.
    attempt_id = new_ulid()
    created_at = utc_timestamp()
    session.record_attempt_created(
        NewStep(
            step_attempt_id=attempt_id,
            run_id=session.run_id,
            task_id=task.task_id,
            sequence=sequence,
            attempt=number,
            tool_id=decision.tool_id,
            created_at=created_at,
            execution_request_id=attempt_id,
            execution_request_json=compact_json(
                execution_request(
                    decision,
                    task,
                    session.plan.workstream,
                    request_id=attempt_id,
                    created_at=created_at,
                    max_attempts=invocation.max_attempts,
                    timeout_seconds=invocation.timeout_seconds,
                )
            ),
        )
    )
    session.tracker.started(task.task_id)
    session.publish(EngineEventKind.TASK_STARTED, task_id=task.task_id, attempt=number)
    spawned = False

    def on_spawn(pid: int) -> None:
        nonlocal spawned
        spawned = True
        session.record_step(
            attempt_id,
            StepState.RUNNING,
            expected=StepState.PENDING,
            task_id=task.task_id,
            outcome=StepOutcome(process_group=pid),
        )

    def on_output(chunk: bytes) -> None:
        session.publish(EngineEventKind.TASK_OUTPUT, task_id=task.task_id, output=chunk)

    result = session.registry.adapter(app_id).execute(
        session.adapter_request(invocation, session.log_path(task.task_id, number), attempt_id),
        session.cancel,
        on_output if session.bus.wants(EngineEventKind.TASK_OUTPUT) else None,
        on_spawn,
    )
    if app_id is not None:
        if result.status is AttemptStatus.CANCELED:
            session.breakers.release(app_id)
        else:
            session.breakers.record(app_id, result.succeeded)
            session.record_stats(app_id, result.succeeded, result.duration_ms)
    checked = result
    if task_plan.validations and result.succeeded:
        checked = run_validations(session, task_plan, number, result)
    if checked is not result:
        if not checked.succeeded and checked.status is not AttemptStatus.CANCELED:
            _record_end(
                session, task.task_id, attempt_id, checked, spawned=spawned, retryable=False
            )
            return checked, False  # the command worked: running it again fixes nothing
        result = checked
    # Retry only if some candidate's circuit still lets calls through (the breaker is
    # asked again before the next attempt; this just avoids sleeping for nothing).
    retryable = (
        not last
        and is_retryable(result, invocation.retry)
        and (
            task_plan.route.direct
            or any(not session.breakers.is_open(app) for app in task_plan.route.candidates)
        )
    )
    _record_end(session, task.task_id, attempt_id, result, spawned=spawned, retryable=retryable)
    return result, retryable


def _record_end(
    session: RunSession,
    task_id: str,
    attempt_id: str,
    result: AdapterResult,
    *,
    spawned: bool,
    retryable: bool,
) -> None:
    step_state = _STEP_STATE[result.status]
    current = StepState.RUNNING if spawned else StepState.PENDING
    if step_state is not StepState.CANCELED and not spawned:
        # It could not start, yet it was an attempt: pending -> running -> error.
        session.record_step(
            attempt_id, StepState.RUNNING, expected=StepState.PENDING, task_id=task_id
        )
        current = StepState.RUNNING
    if step_state is StepState.COMPLETED:
        task_state = TaskState.SUCCEEDED
    elif step_state is StepState.CANCELED:
        task_state = TaskState.CANCELED
    else:
        task_state = TaskState.RUNNING if retryable else TaskState.FAILED
    logs_path = None
    if result.log_path is not None:
        logs_path = session.plan.workspace.relative(result.log_path)
    session.record_step(
        attempt_id,
        step_state,
        expected=current,
        task_id=task_id,
        reason=result.reason,
        outcome=StepOutcome(
            exit_code=result.exit_code,
            duration_ms=result.duration_ms,
            logs_path=logs_path,
            task_state=task_state,
        ),
    )


def _before_sleep(session: RunSession, task_id: str, state: tenacity.RetryCallState) -> None:
    delay = state.next_action.sleep if state.next_action is not None else 0.0
    reason = ""
    if state.outcome is not None and state.outcome.failed:
        reason = str(state.outcome.exception())
    session.record_retry(task_id, state.attempt_number + 1, delay, reason)
    session.publish(
        EngineEventKind.RETRY_SCHEDULED,
        task_id=task_id,
        attempt=state.attempt_number + 1,
        detail=f"retrying in {delay:.1f} s after {reason}",
    )
