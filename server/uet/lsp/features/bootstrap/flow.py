"""The bootstrap flow behind ``uet.bootstrap`` / ``uet.selectProfile`` /
``uet.previewBootstrap`` and ``uet/status`` (the package's ``__init__`` holds the
handlers): scan (cached per folder), plan, show the plan without applying it (preview),
apply through the client as ONE ``workspace/applyEdit`` or write on the server when the
client cannot create files, record the manifest, tell the client the active profile.

Invariants: nothing is applied from a plan with errors; a planned file whose open document
differs from the text the plan was made from stops the bootstrap (no unsaved work is
replaced); every target is checked to resolve inside the folder right before the edit is
built; once the edit is sent, the flow runs to its end (the manifest is recorded) even if
the request is cancelled, and the next bootstrap waits for it.

Execution model: coroutines on the event loop; scans, plans, reads and writes run in the
thread pool (``server.in_pool``); the client's answers are awaited, never blocked on.
"""

from __future__ import annotations

import asyncio
import functools
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams

from uet.bootstrap import (
    Analysis,
    AnalysisOptions,
    BootstrapError,
    BootstrapPlan,
    FileAction,
    PlannedFile,
    UnknownProfileError,
    analyze_workspace,
    apply_plan,
    plan_bootstrap,
    record_applied,
)
from uet.bootstrap.generator import PROJECT_PROFILE_PATH
from uet.bootstrap.validation import check_artifact_text
from uet.lsp import convert, convert_bootstrap, index_sync
from uet.lsp.convert_bootstrap import EditTarget
from uet.lsp.features.bootstrap.text import (
    active_profile_of,
    outcome_message,
    plausible_profiles,
    preview_message,
)
from uet.lsp.server import UetLanguageServer

if TYPE_CHECKING:
    from uet.lsp.features.bootstrap import BootstrapState

__all__ = [
    "STATUS_NOTIFICATION",
    "analysis",
    "bootstrap",
    "preview",
    "result",
    "send_statuses",
    "show",
]

STATUS_NOTIFICATION = "uet/status"
# Characters of one file's text a preview carries (generated files are a few KiB; a
# .gitignore the plan appends to is the user's and may be anything).
PREVIEW_TEXT_LIMIT = 200_000


async def analysis(server: UetLanguageServer, state: BootstrapState, root: Path) -> Analysis:
    """The folder's analysis, shared by concurrent callers (a cancelled request does not
    cancel the scan others wait for; a failed scan is retried by the next caller)."""
    task = state.analyses.get(root)
    if task is None or (task.done() and (task.cancelled() or task.exception() is not None)):
        task = asyncio.ensure_future(server.in_pool(analyze_workspace, root, AnalysisOptions()))
        task.add_done_callback(_retrieve)
        state.analyses[root] = task
    return await asyncio.shield(task)


async def bootstrap(
    server: UetLanguageServer, state: BootstrapState, root: Path, profile_id: str
) -> dict[str, Any]:
    """Plan ``root`` as ``profile_id`` and apply it; the command's result (``result``)."""
    async with state.lock:
        if state.applying is not None and not state.applying.done():
            await asyncio.wait([state.applying])  # a cancelled request's edit still finishing
        state.analyses.pop(root, None)  # plan from the workspace as it is now
        scanned = await analysis(server, state, root)
        try:
            plan = await server.in_pool(
                functools.partial(plan_bootstrap, root, profile_id, analysis=scanned)
            )
        except UnknownProfileError as error:
            raise JsonRpcInvalidParams(str(error)) from error
        if not plan.ok:
            message = outcome_message(plan, written_by=None)
            show(server, types.MessageType.Error, message)
            return result(root, profile_id=profile_id, message=message)
        conflicts = _unsaved_documents(server, plan)
        if conflicts:
            message = (
                f"UET: bootstrap as {profile_id} not started: save or revert "
                f"{', '.join(conflicts)} first (the editor's text differs from the disk)."
            )
            show(server, types.MessageType.Warning, message)
            return result(root, profile_id=profile_id, message=message)
        state.applying = asyncio.ensure_future(_apply(server, state, plan))
        state.applying.add_done_callback(_retrieve)
        return await asyncio.shield(state.applying)


