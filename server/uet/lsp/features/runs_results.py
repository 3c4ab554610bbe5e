"""Run results as diagnostics on the tasks of workstream files (UET401/402/403).

For each workstream file the server keeps the latest result diagnostic of each task
(``uet.engine.task_diagnostics``): a task that fails gets one, a task that succeeds in a
later run loses it, a canceled or unfinished task keeps what it had. The diagnostics are
merged into the file's own through ``ServerState.diagnostic_sources`` and re-anchored on
the task's current ``task_id`` node at every publish, so they follow edits of the file and
vanish with the task.

Reading a run's task states and log tails touches SQLite and files: it runs in the thread
pool; the store itself is only touched on the event loop.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from uet.artifacts import Diagnostic, ParsedFile
from uet.artifacts.facts import TASK
from uet.artifacts.index import WorkspaceIndex
from uet.engine import TaskStatus, connect, task_statuses
from uet.engine.task_diagnostics import task_result_diagnostics
from uet.lsp import documents
from uet.lsp.features.runs_progress import ActiveRun
from uet.lsp.server import UetLanguageServer

__all__ = ["RunResults", "install", "refresh"]

_KEPT_STATES = frozenset({"pending", "running", "canceled"})  # no news about the task


@dataclass(eq=False)
class RunResults:
    """Task result diagnostics per workstream path: ``{path: {task_id: diagnostic}}``."""

    by_path: dict[str, dict[str, Diagnostic]] = field(default_factory=dict)

    def merge(
        self, path: str, statuses: Sequence[TaskStatus], diagnostics: Sequence[Diagnostic]
    ) -> None:
        """Fold one run's task outcomes into what ``path`` shows."""
        stored = self.by_path.setdefault(path, {})
        for status in statuses:
            if status.state not in _KEPT_STATES:
                stored.pop(status.task_id, None)
        for diagnostic in diagnostics:
            stored[str(diagnostic.data["task_id"])] = diagnostic
        if not stored:
            del self.by_path[path]

    def anchored(self, index: WorkspaceIndex, path: str) -> list[Diagnostic]:
        """The diagnostics of ``path`` on the tasks' current ``task_id`` spans; tasks that
        no longer exist in the file drop theirs."""
        stored = self.by_path.get(path)
        if not stored:
            return []
        facts = index.facts(path)
        if facts is None:
            return []
        spans = {symbol.id: symbol.span for symbol in facts.symbols if symbol.kind == TASK}
        return [
            dataclasses.replace(diagnostic, span=spans[task_id])
            for task_id, diagnostic in stored.items()
            if task_id in spans
        ]


def install(server: UetLanguageServer, results: RunResults) -> None:
    """Make ``results`` part of every file's diagnostics."""
    server.state.diagnostic_sources.append(lambda path: results.anchored(server.state.index, path))


async def refresh(server: UetLanguageServer, results: RunResults, run: ActiveRun) -> None:
    """Read the task states of ``run`` and republish its workstream file's diagnostics."""
    report = server.state.index.report(run.path)
    if report is None:
        return  # the workstream file is not part of the workspace index: nowhere to show
    statuses, diagnostics = await server.in_pool(
        _read, run.handle.workspace.db_path, run.run_id, report.parsed, run.root
    )
    results.merge(run.path, statuses, diagnostics)
    documents.publish(server, {run.path})


def _read(
    db_path: Path, run_id: str, parsed: ParsedFile, root: Path
) -> tuple[list[TaskStatus], list[Diagnostic]]:
    """Task states and result diagnostics of ``run_id`` (worker thread)."""
    connection = connect(db_path)
    try:
        statuses = task_statuses(connection, run_id)
    finally:
        connection.close()
    return statuses, task_result_diagnostics(parsed, statuses, root, run_id)
