"""Run results as diagnostics on the tasks of workstream files (UET401/402/403).

For each workstream file the server keeps the latest result diagnostic of each task
(``uet.engine.store.task_diagnostics``): a task that fails gets one, a task that succeeds in a
later run loses it, a canceled or unfinished task keeps what it had. The outcomes come
from the runs the server executes (:func:`refresh`) and from runs made elsewhere
(``history``); :attr:`RunResults.shown_runs` remembers the newest run folded in for
each file, so an older run never overrides a newer one and no run is read twice. The
diagnostics are merged into the file's own through ``ServerState.diagnostic_sources`` and
re-anchored on the task's current ``task_id`` node at every publish, so they follow edits
of the file and vanish with the task. A file is republished only when what it shows
changed.

Reading a run's task states and log tails touches SQLite and files: it runs in the thread
pool; the store itself is only touched on the event loop.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from uet.artifacts import Diagnostic, ParsedFile
from uet.artifacts.facts import TASK
from uet.artifacts.index import WorkspaceIndex
from uet.lsp import publishing
from uet.lsp.features.runs.progress import ActiveRun
from uet.lsp.features.runs.store import load_engine
from uet.lsp.server import UetLanguageServer

if TYPE_CHECKING:
    from uet.engine import TaskStatus

__all__ = ["RunResults", "install", "refresh"]

_KEPT_STATES = frozenset({"pending", "running", "canceled"})  # no news about the task
_UNFINISHED = frozenset({"pending", "running"})
_WITH_DIAGNOSTIC = frozenset({"failed", "skipped"})


@dataclass(eq=False)
class RunResults:
    """Task result diagnostics per workstream path: ``{path: {task_id: diagnostic}}``."""

    by_path: dict[str, dict[str, Diagnostic]] = field(default_factory=dict)
    shown_runs: dict[str, str] = field(default_factory=dict)  # path → newest run folded in

    def merge(
        self,
        path: str,
        statuses: Sequence[TaskStatus],
        diagnostics: Sequence[Diagnostic],
        run_id: str | None = None,
    ) -> bool:
        """Fold task outcomes into what ``path`` shows; ``run_id``: they are every outcome
        of that finished run. Returns whether what ``path`` shows changed."""
        if run_id is not None and run_id > self.shown_runs.get(path, ""):
            self.shown_runs[path] = run_id
        stored = self.by_path.setdefault(path, {})
        before = dict(stored)
        for status in statuses:
            if status.state not in _KEPT_STATES:
                stored.pop(status.task_id, None)
        for diagnostic in diagnostics:
            stored[str(diagnostic.data["task_id"])] = diagnostic
        if not stored:
            del self.by_path[path]
        return stored != before

    def newest_run(self, path: str) -> str:
        """The id of the newest run whose every outcome ``path`` shows ("" for none)."""
        return self.shown_runs.get(path, "")

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


async def refresh(
    server: UetLanguageServer,
    results: RunResults,
    run: ActiveRun,
    tasks: frozenset[str] | None = None,
) -> frozenset[str]:
    """Read the outcomes of ``tasks`` of ``run`` (``None``: every task, once the run has
    ended) and republish its workstream file's diagnostics if they changed. Returns those
    of ``tasks`` the store does not show finished yet (the engine reports a task finished
    before its group commit records it): the caller reads them again later."""
    report = server.state.index.report(run.path)
    if report is None:
        return frozenset()  # the workstream file is not in the workspace index: nowhere to show
    statuses, diagnostics = await server.in_pool(
        _read, run.handle.workspace.db_path, run.run_id, report.parsed, run.root, tasks
    )
    finished = run.run_id if tasks is None else None
    if results.merge(run.path, statuses, diagnostics, finished):
        publishing.publish(server, {run.path})
    if tasks is None:
        return frozenset()
    return frozenset(status.task_id for status in statuses if status.state in _UNFINISHED)


def _read(
    db_path: Path, run_id: str, parsed: ParsedFile, root: Path, tasks: frozenset[str] | None
) -> tuple[list[TaskStatus], list[Diagnostic]]:
    """Task states and result diagnostics of ``run_id``, of ``tasks`` only unless ``None``
    (worker thread)."""
    load_engine()
    from uet.engine import connect, task_statuses
    from uet.engine.store.task_diagnostics import task_result_diagnostics

    connection = connect(db_path)
    try:
        statuses = task_statuses(connection, run_id)
    finally:
        connection.close()
    if tasks is not None:
        statuses = [status for status in statuses if status.task_id in tasks]
    if not any(status.state in _WITH_DIAGNOSTIC for status in statuses):
        return statuses, []  # nothing to show: spare parsing the file's tasks
    return statuses, task_result_diagnostics(parsed, statuses, root, run_id)
