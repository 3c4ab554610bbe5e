"""Run results as diagnostics on the tasks of a workstream file.

The editor shows a failed task where it is defined: one diagnostic on the task's id with the
exit status, the last lines of its output and a link to the attempt's log. Plain data
(``uet.artifacts.Diagnostic``); the language server converts and publishes it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from uet.artifacts import Diagnostic, ParsedFile, Related, Severity, Span
from uet.artifacts.facts import TASK, extract_facts
from uet.engine.store.records import TaskStatus

__all__ = ["TAIL_LINES", "log_tail", "task_result_diagnostics"]

TAIL_LINES = 8
_TAIL_BYTES = 16 * 1024
_LINE_WIDTH = 200


def log_tail(path: Path, lines: int = TAIL_LINES) -> list[str]:
    """The last non-empty ``lines`` of a log file (decoded leniently; [] when unreadable)."""
    try:
        with path.open("rb") as handle:
            size = handle.seek(0, 2)
            handle.seek(max(0, size - _TAIL_BYTES))
            data = handle.read()
    except OSError:
        return []
    text = data.decode("utf-8", "replace")
    kept = [line.rstrip()[:_LINE_WIDTH] for line in text.splitlines() if line.strip()]
    return kept[-lines:]


def task_result_diagnostics(
    parsed: ParsedFile,
    statuses: Iterable[TaskStatus],
    workspace_root: Path,
    run_id: str,
) -> list[Diagnostic]:
    """UET401/402 on failed or timed-out tasks and UET403 on skipped ones, placed on each
    task's ``task_id`` value in ``parsed`` (the workstream file)."""
    facts = extract_facts(parsed.path, "workstream_spec", parsed.documents)
    spans = {symbol.id: symbol.span for symbol in facts.symbols if symbol.kind == TASK}
    diagnostics: list[Diagnostic] = []
    for status in statuses:
        span = spans.get(status.task_id)
        if span is None:
            continue
        diagnostic = _diagnostic(status, span, workspace_root, run_id)
        if diagnostic is not None:
            diagnostics.append(diagnostic)
    return diagnostics


def _diagnostic(
    status: TaskStatus, span: Span, workspace_root: Path, run_id: str
) -> Diagnostic | None:
    reason = status.reason or ""
    if status.state == "failed":
        timed_out = "timed out" in reason
        code = "UET402" if timed_out else "UET401"
        if timed_out:
            headline = f"task '{status.task_id}' {reason}"
        elif status.exit_code is not None:
            headline = f"task '{status.task_id}' failed with exit status {status.exit_code}"
        else:
            headline = f"task '{status.task_id}' failed: {reason or 'no reason recorded'}"
        severity = Severity.ERROR
    elif status.state == "skipped":
        code, severity = "UET403", Severity.INFORMATION
        headline = f"task '{status.task_id}' was skipped: {reason or 'a dependency failed'}"
    else:
        return None
    log_path = _log_path(status.logs_path, workspace_root)
    tail = log_tail(log_path) if log_path is not None and code != "UET403" else []
    message = headline if not tail else headline + "\n" + "\n".join(tail)
    related: Sequence[Related] = ()
    if log_path is not None and log_path.is_file():
        related = (Related(str(log_path), Span(0, 0), f"log of attempt {status.attempts}"),)
    return Diagnostic(
        span,
        severity,
        code,
        message,
        data={
            "run_id": run_id,
            "task_id": status.task_id,
            "exit_code": status.exit_code,
            "log_path": str(log_path) if log_path is not None else None,
            "attempts": status.attempts,
        },
        related=tuple(related),
    )


def _log_path(logs_path: str | None, workspace_root: Path) -> Path | None:
    if not logs_path:
        return None
    path = Path(logs_path)
    return path if path.is_absolute() else workspace_root / path