async def preview(
    server: UetLanguageServer, state: BootstrapState, root: Path, profile_id: str | None
) -> dict[str, Any]:
    """What ``uet.bootstrap`` would do, applied nowhere: the plan of ``root`` as
    ``profile_id`` (without one: the persisted profile, else the best ranked, also when the
    ranking is ambiguous, which the result says), the plausible profiles and the command
    that applies this plan."""
    state.analyses.pop(root, None)  # preview the workspace as it is now
    scanned = await analysis(server, state, root)
    chosen = profile_id or scanned.active_profile_id or scanned.selection.chosen.profile_id
    try:
        plan = await server.in_pool(
            functools.partial(plan_bootstrap, root, chosen, analysis=scanned)
        )
    except UnknownProfileError as error:
        raise JsonRpcInvalidParams(str(error)) from error
    folder_uri = convert.uri_of(str(root))
    title = f"UET: Bootstrap {root.name} as {plan.profile_id}"
    return {
        "workspaceFolder": folder_uri,
        "profileId": plan.profile_id,
        "profileVersion": plan.profile_version,
        "ambiguous": profile_id is None
        and scanned.active_profile_id is None
        and scanned.selection.ambiguous,
        "reason": scanned.selection.reason,
        "profiles": [
            {
                "profileId": score.profile_id,
                "score": round(score.score, 2),
                "summary": score.summary(),
                "reasons": score.reasons(),
            }
            for score in plausible_profiles(scanned)
        ],
        "ok": plan.ok,
        "problems": [
            {"level": problem.level.value, "path": problem.path, "message": problem.message}
            for problem in plan.problems
        ],
        "files": [_preview_file(root, item) for item in plan.files],
        "message": preview_message(plan),
        "apply": {
            "title": title,
            "command": convert_bootstrap.BOOTSTRAP_COMMAND,
            "arguments": [plan.profile_id, folder_uri],
        },
    }


def _preview_file(root: Path, item: PlannedFile) -> dict[str, Any]:
    """One file of a preview: its new text when the plan writes it (and the text it
    replaces when it exists), bounded by ``PREVIEW_TEXT_LIMIT``."""
    writes = item.writes
    text = item.text if writes else None
    previous = item.previous_text if writes and item.action is not FileAction.CREATE else None
    truncated = any(
        value is not None and len(value) > PREVIEW_TEXT_LIMIT for value in (text, previous)
    )
    return {
        "path": item.path,
        "uri": convert.uri_of(str(root / item.path)),
        "action": item.action.value,
        "text": text[:PREVIEW_TEXT_LIMIT] if text is not None else None,
        "previousText": previous[:PREVIEW_TEXT_LIMIT] if previous is not None else None,
        "truncated": truncated,
    }


async def send_statuses(
    server: UetLanguageServer, state: BootstrapState, folders: list[Path]
) -> None:
    """Send ``uet/status`` for each folder whose status changed since it was last sent."""
    for root in folders:
        status = await _status(server, root)
        if state.statuses.get(root) != status:
            _notify_status(server, state, root, status)


def result(root: Path, *, profile_id: str | None, message: str) -> dict[str, Any]:
    """A command result; this form says nothing was applied."""
    return {
        "workspaceFolder": convert.uri_of(str(root)),
        "profileId": profile_id,
        "applied": False,
        "writtenBy": None,
        "files": [],
        "kept": [],
        "message": message,
    }


def show(server: UetLanguageServer, kind: types.MessageType, message: str) -> None:
    """``window/showMessage``."""
    server.window_show_message(types.ShowMessageParams(type=kind, message=message))


async def _apply(
    server: UetLanguageServer, state: BootstrapState, plan: BootstrapPlan
) -> dict[str, Any]:
    root = plan.root
    client = server.state.client
    try:
        if not plan.writes():
            written_by = None
            await server.in_pool(record_applied, plan)
        elif client.document_changes and client.resource_create:
            written_by = "client"
            refused = await _apply_through_client(server, plan)
            if refused is not None:
                show(server, types.MessageType.Warning, refused)
                return result(root, profile_id=plan.profile_id, message=refused)
            await server.in_pool(record_applied, plan)
        else:
            written_by = "server"
            await server.in_pool(apply_plan, plan)
    except (BootstrapError, OSError) as error:
        message = f"UET: bootstrap as {plan.profile_id} failed: {error}"
        show(server, types.MessageType.Error, message)
        return result(root, profile_id=plan.profile_id, message=message)
    message = outcome_message(plan, written_by=written_by)
    show(server, types.MessageType.Info, message)
    state.analyses.pop(root, None)
    _notify_status(server, state, root, await _status(server, root, plan))
    # the index picks the new files up at once
    server.spawn(index_sync.sync(server, [root]), "index after bootstrap")
    done = result(root, profile_id=plan.profile_id, message=message)
    done.update(
        applied=True,
        writtenBy=written_by,
        profileVersion=plan.profile_version,
        files=[item.path for item in plan.writes()],
        kept=[item.path for item in plan.kept()],
    )
    return done


