"""Hostile documents in the real server over stdio: each gets diagnostics at once, requests
on it are answered, and the document recovers as soon as its text is fixed.

``asyncio.wait_for(..., GUARD)`` only turns a hang into a failure; nothing here measures
time.
"""

from __future__ import annotations

import asyncio

import pytest
from lsprotocol import types

from .conftest import Session, codes

pytestmark = pytest.mark.asyncio(loop_scope="session")  # every test on the served server

WORKSTREAM = "workstreams/build.yaml"
GUARD = 60.0


async def hover(session: Session, uri: str, line: int, character: int) -> types.Hover | None:
    """A hover request that must be answered."""
    params = types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        position=types.Position(line=line, character=character),
    )
    return await asyncio.wait_for(session.client.text_document_hover_async(params), GUARD)


async def diagnostics(session: Session, uri: str) -> list[str]:
    return codes(await asyncio.wait_for(session.diagnostics(uri), GUARD))


async def test_a_recursive_alias_is_reported_and_the_document_recovers(served: Session) -> None:
    original = (served.root / WORKSTREAM).read_text()
    uri = served.open(WORKSTREAM, original + "extra: &a [*a]\n")
    assert await diagnostics(served, uri) == ["UET106"]
    assert await hover(served, uri, 1, 3) is None  # answered: nothing validated to show
    served.replace(uri, original)
    assert await diagnostics(served, uri) == []
    found = await hover(served, uri, 1, 3)
    assert found is not None  # the fixed document has its tree back


async def test_huge_numbers_and_deep_nesting_are_diagnostics(served: Session) -> None:
    original = (served.root / WORKSTREAM).read_text()
    texts = {
        "UET112": original.replace("WS-BUILD", "0x" + "f" * 3600),
        "UET105": original.replace("WS-BUILD", "[" * 995 + "]" * 995),
    }
    uri = served.open(WORKSTREAM, original)
    for code, text in texts.items():
        served.replace(uri, text)
        assert await diagnostics(served, uri) == [code]
        await hover(served, uri, 1, 3)
    served.replace(uri, original)
    assert await diagnostics(served, uri) == []


async def test_lone_surrogates_in_a_buffer_are_reported_in_place(served: Session) -> None:
    original = (served.root / WORKSTREAM).read_text()
    text = original.replace("Lint and test", "Lint \ud800 test")
    uri = served.open(WORKSTREAM, text)
    items = await asyncio.wait_for(served.diagnostics(uri), GUARD)
    assert codes(items) == ["UET114"]
    line = text.splitlines().index("objective: Lint \ud800 test the project.")
    assert (items[0].range.start.line, items[0].range.start.character) == (line, 16)
    assert (items[0].range.end.line, items[0].range.end.character) == (line, 17)
    await hover(served, uri, line, 20)


async def test_explicit_tags_reach_the_editor(served: Session) -> None:
    original = (served.root / WORKSTREAM).read_text()
    uri = served.open(WORKSTREAM, original.replace("WS-BUILD", "!!int WS-BUILD"))
    assert await diagnostics(served, uri) == ["UET113"]
    served.replace(uri, original.replace("WS-BUILD", "!!str 42"))
    assert await diagnostics(served, uri) == []
