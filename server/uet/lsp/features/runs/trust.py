"""Workspace trust for runs started from the editor: nothing is started or resumed in a
workspace that is not trusted.

An editor's own "untrusted" signal (``initializationOptions.workspaceTrusted: false``,
VS Code's restricted mode) always wins; otherwise ``uet.trustedWorkspace`` for the file's
folder, else the answer remembered for the engine workspace (``uet.engine.trust``), else
the user is asked once (``window/showMessageRequest``, when the client supports it;
concurrent runs share the one question) and a yes or a no is remembered. Otherwise the
run is refused (:class:`RunRefused`, LSP ``RequestFailed``) with an error message.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from lsprotocol import types
from pygls.exceptions import JsonRpcException

from uet.lsp.features.runs.store import load_engine
from uet.lsp.server import UetLanguageServer

__all__ = ["DISTRUST", "TRUST", "RunRefused", "client_distrusts", "refuse", "require_trust"]

log = logging.getLogger("uet.lsp")

TRUST = "Trust and run"
DISTRUST = "Don't trust"


class RunRefused(JsonRpcException):
    """The command cannot do what was asked; the message says why (LSP RequestFailed)."""

    CODE = -32803


def refuse(server: UetLanguageServer, message: str) -> RunRefused:
    """Show ``message`` as an error and return the error to raise for the command."""
    server.window_show_message(
        types.ShowMessageParams(type=types.MessageType.Error, message=f"UET: {message}")
    )
    return RunRefused(message)


def client_distrusts(server: UetLanguageServer) -> bool:
    """The editor said the workspace is untrusted (VS Code's restricted mode sends
    ``initializationOptions.workspaceTrusted: false``): then nothing runs and nobody is asked,
    whatever the settings or a remembered answer say."""
    options = server.state.initialization_options
    return isinstance(options, dict) and options.get("workspaceTrusted") is False


async def require_trust(
    server: UetLanguageServer,
    questions: dict[Path, asyncio.Task[bool | None]],
    root: Path,
    path: Path,
) -> None:
    """Return when runs may start in engine workspace ``root`` (for the file ``path``);
    raise :class:`RunRefused` otherwise. ``questions`` holds the questions being asked."""
    if client_distrusts(server):
        raise refuse(
            server,
            f"not running anything in {root}: the editor has not trusted this workspace "
            "(restricted mode). Trust the workspace in the editor to allow runs.",
        )
    if server.state.settings_for(str(path)).trusted_workspace:
        return
    answer = await server.in_pool(_remembered, root)
    if answer is None and server.state.client.show_message_request:
        question = questions.get(root)
        if question is None:
            question = server.spawn(_ask_trust(server, root), f"trust {root}")
            questions[root] = question
            question.add_done_callback(lambda _: questions.pop(root, None))
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
    await server.in_pool(_remember, root, answer)
    return answer


def _remembered(root: Path) -> bool | None:
    """The remembered answer for ``root`` (worker thread: the first use loads the engine)."""
    load_engine()
    from uet.engine.trust import trusted

    return trusted(root)


def _remember(root: Path, answer: bool) -> None:
    load_engine()
    from uet.engine.trust import remember_trust

    remember_trust(root, answer)
