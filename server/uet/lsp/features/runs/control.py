"""Starting, resuming, cancelling and finding runs for the editor (no protocol decoding).

Every blocking step (planning, the run store, trust answers, cross-process cancel) runs in
the server's thread pool (the store reads are in ``store``, trust in ``trust``);
the engine executes the run on its own threads. A run started here is *adopted*: it gets
an :class:`~uet.lsp.features.runs.progress.ActiveRun` on the board and a
:func:`~uet.lsp.features.runs.progress.follow` task on the loop.

One run per workstream file at a time: a start while the file's run executes (or is being
started) starts nothing; the answer is the running run, and the user is offered to cancel
it. A workstream whose editor diagnostics hold errors is refused before anything else, with
every one of those problems in one message (the engine would report them one stage at a
time). Each run's start and end is one INFO line in the server's log.

The task processes of editor runs start at a lower CPU priority (``uet.runPriority``, idle by
default) so that the editor and this server stay responsive while a run keeps every core
busy; the engine's own threads keep the server's priority.

``uet.engine`` is imported inside the functions, after a thread-pool call has loaded it:
importing the run feature must stay cheap, and the first import must not block the loop.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.exceptions import JsonRpcException

from uet.artifacts import Diagnostic, Severity
from uet.lsp.features.runs import results, store
from uet.lsp.features.runs.progress import ActiveRun, EventRelay, follow, notify_status
from uet.lsp.features.runs.results import RunResults
from uet.lsp.features.runs.trust import RunRefused, refuse, require_trust
from uet.lsp.server import UetLanguageServer

if TYPE_CHECKING:
    from uet.engine import RunHandle, RunOptions, Workspace
    from uet.settings import Settings

__all__ = [
    "EDITOR_KILL_GRACE_SECONDS",
    "RunBoard",
    "RunRefused",
    "RunRequest",
    "Started",
    "cancel",
    "known_workspaces",
    "locate_run",
    "log_of",
    "recent_runs",
    "refusal_problems",
    "refuse",
    "resume",
    "start",
]

log = logging.getLogger("uet.lsp")

# Editor runs give a task this long between SIGTERM and SIGKILL on cancel, so every child
# process group is gone within a second of the user's click.
EDITOR_KILL_GRACE_SECONDS = 0.5
MAX_PROBLEMS_SHOWN = 10  # problems listed in a refusal; more are counted
CANCEL_RUNNING = "Cancel the running one"
KEEP_RUNNING = "Keep it running"


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
    # Workstream files (real paths) whose start is under way: what the start became (the
    # run, or ``None`` when it was refused), for a second start of the same file meanwhile.
    starting: dict[str, asyncio.Future[ActiveRun | None]] = field(default_factory=dict)

    def find(self, text: str) -> ActiveRun | None:
        """The active run whose id is ``text`` or starts with it."""
        wanted = text.strip().upper()
        matches = [run for run_id, run in self.active.items() if run_id.startswith(wanted)]
        return matches[0] if wanted and len(matches) == 1 else None

    def running_file(self, path: str) -> ActiveRun | None:
        """The run of workstream file ``path`` (a real path) that executes, if any."""
        return next((run for run in self.active.values() if run.path == path), None)

    def running_in(self, root: Path) -> bool:
        """Whether a run this server follows executes in engine workspace ``root``."""
        return any(run.root == root for run in self.active.values())


@dataclass(frozen=True, slots=True)
class Started:
    """What a run command got: a new run, or (``fresh`` false) the run of the same
    workstream that was already executing."""

    run: ActiveRun
    fresh: bool


async def start(server: UetLanguageServer, board: RunBoard, request: RunRequest) -> Started:
    """Check the workstream, trust, plan and start a run, and follow it; returns once it
    runs. One run per workstream file: while one executes or starts, no second one is
    started (see :func:`_already_running`)."""
    key = os.path.realpath(request.path)
    running = board.running_file(key)
    if running is None and key in board.starting:
        running = await asyncio.shield(board.starting[key])
        if running is None:  # that start was refused, and said why
            raise RunRefused(f"{request.path.name} was not started (see the previous message)")
    if running is not None:
        return Started(await _already_running(server, running), fresh=False)
    pending: asyncio.Future[ActiveRun | None] = asyncio.get_running_loop().create_future()
    board.starting[key] = pending
    run: ActiveRun | None = None
    try:
        run = await _start(server, board, request, key)
    finally:
        board.starting.pop(key, None)
        pending.set_result(run)
    return Started(run, fresh=True)


async def _start(
    server: UetLanguageServer, board: RunBoard, request: RunRequest, key: str
) -> ActiveRun:
    problems = refusal_problems(server, key)
    if problems:
        raise refuse(server, problems)
    folder = server.state.folder_of(str(request.path)) or request.path.parent
    workspace = await server.in_pool(store.workspace_of, request.path, folder)
    await require_trust(server, board.questions, workspace.root, request.path)
    from uet.engine import start_run

    relay = EventRelay(asyncio.get_running_loop())
    options = _run_options(
        server.state.settings_for(str(request.path)),
        jobs=request.jobs,
        only_tasks=request.only_tasks,
    )
    starting = functools.partial(
        start_run, request.path, workspace=workspace, options=options, subscribers=(relay,)
    )
    return await _launch(server, board, starting, relay)


def refusal_problems(server: UetLanguageServer, path: str) -> str | None:
    """Why workstream file ``path`` (a real path) cannot run, from the errors the editor
    shows for it (its own and the cross-file ones), all in one text; ``None`` when it has
    none (or the server does not know the file: then the engine decides)."""
    report = server.state.index.report(path)
    if report is None:
        return None
    errors = [item for item in server.state.index.diagnostics(path) if _blocks(item)]
    if not errors:
        return None
    lines = report.parsed.line_index
    listed = []
    for item in errors[:MAX_PROBLEMS_SHOWN]:
        where = lines.position(item.span.start)
        listed.append(f"{where.line + 1}:{where.column + 1} {item.message} ({item.code})")
    more = len(errors) - len(listed)
    if more:
        listed.append(f"and {more} more (see the problems of the file)")
    count = f"{len(errors)} problem{'s' if len(errors) != 1 else ''}"
    return f"{Path(path).name} cannot run, it has {count}: " + "; ".join(listed)


def _blocks(diagnostic: Diagnostic) -> bool:
    return diagnostic.severity == Severity.ERROR


async def _already_running(server: UetLanguageServer, run: ActiveRun) -> ActiveRun:
    """A second start of a workstream whose run executes: nothing starts; the user is
    offered to cancel the running one (when the client can ask), else told so."""
    message = f"{run.name} is already running (run {run.run_id}); a workstream runs once at a time."
    log.info("not starting %s again: its run %s executes", run.name, run.run_id)
    if not server.state.client.show_message_request:
        server.window_show_message(
            types.ShowMessageParams(
                type=types.MessageType.Info,
                message=f"UET: {message} Cancel it to start it again.",
            )
        )
        return run
    params = types.ShowMessageRequestParams(
        type=types.MessageType.Info,
        message=f"UET: {message}",
        actions=[
            types.MessageActionItem(title=CANCEL_RUNNING),
            types.MessageActionItem(title=KEEP_RUNNING),
        ],
    )
    try:
        chosen = await server.window_show_message_request_async(params)
    except JsonRpcException as error:
        log.warning("window/showMessageRequest failed: %s", error)
        return run
    if chosen is not None and chosen.title == CANCEL_RUNNING:
        cancel(server, run, "canceled from the editor")
    return run


async def resume(
    server: UetLanguageServer, board: RunBoard, run_text: str, jobs: int | None
) -> ActiveRun:
    """Resume an interrupted run (of any workspace the server knows) and follow it."""
    workspace, run_id = await locate_run(server, board, run_text)
    await require_trust(server, board.questions, workspace.root, workspace.root)
    from uet.engine import resume_run

    relay = EventRelay(asyncio.get_running_loop())
    options = _run_options(server.state.settings_for(str(workspace.root)), jobs=jobs)
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
    return await server.in_pool(store.read_runs, roots, limit)


async def locate_run(
    server: UetLanguageServer, board: RunBoard, run_text: str
) -> tuple[Workspace, str]:
    """The workspace holding run ``run_text`` (id or unique prefix) and its full id; the
    engine is loaded (in the pool) for the handler's imports from it that follow."""
    await server.in_pool(store.load_engine)
    active = board.find(run_text)
    if active is not None:
        return active.handle.workspace, active.run_id
    roots = await known_workspaces(server, board)
    found = await server.in_pool(store.find_run, roots, run_text)
    if found is None:
        raise refuse(server, f"no run {run_text!r} in {_names(roots)}")
    return found


