"""Workspace bootstrap in the editor: profile selection and artifact generation
(``uet.bootstrap``) offered as code actions and commands, the active profile shown through
``uet/status`` and hover. Documented in docs/lsp-extensions.md.

- Code actions (kind ``source``, contributed through ``hooks.code_actions`` on any
  document's request) while a folder holds no UET artifacts:
  "UET: Bootstrap workspace as <profile> (<score>: <signals>)" for the chosen profile and
  the next best that scored, plus "Choose a profile…" when the client can be asked.
- ``uet.bootstrap [profileId?, folderUri?]``: plans the bootstrap (without a profile: the
  persisted one, else the selected one, else it asks) and sends it as ONE
  ``workspace/applyEdit`` (``CreateFile`` + ``TextEdit``s) so the user sees and can undo it;
  once the client applied it, the manifest is recorded. A client that cannot create files
  through a WorkspaceEdit gets the files written by the server (``apply_plan``: atomic,
  confined to the folder) and a message saying so.
- ``uet.selectProfile [profileId?, folderUri?]``: asks with ``window/showMessageRequest``
  (the plausible profiles, best first, one short button each) unless a profile is given,
  then bootstraps with it.
- ``uet.previewBootstrap [profileId?, folderUri?]``: the plan ``uet.bootstrap`` would
  apply (files with their new text, problems, plausible profiles) and the command that
  applies it; writes nothing, so clients show it before the user applies it.
- ``uet/status`` notification: the folder's active profile (``PROJECT_PROFILE.yaml``, the
  persisted choice), after an index sync when it changed and after every bootstrap.
- Hover on ``profile_id`` of a project profile: the profile's description and why it ranks
  where it does in this workspace (``hooks.hovers``).

Handlers only adapt: the flow (scan cache, plan, apply, record, status) is in ``flow``,
the words in ``text``, the protocol types in ``uet.lsp.convert_bootstrap``. Execution
model: every handler and hook is ``async`` on the event loop and awaits the pool and the
client; the ``indexed`` hook only drops the folder's cached scan and schedules the status
check.

Start-up: registering is cheap. ``uet.bootstrap`` and the flow modules are imported inside
the handlers (``hooks.deferred_imports`` has them imported in the background right after
``initialized``), never when the server starts.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams

from uet.lsp import convert, convert_bootstrap
from uet.lsp.server import UetLanguageServer

if TYPE_CHECKING:
    from uet.artifacts import FileReport
    from uet.artifacts.editing import HoverInfo
    from uet.bootstrap import Analysis

__all__ = ["DEFERRED_IMPORTS", "OFFERED_PROFILES", "BootstrapState", "register"]

# Bootstrap code actions offered: the selected profile, then the next best that scored.
OFFERED_PROFILES = 3
# What the handlers import on first use (see the module docstring).
DEFERRED_IMPORTS = (
    "uet.bootstrap",
    "uet.lsp.features.bootstrap.flow",
    "uet.lsp.features.bootstrap.text",
    "uet.artifacts.editing",
)

log = logging.getLogger("uet.lsp")


@dataclass(slots=True, eq=False)
class BootstrapState:
    """The feature's state, one per server: the scan of each folder (a shared task, dropped
    when the folder changes), the last status sent per folder, and the bootstrap in flight."""

    analyses: dict[Path, asyncio.Task[Analysis]] = field(default_factory=dict)
    statuses: dict[Path, dict[str, Any]] = field(default_factory=dict)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    applying: asyncio.Task[dict[str, Any]] | None = None


def register(server: UetLanguageServer) -> None:
    """Add the commands and the code-action, hover and index hooks."""
    state = BootstrapState()

    async def code_actions(
        ls: UetLanguageServer, params: types.CodeActionParams
    ) -> list[types.CodeAction]:
        return await _code_actions(ls, state, params)

    async def hover(ls: UetLanguageServer, report: FileReport, info: HoverInfo) -> HoverInfo:
        return await _hover(ls, state, report, info)

    def indexed(ls: UetLanguageServer, folders: list[Path]) -> None:
        for root in folders:
            state.analyses.pop(root, None)
        ls.spawn(_send_statuses(ls, state, folders), "send uet/status")

    async def bootstrap(ls: UetLanguageServer, *arguments: Any) -> dict[str, Any]:
        profile_id, folder_uri = _arguments(arguments)
        return await _bootstrap(ls, state, _root(ls, folder_uri), profile_id)

    async def preview(ls: UetLanguageServer, *arguments: Any) -> dict[str, Any]:
        profile_id, folder_uri = _arguments(arguments)
        return await _preview(ls, state, _root(ls, folder_uri), profile_id)

    async def select_profile(ls: UetLanguageServer, *arguments: Any) -> dict[str, Any]:
        profile_id, folder_uri = _arguments(arguments)
        return await _select(ls, state, _root(ls, folder_uri), profile_id)

    hooks = server.state.hooks
    hooks.add_code_actions(code_actions, types.CodeActionKind.Source)
    hooks.hovers.append(hover)
    hooks.indexed.append(indexed)
    hooks.deferred_imports.extend(DEFERRED_IMPORTS)
    hooks.add_command(convert_bootstrap.BOOTSTRAP_COMMAND, bootstrap, cancellable=True)
    hooks.add_command(convert_bootstrap.PREVIEW_COMMAND, preview, cancellable=True)
    hooks.add_command(convert_bootstrap.SELECT_PROFILE_COMMAND, select_profile, cancellable=True)


async def _send_statuses(
    server: UetLanguageServer, state: BootstrapState, folders: list[Path]
) -> None:
    await server.load_modules(*DEFERRED_IMPORTS)
    from uet.lsp.features.bootstrap import flow

    await flow.send_statuses(server, state, folders)


async def _preview(
    server: UetLanguageServer, state: BootstrapState, root: Path, profile_id: str | None
) -> dict[str, Any]:
    await server.load_modules(*DEFERRED_IMPORTS)
    from uet.lsp.features.bootstrap import flow

    return await flow.preview(server, state, root, profile_id)


async def _code_actions(
    server: UetLanguageServer, state: BootstrapState, params: types.CodeActionParams
) -> list[types.CodeAction]:
    if not _kind_requested(types.CodeActionKind.Source, params.context.only):
        return []
    root = _folder_of_document(server, params.text_document.uri)
    if root is None or _has_indexed_artifacts(server, root):
        return []
    await server.load_modules(*DEFERRED_IMPORTS)
    from uet.bootstrap import BootstrapError
    from uet.lsp.features.bootstrap import flow
    from uet.lsp.features.bootstrap.text import plausible_profiles

    try:
        analysis = await flow.analysis(server, state, root)
    except (BootstrapError, OSError) as error:
        log.warning("no bootstrap actions for %s: %s", root, error)
        return []
    if analysis.discovery.uet_artifacts:
        return []
    chosen = analysis.selection.chosen
    offered = [chosen] + [score for score in plausible_profiles(analysis) if score is not chosen]
    folder_uri = convert.uri_of(str(root))
    subject = _subject(server, root)
    actions = [
        convert_bootstrap.to_bootstrap_action(
            score,
            folder_uri,
            subject,
            preferred=score is chosen and not analysis.selection.ambiguous,
        )
        for score in offered[:OFFERED_PROFILES]
    ]
    if server.state.client.show_message_request:
        actions.append(convert_bootstrap.to_select_action(folder_uri, subject))
    return actions


async def _hover(
    server: UetLanguageServer, state: BootstrapState, report: FileReport, info: HoverInfo
) -> HoverInfo:
    if report.schema != "project_profile" or info.path != ("profile_id",):
        return info
    value = report.value
    profile_id = value.get("profile_id") if isinstance(value, dict) else None
    root = server.state.folder_of(report.path)
    if not isinstance(profile_id, str) or root is None:
        return info
    await server.load_modules(*DEFERRED_IMPORTS)
    from uet.artifacts.editing import HoverInfo
    from uet.bootstrap import BootstrapError
    from uet.bootstrap.generator import PROJECT_PROFILE_PATH
    from uet.lsp.features.bootstrap import flow
    from uet.lsp.features.bootstrap.text import profile_markdown

    try:
        analysis = await flow.analysis(server, state, root)
    except (BootstrapError, OSError) as error:
        log.warning("no profile hover for %s: %s", root, error)
        return info
    active = Path(report.path) == root / PROJECT_PROFILE_PATH
    text = profile_markdown(analysis, profile_id, active=active)
    return HoverInfo(f"{info.markdown}\n\n---\n\n{text}", info.span, info.path)


async def _bootstrap(
    server: UetLanguageServer, state: BootstrapState, root: Path, profile_id: str | None
) -> dict[str, Any]:
    """Bootstrap with the given profile; without one, as ``uet bootstrap`` does: the
    persisted profile, else the selected one, and a question when the selection is
    ambiguous."""
    await server.load_modules(*DEFERRED_IMPORTS)
    from uet.lsp.features.bootstrap import flow

    if profile_id is None:
        state.analyses.pop(root, None)
        analysis = await flow.analysis(server, state, root)
        selection = analysis.selection
        profile_id = analysis.active_profile_id or (
            None if selection.ambiguous else selection.chosen.profile_id
        )
        if profile_id is None:
            return await _select(server, state, root, None)
    return await flow.bootstrap(server, state, root, profile_id)


async def _select(
    server: UetLanguageServer, state: BootstrapState, root: Path, profile_id: str | None
) -> dict[str, Any]:
    """Bootstrap with the given profile, or with the one the user picks from the ranking."""
    await server.load_modules(*DEFERRED_IMPORTS)
    from uet.lsp.features.bootstrap import flow
    from uet.lsp.features.bootstrap.text import choice_message, plausible_profiles, ranking_message

    if profile_id is not None:
        return await flow.bootstrap(server, state, root, profile_id)
    state.analyses.pop(root, None)  # the user is deciding: rank what is there now
    analysis = await flow.analysis(server, state, root)
    subject = _subject(server, root)
    if not server.state.client.show_message_request:
        flow.show(server, types.MessageType.Info, ranking_message(analysis, subject))
        message = "no profile chosen: the client cannot be asked"
        return flow.result(root, profile_id=None, message=message)
    offered = plausible_profiles(analysis)
    answer = await server.window_show_message_request_async(
        types.ShowMessageRequestParams(
            type=types.MessageType.Info,
            message=choice_message(analysis, subject),
            actions=convert_bootstrap.to_message_actions(offered),
        )
    )
    titles = {convert_bootstrap.choice_title(score): score for score in offered}
    chosen = titles.get(answer.title) if answer is not None else None
    if chosen is None:
        return flow.result(root, profile_id=None, message="no profile chosen")
    return await flow.bootstrap(server, state, root, chosen.profile_id)


def _arguments(arguments: tuple[Any, ...]) -> tuple[str | None, str | None]:
    """``[profileId?, folderUri?]`` (``null`` or ``""`` for an omitted value)."""
    if len(arguments) > 2 or not all(item is None or isinstance(item, str) for item in arguments):
        raise JsonRpcInvalidParams("expected arguments [profileId?, folderUri?] (strings)")
    profile_id = arguments[0] if arguments else None
    folder_uri = arguments[1] if len(arguments) > 1 else None
    return profile_id or None, folder_uri or None


def _root(server: UetLanguageServer, folder_uri: str | None) -> Path:
    """The workspace folder a command acts on: the one named (it must be a workspace
    folder: commands never write elsewhere), or the only one."""
    folders = server.state.folders
    if folder_uri is None:
        if len(folders) == 1:
            return folders[0]
        raise JsonRpcInvalidParams(
            f"{len(folders)} workspace folders: name the one to bootstrap (folderUri)"
        )
    path = Path(convert.path_of(folder_uri))
    if path not in folders:
        raise JsonRpcInvalidParams(f"{folder_uri} is not a workspace folder")
    return path


def _folder_of_document(server: UetLanguageServer, uri: str) -> Path | None:
    """The folder holding the document (the only folder for a document outside it)."""
    folder = server.state.folder_of(convert.path_of(uri))
    if folder is None and len(server.state.folders) == 1:
        return server.state.folders[0]
    return folder


def _has_indexed_artifacts(server: UetLanguageServer, root: Path) -> bool:
    """Whether the index holds an artifact of ``root`` (then no scan is needed)."""
    prefix = str(root) + os.sep
    return any(path.startswith(prefix) for path in server.state.index.paths())


def _kind_requested(kind: str, only: Sequence[str] | None) -> bool:
    """Whether ``context.only`` (kinds are hierarchical: ``source`` covers ``source.x``)
    admits ``kind``."""
    if not only:
        return True
    wanted = _kind_text(kind)
    for item in only:
        text = _kind_text(item)
        if text in ("", wanted) or wanted.startswith(f"{text}."):
            return True
    return False


def _kind_text(kind: str) -> str:
    return str(kind.value) if isinstance(kind, Enum) else kind


def _subject(server: UetLanguageServer, root: Path) -> str:
    return "workspace" if len(server.state.folders) <= 1 else f"folder {root.name}"
