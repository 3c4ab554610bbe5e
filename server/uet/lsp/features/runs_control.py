"""Starting, resuming, cancelling and finding runs for the editor (no protocol decoding).

Every blocking step (planning, the run store, trust answers, cross-process cancel) runs in
the server's thread pool (the store reads are in ``runs_store``, trust in ``runs_trust``);
the engine executes the run on its own threads. A run started here is *adopted*: it gets
an :class:`~uet.lsp.features.runs_progress.ActiveRun` on the board and a
:func:`~uet.lsp.features.runs_progress.follow` task on the loop.

The task processes of editor runs start at a lower CPU priority (``uet.runPriority``, idle by
default) so that the editor and this server stay responsive while a run keeps every core
busy; the engine's own threads keep the server's priority.

``uet.engine`` is imported inside the functions, after a thread-pool call has loaded it:
importing the run feature must stay cheap, and the first import must not block the loop.
"""

from __future__ import annotations

import asyncio
import functools
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from uet.lsp.features import runs_results, runs_store
from uet.lsp.features.runs_progress import ActiveRun, EventRelay, follow, notify_status
from uet.lsp.features.runs_results import RunResults
from uet.lsp.features.runs_trust import RunRefused, refuse, require_trust
from uet.lsp.server import UetLanguageServer

if TYPE_CHECKING:
    from uet.engine import RunHandle, RunOptions, Workspace
    from uet.settings import Settings

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

# Editor runs give a task this long between SIGTERM and SIGKILL on cancel, so every child
# process group is gone within a second of the user's click.
EDITOR_KILL_GRACE_SECONDS = 0.5


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

    def running_in(self, root: Path) -> bool:
        """Whether a run this server follows executes in engine workspace ``root``."""
        return any(run.root == root for run in self.active.values())


async def start(server: UetLanguageServer, board: RunBoard, request: RunRequest) -> ActiveRun:
    """Check trust, plan and start a run, and follow it; returns once it runs."""
    folder = server.state.folder_of(str(request.path)) or request.path.parent
    workspace = await server.in_pool(runs_store.workspace_of, request.path, folder)
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
    return await server.in_pool(runs_store.read_runs, roots, limit)


async def locate_run(
    server: UetLanguageServer, board: RunBoard, run_text: str
) -> tuple[Workspace, str]:
    """The workspace holding run ``run_text`` (id or unique prefix) and its full id; the
    engine is loaded (in the pool) for the handler's imports from it that follow."""
    await server.in_pool(runs_store.load_engine)
    active = board.find(run_text)
    if active is not None:
        return active.handle.workspace, active.run_id
    roots = await known_workspaces(server, board)
    found = await server.in_pool(runs_store.find_run, roots, run_text)
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
    path = await server.in_pool(runs_store.log_path, workspace, run_id, task_id)
    if path is None or not await server.in_pool(path.is_file):
        return run_id, None
    return run_id, path


async def known_workspaces(server: UetLanguageServer, board: RunBoard) -> list[Path]:
    """Engine workspaces of the folders and of the runs started here."""
    found = await server.in_pool(runs_store.folder_workspaces, tuple(server.state.folders))
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
    run.shown = lambda task_id: task_id in board.results.by_path.get(run.path, {})
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
            on_results=lambda active, tasks: runs_results.refresh(
                server, board.results, active, tasks
            ),
        )
    finally:
        board.active.pop(run.run_id, None)
        _refresh_lenses(server)


def _refresh_lenses(server: UetLanguageServer) -> None:
    if server.state.client.code_lens_refresh:
        server.workspace_code_lens_refresh(None)  # a request; the answer is not needed


def _names(roots: list[Path]) -> str:
    shown = [str(root) for root in roots]
    return ", ".join(shown) if shown else "any workspace"
