"""The run commands (``workspace/executeCommand``, documented in docs/lsp-extensions.md):
``uet.runWorkstream [target] [options]``, ``uet.runTask target task [options]``,
``uet.cancelRun [run]``, ``uet.resumeRun run [options]``, ``uet.listRuns [limit]`` and
``uet.openLog run [task]``. A target is a workstream file URI or a workstream id; options
are ``{"wait": bool, "jobs": int}``. A run command returns as soon as the run executes
(with ``wait``: when it has ended); the run goes on on the engine's threads and is
followed on the loop (``progress``). ``$/cancelRequest`` of a run command that is still
open cancels its run (``UetProtocol`` cancels the command's task).

The handlers are async adapters: decode the arguments, call ``control``.
"""

from __future__ import annotations

import asyncio
import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams

from uet.artifacts.facts import WORKSTREAM
from uet.lsp import convert
from uet.lsp.features.runs import control
from uet.lsp.features.runs.control import RunBoard, RunRequest
from uet.lsp.features.runs.progress import ActiveRun
from uet.lsp.server import UetLanguageServer

__all__ = [
    "CANCEL_RUN",
    "LIST_RUNS",
    "OPEN_LOG",
    "RESUME_RUN",
    "RUN_TASK",
    "RUN_WORKSTREAM",
    "register",
    "stop_runs",
]

RUN_WORKSTREAM = "uet.runWorkstream"
RUN_TASK = "uet.runTask"
CANCEL_RUN = "uet.cancelRun"
RESUME_RUN = "uet.resumeRun"
LIST_RUNS = "uet.listRuns"
OPEN_LOG = "uet.openLog"

CANCEL_WAIT_SECONDS = 10.0  # how long uet.cancelRun waits for the run to end
SHUTDOWN_WAIT_SECONDS = 2.0  # how long shutdown waits for canceled runs to end
_MAX_CHOICES = 20  # workstreams offered when uet.runWorkstream has no argument


@dataclass(frozen=True, slots=True)
class CommandOptions:
    """The optional last argument of the run commands."""

    wait: bool = False
    jobs: int | None = None


def register(server: UetLanguageServer, board: RunBoard) -> None:
    """Add the run commands, acting on the runs of ``board``; those that start or resume
    a run are cancellable (``$/cancelRequest`` then cancels the run)."""

    async def run_workstream(ls: UetLanguageServer, *arguments: Any) -> dict[str, Any]:
        target, options = _target_and_options(arguments)
        path = await _workstream_path(ls, target)
        started = await control.start(ls, board, RunRequest(path, None, options.jobs))
        return await _answer(ls, started.run, options, started.fresh)

    async def run_task(ls: UetLanguageServer, *arguments: Any) -> dict[str, Any]:
        if len(arguments) < 2 or not all(isinstance(item, str) for item in arguments[:2]):
            raise JsonRpcInvalidParams("expected [workstream URI or id, task id, options?]")
        if len(arguments) > 3:
            raise JsonRpcInvalidParams("expected at most 3 arguments")
        target, task_id = str(arguments[0]), str(arguments[1])
        options = _options(arguments[2] if len(arguments) > 2 else None)
        path = await _workstream_path(ls, target)
        request = RunRequest(path, (task_id,), options.jobs)
        started = await control.start(ls, board, request)
        return await _answer(ls, started.run, options, started.fresh)

    async def resume(ls: UetLanguageServer, *arguments: Any) -> dict[str, Any]:
        run_text, options = _target_and_options(arguments)
        if run_text is None:
            raise JsonRpcInvalidParams("expected [run id, options?]")
        run = await control.resume(ls, board, run_text, options.jobs)
        return await _answer(ls, run, options)

    async def cancel(ls: UetLanguageServer, *arguments: Any) -> dict[str, Any]:
        run_text = _optional_string(arguments, "expected [run id?]")
        return {"runs": await _cancel(ls, board, run_text)}

    async def list_runs(ls: UetLanguageServer, *arguments: Any) -> list[dict[str, Any]]:
        limit = arguments[0] if arguments else 20
        if len(arguments) > 1 or not isinstance(limit, int) or isinstance(limit, bool):
            raise JsonRpcInvalidParams("expected [limit?] (an integer)")
        return await control.recent_runs(ls, board, max(1, min(limit, 500)))

    async def open_log(ls: UetLanguageServer, *arguments: Any) -> dict[str, Any]:
        if not 1 <= len(arguments) <= 2 or not all(isinstance(item, str) for item in arguments):
            raise JsonRpcInvalidParams("expected [run id, task id?]")
        task_id = str(arguments[1]) if len(arguments) == 2 else None
        run_id, path = await control.log_of(ls, board, str(arguments[0]), task_id)
        if path is None:
            # Not a failure: the task wrote nothing, or its log was deleted since.
            wanted = f"task '{task_id}'" if task_id else "any task"
            message = f"run {run_id} has no log for {wanted} (none was written, or it was deleted)"
            ls.window_show_message(
                types.ShowMessageParams(type=types.MessageType.Warning, message=f"UET: {message}")
            )
            return {"uri": None, "path": None, "shown": False, "message": message}
        uri = convert.uri_of(str(path))
        shown = False
        if ls.state.client.show_document:
            answer = await ls.window_show_document_async(
                types.ShowDocumentParams(uri=uri, take_focus=True)
            )
            shown = bool(answer.success)
        else:
            ls.window_show_message(
                types.ShowMessageParams(type=types.MessageType.Info, message=f"UET log: {path}")
            )
        return {"uri": uri, "path": str(path), "shown": shown}

    hooks = server.state.hooks
    hooks.add_command(RUN_WORKSTREAM, run_workstream, cancellable=True)
    hooks.add_command(RUN_TASK, run_task, cancellable=True)
    hooks.add_command(RESUME_RUN, resume, cancellable=True)
    hooks.add_command(CANCEL_RUN, cancel)
    hooks.add_command(LIST_RUNS, list_runs)
    hooks.add_command(OPEN_LOG, open_log)