async def _apply_through_client(server: UetLanguageServer, plan: BootstrapPlan) -> str | None:
    """Send the plan as one WorkspaceEdit; the reason when the client did not apply it."""
    targets = await server.in_pool(_edit_targets, plan, _open_versions(server))
    edit = convert_bootstrap.to_bootstrap_edit(targets, server.encoding)
    label = f"UET: bootstrap {plan.root.name} as {plan.profile_id}"
    try:
        answer = await server.workspace_apply_edit_async(
            types.ApplyWorkspaceEditParams(edit=edit, label=label)
        )
    except JsonRpcException as error:
        return f"UET: the editor did not apply the bootstrap ({error}); nothing recorded."
    if answer.applied:
        return None
    reason = answer.failure_reason or "the editor refused it"
    return f"UET: the editor did not apply the bootstrap ({reason}); nothing recorded."


def _retrieve(task: asyncio.Task[Any]) -> None:
    """Mark a failure as seen when no request awaits the task any more (they report it)."""
    if not task.cancelled():
        task.exception()


async def _status(
    server: UetLanguageServer, root: Path, plan: BootstrapPlan | None = None
) -> dict[str, Any]:
    """``uet/status`` params: the plan just applied wins; else the index (the editor's text
    of an open profile), else the disk."""
    path = root / PROJECT_PROFILE_PATH
    planned = {item.path: item for item in plan.files} if plan is not None else {}
    entry = planned.get(PROJECT_PROFILE_PATH)
    profile_id: str | None
    version: str | None
    if plan is not None and entry is not None and entry.action is not FileAction.KEEP:
        profile_id, version, exists = plan.profile_id, plan.profile_version, True
    else:
        report = server.state.index.report(str(path))
        if report is not None:
            value, exists = report.value, True
        else:
            value, exists = await server.in_pool(_read_profile, path)
        profile_id, version = active_profile_of(value)
    return {
        "workspaceFolder": convert.uri_of(str(root)),
        "profileId": profile_id,
        "profileVersion": version,
        "profileFile": convert.uri_of(str(path)) if exists else None,
    }


def _read_profile(path: Path) -> tuple[object, bool]:
    """The plain value of a project profile on disk (``None`` when unreadable), and
    whether the file exists (worker thread)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None, False
    except (OSError, UnicodeDecodeError):
        return None, path.exists()
    return check_artifact_text(text, PROJECT_PROFILE_PATH, "project_profile").value, True


def _notify_status(
    server: UetLanguageServer, state: BootstrapState, root: Path, status: dict[str, Any]
) -> None:
    state.statuses[root] = status
    server.protocol.notify(STATUS_NOTIFICATION, status)


def _edit_targets(plan: BootstrapPlan, versions: dict[str, tuple[str, int]]) -> list[EditTarget]:
    """Where each write goes (worker thread): the URI the editor knows the file by and its
    open version. A target resolving outside the folder is refused (the plan checked the
    paths; this catches a symbolic link swapped in since)."""
    root = plan.root
    targets: list[EditTarget] = []
    for item in plan.writes():
        path = root / item.path
        if not path.resolve().is_relative_to(root):
            raise BootstrapError(f"refusing to write {item.path!r}: it resolves outside {root}")
        uri, version = versions.get(str(path), (convert.uri_of(str(path)), None))
        targets.append(EditTarget(uri, item, version, path.exists()))
    return targets


def _open_versions(server: UetLanguageServer) -> dict[str, tuple[str, int]]:
    """Open documents: path → (the client's URI, current version)."""
    found: dict[str, tuple[str, int]] = {}
    for uri, document in server.state.documents.items():
        version = server.workspace.get_text_document(uri).version
        if version is not None:
            found[document.path] = (uri, version)
    return found


def _unsaved_documents(server: UetLanguageServer, plan: BootstrapPlan) -> list[str]:
    """Planned writes whose open document differs from the text the plan was made from."""
    planned = {str(plan.root / item.path): item for item in plan.writes()}
    found: list[str] = []
    for uri, document in server.state.documents.items():
        item = planned.get(document.path)
        if item is None:
            continue
        if server.workspace.get_text_document(uri).source != (item.previous_text or ""):
            found.append(item.path)
    return sorted(found)