async def log_of(
    server: UetLanguageServer, board: RunBoard, run_text: str, task_id: str | None
) -> tuple[str, Path | None]:
    """The run's id and the log file of ``task_id``'s last attempt in it (default: its first
    failed task, else its last task that has a log); ``None`` when the run recorded no log
    for it, or the file is gone (deleted since)."""
    workspace, run_id = await locate_run(server, board, run_text)
    path = await server.in_pool(store.log_path, workspace, run_id, task_id)
    if path is None or not await server.in_pool(path.is_file):
        return run_id, None
    return run_id, path


async def known_workspaces(server: UetLanguageServer, board: RunBoard) -> list[Path]:
    """Engine workspaces of the folders and of the runs started here."""
    found = await server.in_pool(store.folder_workspaces, tuple(server.state.folders))
    return sorted({*found, *board.roots})


# -- launching -----------------------------------------------------------------------------


def _run_options(
    settings: Settings, jobs: int | None, only_tasks: tuple[str, ...] | None = None
) -> RunOptions:
    """The engine options of an editor run: its task processes at ``uet.runPriority``."""
    from uet.engine import CpuPriority, RunOptions

    return RunOptions(
        jobs=jobs,
        only_tasks=only_tasks,
        requested_by="uet-lsp",
        kill_grace_seconds=EDITOR_KILL_GRACE_SECONDS,
        child_priority=CpuPriority(settings.run_priority),
    )


