"""Running a task's validations: the ``validate_with`` apps of the routing rules it matches.

Validations run inside the task's attempt, after its command succeeded, one after another
and under the run's cancel token. The attempt completes only when every required
validation passed, so a retry runs the command and its validations again and a task is
still recorded completed at most once (a crash mid-validation leaves a running attempt
that resume re-runs whole). Each validator writes its own log beside the attempt's
(``<task>.<attempt>.<app>.log``); every outcome is a ``note`` run_event, and that is all a
failed optional validation leaves. A failed required validation fails the attempt with
the validator's exit status and log (so the task's diagnostic shows its output), and is
never retried as if the command had failed.
"""

from __future__ import annotations

from uet.engine.adapters.base import AdapterResult, AttemptStatus
from uet.engine.planning.plan import TaskPlan, Validation
from uet.engine.running.session import RunSession
from uet.engine.store.lifecycle import EventKind

__all__ = ["run_validations"]


def run_validations(
    session: RunSession, task_plan: TaskPlan, attempt: int, result: AdapterResult
) -> AdapterResult:
    """The attempt's result after its validations (``result`` itself when the command
    failed or there are none)."""
    if not result.succeeded or not task_plan.validations:
        return result
    task_id = task_plan.task.task_id
    total_ms = result.duration_ms
    for validation in task_plan.validations:
        checked = _validate(session, task_id, attempt, validation)
        total_ms += checked.duration_ms
        _record(session, task_id, attempt, validation, checked)
        if checked.status is AttemptStatus.CANCELED:
            return checked._replace(duration_ms=total_ms)
        if validation.required and not checked.succeeded:
            return AdapterResult(
                status=AttemptStatus.FAILED,
                exit_code=checked.exit_code,
                duration_ms=total_ms,
                reason=f"validation by {validation.invocation.app_id} failed: {checked.reason}",
                log_path=checked.log_path,
                output_bytes=result.output_bytes + checked.output_bytes,
                truncated=checked.truncated,
                process_group=result.process_group,
            )
    return result._replace(duration_ms=total_ms)


def _validate(
    session: RunSession, task_id: str, attempt: int, validation: Validation
) -> AdapterResult:
    invocation = validation.invocation
    log_path = session.log_path(task_id, attempt, invocation.app_id or "validator")
    return session.registry.adapter(invocation.app_id).execute(
        session.adapter_request(invocation, log_path), session.cancel
    )


def _record(
    session: RunSession,
    task_id: str,
    attempt: int,
    validation: Validation,
    checked: AdapterResult,
) -> None:
    """Queue a ``note`` event with the validation's outcome."""
    session.record_event(
        EventKind.NOTE,
        {
            "note": "validation",
            "task_id": task_id,
            "attempt": attempt,
            "validator": validation.invocation.app_id,
            "rule_id": validation.rule_id,
            "required": validation.required,
            "status": str(checked.status),
            "exit_code": checked.exit_code,
            "reason": checked.reason,
            "log": str(checked.log_path) if checked.log_path is not None else None,
        },
    )
