"""Starting, resuming, cancelling and finding runs for the editor (no protocol decoding).

Every blocking step (planning, the run store, trust answers, cross-process cancel) runs in
the server's thread pool; the engine executes the run on its own threads. A run started
here is *adopted*: it gets an :class:`~uet.lsp.features.runs_progress.ActiveRun` on the
board and a :func:`~uet.lsp.features.runs_progress.follow` task on the loop.

**Safety:** nothing is started or resumed in a workspace that is not trusted. An editor's
own "untrusted" signal (``initializationOptions.workspaceTrusted: false``) always wins;
otherwise ``uet.trustedWorkspace`` for the file's folder, else the answer remembered for the engine
workspace (``uet.engine.trust``), else the user is asked once (``window/showMessageRequest``,
when the client supports it; concurrent runs share the one question) and the answer is
remembered. Otherwise :class:`RunRefused` (LSP ``RequestFailed``) and an error message.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcException

from uet.engine import (
    EngineError,
    RunHandle,
    RunOptions,
    Workspace,
    connect,
    find_run_id,
    find_workspace,
    list_runs,
    resume_run,
    start_run,
    task_statuses,
)
from uet.engine.trust import remember_trust, trusted
from uet.lsp.documents import uri_of
from uet.lsp.features import runs_results
from uet.lsp.features.runs_progress import ActiveRun, EventRelay, follow, notify_status
from uet.lsp.features.runs_results import RunResults
from uet.lsp.server import UetLanguageServer

__all__ = [
    "EDITOR_KILL_GRACE_SECONDS",
    "RunBoard",
    "RunRefused",
    "RunRequest",
    "cancel",
    "known_workspaces",
    "locate_run",
    "log_of",
    "recent_runs",
    "refuse",
    "resume",
    "start",
]

log = logging.getLogger("uet.lsp")

# Editor runs give a task this long between SIGTERM and SIGKILL on cancel, so every child
# process group is gone within a second of the user's click.
EDITOR_KILL_GRACE_SECONDS = 0.5
TRUST = "Trust and run"
DISTRUST = "Don't trust"


class RunRefused(JsonRpcException):
    """The command cannot do what was asked; the message says why (LSP RequestFailed)."""

    CODE = -32803


@dataclass(frozen=True, slots=True)
class RunRequest:
    """What to run: a workstream file, optionally only some tasks (and their dependencies)."""

    path: Path
    only_tasks: tuple[str, ...] | None = None
    jobs: int | None = None


@dataclass(eq=False)
class RunBoard:
    """The runs this server follows and what they left behind (event loop only)."""

    active: dict[str, ActiveRun] = field(default_factory=dict)
    results: RunResults = field(default_factory=RunResults)
    roots: set[Path] = field(default_factory=set)  # engine workspaces runs were started in
    questions: dict[Path, asyncio.Task[bool | None]] = field(default_factory=dict)

    def find(self, text: str) -> ActiveRun | None:
        """The active run whose id is ``text`` or starts with it."""
        wanted = text.strip().upper()
        matches = [run for run_id, run in self.active.items() if run_id.startswith(wanted)]
        return matches[0] if wanted and len(matches) == 1 else None


def refuse(server: UetLanguageServer, message: str) -> RunRefused:
    """Show ``message`` as an error and return the error to raise for the command."""
    server.window_show_message(
        types.ShowMessageParams(type=types.MessageType.Error, message=f"UET: {message}")
    )
    return RunRefused(message)


async def start(server: UetLanguageServer, board: RunBoard, request: RunRequest) -> ActiveRun:
    """Check trust, plan and start a run, and follow it; returns once it runs."""
    folder = server.state.folder_of(str(request.path)) or request.path.parent
    workspace = await server.in_pool(_workspace_of, request.path, folder)
    await _require_trust(server, board, workspace.root, request.path)
    relay = EventRelay(asyncio.get_running_loop())
    options = RunOptions(
        jobs=request.jobs,
        requested_by="uet-lsp",
        kill_grace_seconds=EDITOR_KILL_GRACE_SECONDS,
        only_tasks=request.only_tasks,
    )
    starting = functools.partial(
        start_run, request.path, workspace=workspace, options=options, subscribers=(relay,)
    )
    return await _launch(server, board, starting, relay)


async def resume(
    server: UetLanguageServer, board: RunBoard, run_text: str, jobs: int | None
) -> ActiveRun:
    """Resume an interrupted run (of any workspace the server knows) and follow it."""
    workspace, run_id = await locate_run(server, board, run_text)
    await _require_trust(server, board, workspace.root, workspace.root)
    relay = EventRelay(asyncio.get_running_loop())
    options = RunOptions(
        jobs=jobs, requested_by="uet-lsp", kill_grace_seconds=EDITOR_KILL_GRACE_SECONDS
    )
    resuming = functools.partial(
        resume_run, run_id, workspace=workspace, options=options, subscribers=(relay,)
    )
    return await _launch(server, board, resuming, relay)


def cancel(server: UetLanguageServer, run: ActiveRun, reason: str) -> None:
    """Ask the engine to stop ``run`` (returns at once; the run ends ``canceled``)."""
    if run.ended() or run.canceling:
        return
    run.canceling = True
    run.handle.cancel(reason)
    run.changed.set()  # the progress says so
    notify_status(server, run)


async def recent_runs(
    server: UetLanguageServer, board: RunBoard, limit: int
) -> list[dict[str, Any]]:
    """The newest runs of every known workspace (editor and CLI runs alike)."""
    roots = await known_workspaces(server, board)
    return await server.in_pool(_read_runs, roots, limit)


async def locate_run(
    server: UetLanguageServer, board: RunBoard, run_text: str
) -> tuple[Workspace, str]:
    """The workspace holding run ``run_text`` (id or unique prefix) and its full id."""
    active = board.find(run_text)
    if active is not None:
        return active.handle.workspace, active.run_id
    roots = await known_workspaces(server, board)
    found = await server.in_pool(_find_run, roots, run_text)
    if found is None:
        raise refuse(server, f"no run {run_text!r} in {_names(roots)}")
    return found


async def log_of(
    server: UetLanguageServer, board: RunBoard, run_text: str, task_id: str | None
) -> Path:
    """The log file of ``task_id``'s last attempt in a run (default: its first failed task,
    else its last task that has a log)."""
    workspace, run_id = await locate_run(server, board, run_text)
    path = await server.in_pool(_log_path, workspace, run_id, task_id)
    if path is None:
        wanted = f"task {task_id!r}" if task_id else "any task"
        raise refuse(server, f"run {run_id} has no log for {wanted}")
    return path


async def known_workspaces(server: UetLanguageServer, board: RunBoard) -> list[Path]:
    """Engine workspaces of the folders and of the runs started here."""
    found = await server.in_pool(_folder_workspaces, tuple(server.state.folders))
    return sorted({*found, *board.roots})


# -- launching and trust -------------------------------------------------------------------


async def _launch(
    server: UetLanguageServer,
    board: RunBoard,
    launching: functools.partial[RunHandle],
    relay: EventRelay,
) -> ActiveRun:
    """Run ``launching`` in the pool and adopt the run. When the command is cancelled
    meanwhile, the start still completes and the run is cancelled at once (and followed,
    so that its progress ends)."""
    loop = asyncio.get_running_loop()
    pending = loop.run_in_executor(server.thread_pool, launching)
    try:
        handle = await asyncio.shield(pending)
    except EngineError as error:
        problems = getattr(error, "problems", ()) or (str(error),)
        raise refuse(server, "; ".join([str(error), *problems][:6])) from None
    except asyncio.CancelledError:
        try:
            handle = await pending
        except EngineError:
            raise asyncio.CancelledError from None
        run = _adopt(server, board, handle, relay)
        cancel(server, run, "canceled by the client before it started")
        raise
    return _adopt(server, board, handle, relay)


def _adopt(
    server: UetLanguageServer, board: RunBoard, handle: RunHandle, relay: EventRelay
) -> ActiveRun:
    plan = handle.plan
    relative = str(plan.document.get("workstream_path") or "")
    workstream = plan.workstream
    run = ActiveRun(
        handle=handle,
        path=os.path.realpath(handle.workspace.root / relative),
        name=workstream.name,
        workstream_id=workstream.workstream_id,
    )
    board.active[run.run_id] = run
    board.roots.add(handle.workspace.root)
    relay.connect(run.on_engine_event)
    server.spawn(_follow(server, board, run), f"run {run.run_id}")
    _refresh_lenses(server)
    return run


async def _follow(server: UetLanguageServer, board: RunBoard, run: ActiveRun) -> None:
    try:
        await follow(
            server,
            run,
            on_cancel=lambda: cancel(server, run, "canceled from the editor's progress"),
            on_results=lambda active: runs_results.refresh(server, board.results, active),
        )
    finally:
        board.active.pop(run.run_id, None)
        _refresh_lenses(server)


def _refresh_lenses(server: UetLanguageServer) -> None:
    if server.state.client.code_lens_refresh:
        server.workspace_code_lens_refresh(None)  # a request; the answer is not needed


def client_distrusts(server: UetLanguageServer) -> bool:
    """The editor said the workspace is untrusted (VS Code's restricted mode sends
    ``initializationOptions.workspaceTrusted: false``): then nothing runs and nobody is asked,
    whatever the settings or a remembered answer say."""
    options = server.state.initialization_options
    return isinstance(options, dict) and options.get("workspaceTrusted") is False


async def _require_trust(
    server: UetLanguageServer, board: RunBoard, root: Path, path: Path
) -> None:
    if client_distrusts(server):
        raise refuse(
            server,
            f"not running anything in {root}: the editor has not trusted this workspace "
            "(restricted mode). Trust the workspace in the editor to allow runs.",
        )
    if server.state.settings_for(str(path)).trusted_workspace:
        return
    answer = await server.in_pool(trusted, root)
    if answer is None and server.state.client.show_message_request:
        question = board.questions.get(root)
        if question is None:
            question = server.spawn(_ask_trust(server, root), f"trust {root}")
            board.questions[root] = question
            question.add_done_callback(lambda _: board.questions.pop(root, None))
        answer = await asyncio.shield(question)
    if answer:
        return
    why = "you answered not to trust it" if answer is False else "it is not trusted"
    raise refuse(
        server,
        f"not running anything in {root}: {why}. Set uet.trustedWorkspace to true for this "
        "folder to allow runs.",
    )


async def _ask_trust(server: UetLanguageServer, root: Path) -> bool | None:
    """Ask once; remember a yes or a no (dismissing the question is not an answer)."""
    params = types.ShowMessageRequestParams(
        type=types.MessageType.Warning,
        message=(
            f"Allow uet to run the commands named by the workstreams of {root}? "
            "Only do this for a workspace whose files you trust."
        ),
        actions=[types.MessageActionItem(title=TRUST), types.MessageActionItem(title=DISTRUST)],
    )
    try:
        chosen = await server.window_show_message_request_async(params)
    except JsonRpcException as error:
        log.warning("window/showMessageRequest failed: %s", error)
        return None
    if chosen is None or chosen.title not in (TRUST, DISTRUST):
        return None
    answer = chosen.title == TRUST
    await server.in_pool(remember_trust, root, answer)
    return answer


# -- worker-thread helpers -----------------------------------------------------------------


def _workspace_of(path: Path, folder: Path) -> Workspace:
    """The engine workspace of a workstream file (its folder when no marker says otherwise)."""
    return find_workspace(path, cwd=folder)


def _folder_workspaces(folders: Iterable[Path]) -> list[Path]:
    return [find_workspace(folder, cwd=folder).root for folder in folders]


def _read_runs(roots: Iterable[Path], limit: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for root in roots:
        db_path = Workspace(root).db_path
        if not db_path.is_file():
            continue
        connection = connect(db_path)
        try:
            summaries = list_runs(connection, limit)
        finally:
            connection.close()
        for summary in summaries:
            path = Path(summary.workstream_path or "")
            rows.append(
                {
                    "runId": summary.run_id,
                    "workspace": str(root),
                    "workstreamId": summary.workstream_id,
                    "workstreamPath": summary.workstream_path,
                    "uri": uri_of(str(root / path)) if summary.workstream_path else None,
                    "state": summary.state,
                    "reason": summary.state_reason,
                    "createdAt": summary.created_at,
                    "startedAt": summary.started_at,
                    "endedAt": summary.ended_at,
                    "durationSeconds": summary.duration_seconds,
                    "taskCounts": summary.task_counts,
                    "totalTasks": summary.total_tasks,
                    "active": summary.active,
                }
            )
    rows.sort(key=lambda row: str(row["runId"]), reverse=True)
    return rows[:limit]


def _find_run(roots: Iterable[Path], run_text: str) -> tuple[Workspace, str] | None:
    for root in roots:
        workspace = Workspace(root)
        if not workspace.db_path.is_file():
            continue
        connection = connect(workspace.db_path)
        try:
            return workspace, find_run_id(connection, run_text)
        except EngineError:
            continue
        finally:
            connection.close()
    return None


def _log_path(workspace: Workspace, run_id: str, task_id: str | None) -> Path | None:
    connection = connect(workspace.db_path)
    try:
        statuses = task_statuses(connection, run_id)
    finally:
        connection.close()
    with_logs = [status for status in statuses if status.logs_path]
    if task_id is not None:
        chosen = [status for status in with_logs if status.task_id == task_id]
    else:
        chosen = [status for status in with_logs if status.state == "failed"] or with_logs[-1:]
    if not chosen or chosen[0].logs_path is None:
        return None
    path = Path(chosen[0].logs_path)
    return path if path.is_absolute() else workspace.root / path


def _names(roots: Iterable[Path]) -> str:
    shown = [str(root) for root in roots]
    return ", ".join(shown) if shown else "any workspace"
