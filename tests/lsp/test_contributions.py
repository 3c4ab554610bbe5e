"""One fan-out for the methods several features contribute to (``uet.lsp.hooks``): a
contribution that raises is reported and left out, and the other features' code actions,
code lenses and hover text still arrive.

The real server over stdio, with one more contribution ahead of every feature's: it
raises on every request.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from .conftest import PROFILES, Session, until

WORKSTREAM = "workstreams/build.yaml"
FAILURE = "a contribution that always fails"
SERVER_WITH_A_BROKEN_CONTRIBUTION = f"""
from uet.lsp.server import create_server

async def broken(ls, *arguments):
    raise RuntimeError({FAILURE!r})

server = create_server()
# Asked first: every feature's contribution comes after the failure.
server.state.hooks.code_actions.insert(0, broken)
server.state.hooks.code_lenses.insert(0, broken)
server.state.hooks.hovers.insert(0, broken)
server.start_io()
"""


@pytest_lsp.fixture(
    config=ClientServerConfig(
        server_command=[sys.executable, "-c", SERVER_WITH_A_BROKEN_CONTRIBUTION]
    ),
    params=PROFILES,
)
async def lsp(lsp_client: LanguageClient, request: pytest.FixtureRequest) -> AsyncIterator[None]:
    """This module's server (``session`` uses it); the profile is stashed on the client."""
    lsp_client.profile = str(request.param)  # type: ignore[attr-defined]
    yield


async def action_titles(
    session: Session, uri: str, diagnostics: list[types.Diagnostic]
) -> list[str]:
    """The titles of the code actions offered (lsprotocol reads a code action that carries
    a command as a ``Command``: both have a title)."""
    actions = await session.client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=types.Range(
                start=types.Position(line=10, character=4), end=types.Position(line=10, character=4)
            ),
            context=types.CodeActionContext(diagnostics=diagnostics),
        )
    )
    return [action.title for action in actions or []]


async def test_a_failing_contribution_leaves_the_others_answers(session: Session) -> None:
    await session.start()
    text = (session.root / WORKSTREAM).read_text()

    # Quick fixes (the code_actions feature) of a broken workstream.
    broken = text.replace("WS-BUILD", "WS-BROKEN").replace("fail_fast", "contnue")
    broken_uri = session.open("workstreams/broken.yaml", broken)
    diagnostics = await session.diagnostics(broken_uri)
    assert [str(item.code) for item in diagnostics] == ["UET204"]
    fixes = await action_titles(session, broken_uri, diagnostics)
    assert fixes[:1] == ['Replace with "continue"']

    # The run feature's lenses (VS Code) or source actions (Neovim has no code lens).
    uri = session.open(WORKSTREAM)
    assert await session.diagnostics(uri) == []
    expected = ["▶ Run workstream", "▶ Run task lint"]
    if session.profile == "vscode":
        lenses = await session.client.text_document_code_lens_async(
            types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=uri))
        )
        titles = [lens.command.title for lens in lenses or [] if lens.command is not None]
        assert titles == ["▶ Run workstream", "▶ Run task", "▶ Run task"]
    else:
        assert await action_titles(session, uri, []) == expected

    # The hover of the schema (the hover feature) on a key.
    hover = await session.client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=1, character=3),
        )
    )
    assert hover is not None and isinstance(hover.contents, types.MarkupContent)
    assert "workstream_id" in hover.contents.value

    # The failure was reported (logged, and shown once), not hidden.
    await until(lambda: any(FAILURE in item.message for item in session.client.messages))
    shown = [item.message for item in session.client.messages if FAILURE in item.message]
    assert len(shown) == 1
    assert shown[0].startswith("uet-lsp hit an internal error")