async def _launch(
    server: UetLanguageServer,
    board: RunBoard,
    launching: functools.partial[RunHandle],
    relay: EventRelay,
) -> ActiveRun:
    """Run ``launching`` in the pool and adopt the run. When the command is cancelled
    meanwhile, the start still completes and the run is cancelled at once (and followed,
    so that its progress ends)."""
    from uet.engine import EngineError

    loop = asyncio.get_running_loop()
    pending = loop.run_in_executor(server.thread_pool, launching)
    try:
        handle = await asyncio.shield(pending)
    except EngineError as error:
        raise refuse(server, _engine_refusal(error)) from None
    except asyncio.CancelledError:
        try:
            handle = await pending
        except EngineError:
            raise asyncio.CancelledError from None
        run = _adopt(server, board, handle, relay)
        cancel(server, run, "canceled by the client before it started")
        raise
    return _adopt(server, board, handle, relay)


def _engine_refusal(error: Exception) -> str:
    """The engine's refusal as one text: its summary, then every problem it listed."""
    summary = str(error)
    problems = [item for item in getattr(error, "problems", ()) if item != summary]
    listed = problems[:MAX_PROBLEMS_SHOWN]
    if len(problems) > len(listed):
        listed.append(f"and {len(problems) - len(listed)} more")
    return ": ".join([summary, "; ".join(listed)]) if listed else summary


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
    run.shown = lambda task_id: task_id in board.results.by_path.get(run.path, {})
    board.active[run.run_id] = run
    board.roots.add(handle.workspace.root)
    relay.connect(run.on_engine_event)
    server.spawn(_follow(server, board, run), f"run {run.run_id}")
    log.info("run %s started: %s (%s, %d task(s))", run.run_id, run.name, relative, len(plan.tasks))
    _refresh_lenses(server)
    return run


async def _follow(server: UetLanguageServer, board: RunBoard, run: ActiveRun) -> None:
    try:
        await follow(
            server,
            run,
            on_cancel=lambda: cancel(server, run, "canceled from the editor's progress"),
            on_results=lambda active, tasks: results.refresh(server, board.results, active, tasks),
        )
    finally:
        board.active.pop(run.run_id, None)
        why = f" ({run.reason})" if run.reason else ""
        log.info("run %s ended: %s %s%s", run.run_id, run.name, run.state, why)
        _refresh_lenses(server)


def _refresh_lenses(server: UetLanguageServer) -> None:
    if server.state.client.code_lens_refresh:
        server.workspace_code_lens_refresh(None)  # a request; the answer is not needed


def _names(roots: list[Path]) -> str:
    shown = [str(root) for root in roots]
    return ", ".join(shown) if shown else "any workspace"