async def _answer(
    server: UetLanguageServer, run: ActiveRun, options: CommandOptions, fresh: bool = True
) -> dict[str, Any]:
    """The run's status now, or (``wait``) once it has ended; cancelling the request then
    cancels the run. ``fresh`` false: the run of the workstream that was already executing
    (nothing new was started), marked ``alreadyRunning``."""
    await run.opened.wait()  # the token exists (``begin`` was sent) before the answer
    if options.wait:
        try:
            await run.done.wait()
        except asyncio.CancelledError:
            control.cancel(server, run, "canceled by the client ($/cancelRequest)")
            raise
    status = run.status()
    if not fresh:
        status["alreadyRunning"] = True
    return status


async def _cancel(
    server: UetLanguageServer, board: RunBoard, run_text: str | None
) -> list[dict[str, Any]]:
    """Cancel one run (any process's) or, without an id, every run this server follows."""
    if run_text is None:
        targets = list(board.active.values())
        if not targets:
            raise control.refuse(server, "no run started from the editor is executing")
    else:
        active = board.find(run_text)
        if active is None:
            return [await _cancel_elsewhere(server, board, run_text)]
        targets = [active]
    for run in targets:
        control.cancel(server, run, "canceled from the editor")
    await _wait_all(targets, CANCEL_WAIT_SECONDS)
    return [run.status() for run in targets]


async def _cancel_elsewhere(
    server: UetLanguageServer, board: RunBoard, run_text: str
) -> dict[str, Any]:
    """Cancel a run this server does not execute (a CLI run) through the run store."""
    workspace, run_id = await control.locate_run(server, board, run_text)
    from uet.engine import EngineError, cancel_run  # loaded by locate_run

    try:
        state = await server.in_pool(
            functools.partial(
                cancel_run,
                workspace.db_path,
                run_id,
                "canceled from the editor",
                wait_seconds=CANCEL_WAIT_SECONDS,
            )
        )
    except EngineError as error:
        raise control.refuse(server, str(error)) from None
    return {"runId": run_id, "workspace": str(workspace.root), "state": str(state)}


async def stop_runs(server: UetLanguageServer, board: RunBoard) -> None:
    """On shutdown: stop every run (their processes would outlive the server otherwise)."""
    targets = list(board.active.values())
    for run in targets:
        control.cancel(server, run, "the language server shut down")
    await _wait_all(targets, SHUTDOWN_WAIT_SECONDS)


async def _wait_all(runs: list[ActiveRun], timeout: float) -> None:
    if not runs:
        return
    waiting = [asyncio.ensure_future(run.done.wait()) for run in runs]
    _, pending = await asyncio.wait(waiting, timeout=timeout)
    for future in pending:
        future.cancel()


async def _workstream_path(server: UetLanguageServer, target: str | None) -> Path:
    """The workstream file a target names (asking the user when there is no target)."""
    if target is None:
        target = await _pick_workstream(server)
    if target.startswith("file:"):
        path = Path(convert.path_of(target))
        if path.is_file():
            return path
    else:
        located = server.state.index.definitions(WORKSTREAM, target)
        if located:
            return Path(located[0].path)
    raise control.refuse(server, f"no workstream {target!r} in the workspace")


async def _pick_workstream(server: UetLanguageServer) -> str:
    ids = server.state.index.ids(WORKSTREAM)
    if not ids:
        raise control.refuse(server, "there is no workstream in the workspace")
    if not server.state.client.show_message_request:
        raise control.refuse(server, "name the workstream to run (its URI or id)")
    chosen = await server.window_show_message_request_async(
        types.ShowMessageRequestParams(
            type=types.MessageType.Info,
            message="Which workstream should uet run?",
            actions=[types.MessageActionItem(title=item) for item in ids[:_MAX_CHOICES]],
        )
    )
    if chosen is None:
        raise control.refuse(server, "no workstream chosen: nothing was started")
    return chosen.title


def _target_and_options(arguments: tuple[Any, ...]) -> tuple[str | None, CommandOptions]:
    """``[target?, options?]``: an optional string then an optional options object."""
    if len(arguments) > 2:
        raise JsonRpcInvalidParams("expected at most 2 arguments")
    target = arguments[0] if arguments else None
    if target is not None and not isinstance(target, str):
        raise JsonRpcInvalidParams("the first argument must be a string (URI or id)")
    return target, _options(arguments[1] if len(arguments) > 1 else None)


def _options(raw: Any) -> CommandOptions:
    """``{"wait": boolean, "jobs": integer}``, both optional (``null``: the defaults)."""
    if raw is None:
        return CommandOptions()
    if not isinstance(raw, dict) or not isinstance(raw.get("wait", False), bool):
        raise JsonRpcInvalidParams('options must be {"wait": boolean, "jobs": integer}')
    jobs = raw.get("jobs")
    if jobs is not None and (not isinstance(jobs, int) or isinstance(jobs, bool) or jobs < 1):
        raise JsonRpcInvalidParams("options.jobs must be a positive integer")
    return CommandOptions(wait=bool(raw.get("wait", False)), jobs=jobs)


def _optional_string(arguments: tuple[Any, ...], usage: str) -> str | None:
    if not arguments:
        return None
    if len(arguments) > 1 or not isinstance(arguments[0], str):
        raise JsonRpcInvalidParams(usage)
    return arguments[0]
