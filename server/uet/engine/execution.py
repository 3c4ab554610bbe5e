"""Executing one task: its attempts, with routing, the circuit breaker and retries.

Each attempt is decided afresh (``auto`` and ``round_robin`` may pick another app, and an
app whose circuit opened meanwhile is avoided), asks the app's breaker first (an open circuit
ends the task without calling the app, so retries stop), gets its own step_attempt row with
the execution_request of its decision, and runs through the app's adapter. Retries go
through tenacity (:func:`~uet.engine.resilience.retry_controller`) with the retry policy of
the app first chosen, sleeping on the run's cancel token so that a cancel cuts a back-off
short.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import tenacity

from uet.engine.adapters.base import AdapterRequest, AdapterResult, AttemptStatus
from uet.engine.ids import new_ulid, utc_timestamp
from uet.engine.plan import Invocation, TaskPlan
from uet.engine.progress import EngineEventKind
from uet.engine.records import NewAttempt
from uet.engine.resilience import RetryableFailure, is_retryable, retry_controller
from uet.engine.router import Decision, choose_app, execution_request
from uet.engine.session import RunSession
from uet.engine.states import EventKind, StepOutcome, StepState, TaskState

__all__ = ["TaskOutcome", "run_task"]

_SLOT_POLL_SECONDS = 0.1
_STEP_STATE = {
    AttemptStatus.COMPLETED: StepState.COMPLETED,
    AttemptStatus.FAILED: StepState.ERROR,
    AttemptStatus.TIMED_OUT: StepState.ERROR,
    AttemptStatus.SPAWN_FAILED: StepState.ERROR,
    AttemptStatus.CANCELED: StepState.CANCELED,
}


@dataclass(frozen=True, slots=True)
class TaskOutcome:
    """How a task ended: succeeded, failed or canceled, and why."""

    state: TaskState
    reason: str


class _Canceled(Exception):
    pass


class _Refused(Exception):
    pass


def run_task(session: RunSession, task_id: str) -> TaskOutcome:
    """Run ``task_id``'s attempts until one succeeds, a failure is final, or cancellation."""
    task_plan = session.plan.tasks[task_id]
    first = _decide(session, task_plan)
    invocation = task_plan.invocations[first.app_id]
    try:
        if invocation.max_attempts == 1 or not _may_retry(invocation):
            # Nothing this attempt can do is retryable: no retry loop needed.
            result, _ = _attempt(session, task_plan, first, last=True)
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
                if decision is None:
                    decision = _decide(session, task_plan)
                last = attempt.retry_state.attempt_number >= invocation.max_attempts
                result, retryable = _attempt(session, task_plan, decision, last)
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
    session: RunSession, task_plan: TaskPlan, decision: Decision, last: bool
) -> tuple[AdapterResult, bool]:
    """One attempt: breaker, row, adapter, outcome. Returns the result and whether the
    failure (if any) is to be retried."""
    task = task_plan.task
    if session.cancel.canceled:
        raise _Canceled(f"canceled: {session.cancel.reason}")
    app_id = decision.app_id
    if app_id is not None and not session.breakers.admit(app_id):
        raise _Refused(f"circuit open for app {app_id!r}; not calling it")
    invocation = task_plan.invocations[app_id]
    number, sequence = session.allocate_attempt(task.task_id)
    attempt_id = new_ulid()
    request = execution_request(
        decision,
        task,
        session.plan.workstream,
        request_id=new_ulid(),
        created_at=utc_timestamp(),
        max_attempts=invocation.max_attempts,
        timeout_seconds=invocation.timeout_seconds,
    )
    session.record_attempt_created(
        NewAttempt(
            attempt_id, session.run_id, task.task_id, sequence, number, decision.tool_id, request
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

    slot = session.app_slots.get(app_id) if app_id is not None else None
    with _app_slot(slot, session):
        result = session.registry.adapter(app_id).execute(
            AdapterRequest(
                argv=invocation.argv,
                cwd=invocation.cwd,
                log_path=session.log_path(task.task_id, number),
                env=invocation.env,
                timeout_seconds=invocation.timeout_seconds,
                log_max_bytes=session.options.log_max_bytes,
                kill_grace_seconds=session.options.kill_grace_seconds,
            ),
            session.cancel,
            on_output if session.bus.active else None,
            on_spawn,
        )
    if app_id is not None:
        if result.status is AttemptStatus.CANCELED:
            session.breakers.release(app_id)
        else:
            session.breakers.record(app_id, result.succeeded)
            session.record_stats(app_id, result.succeeded, result.duration_ms)
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


@contextlib.contextmanager
def _app_slot(slot: threading.Semaphore | None, session: RunSession) -> Iterator[None]:
    """Hold one of an app's ``limits.max_parallel`` slots; give up waiting on cancel (the
    adapter then reports the attempt canceled without starting it)."""
    if slot is None:
        yield
        return
    while not slot.acquire(timeout=_SLOT_POLL_SECONDS):
        if session.cancel.canceled:
            yield
            return
    try:
        yield
    finally:
        slot.release()


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
