"""Diagnostics: exact ranges, push vs pull, stale versions, size and binary limits."""

from __future__ import annotations

import asyncio

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams, JsonRpcMethodNotFound

from .conftest import Session, codes, range_text

WORKSTREAM = "workstreams/build.yaml"


@pytest.mark.asyncio(loop_scope="session")
async def test_diagnostic_range_is_the_exact_node(served: Session) -> None:
    text = (served.root / WORKSTREAM).read_text()
    text = text.replace(
        "objective: Lint and test the project.",
        'objective: "\U0001f680 go"\ntags: ["\U0001f680 fast", 5]',
    )
    uri = served.open(WORKSTREAM, text)
    (diagnostic,) = await served.diagnostics(uri)
    assert diagnostic.code == "UET201"
    assert diagnostic.source == "uet"
    # `5` is at code-point column 17; the emoji counts twice in UTF-16.
    assert range_text(diagnostic) == "6:18-6:19"


@pytest.mark.asyncio(loop_scope="session")
async def test_push_or_pull_matches_the_client(served: Session) -> None:
    uri = served.open(
        WORKSTREAM, (served.root / WORKSTREAM).read_text().replace("fail_fast", "fail_fst")
    )
    items = await served.diagnostics(uri)
    assert codes(items) == ["UET204"]
    assert items[0].data["suggestion"] == "fail_fast"
    if served.pull:
        await asyncio.sleep(0.2)
        assert served.last_published(uri) is None  # clean on disk, pulled once opened
    else:
        assert served.last_published(uri) is not None


@pytest.mark.asyncio(loop_scope="session")
async def test_stale_versions_are_dropped(served: Session) -> None:
    original = (served.root / WORKSTREAM).read_text()
    uri = served.open(WORKSTREAM, original)
    for number in range(30):
        served.replace(uri, original.replace("fail_fast", f"bad{number}"))
    final = served.replace(uri, original.replace("fail_fast", "escalatee"))
    items = await served.diagnostics(uri)
    assert codes(items) == ["UET204"]
    assert "escalatee" in items[0].message
    versions = [p.version for p in served.published if p.uri == uri and p.version is not None]
    assert versions == sorted(versions)  # never an older version after a newer one
    if not served.pull:
        assert versions[-1] == final


async def test_oversized_and_binary_files_yield_one_diagnostic(session: Session) -> None:
    (session.root / "workstreams" / "binary.yaml").write_bytes(b"workstream_id: \x00\x01\x02\n")
    await session.start()
    binary_uri = session.uri("workstreams/binary.yaml")
    await session.pushed(binary_uri, lambda items: codes(items) == ["UET104"])
    huge = "workstream_id: WS-HUGE\n" + "# padding line for the size limit\n" * 160_000
    assert len(huge) > 5 * 1024 * 1024
    uri = session.open("workstreams/huge.yaml", huge)
    assert codes(await session.diagnostics(uri)) == ["UET103"]
    # The server is still responsive afterwards.
    other = session.open(WORKSTREAM)
    assert await session.diagnostics(other) == []


async def test_closing_a_file_outside_the_workspace_clears_it(session: Session, tmp_path) -> None:
    await session.start()
    outside = tmp_path / "elsewhere" / "loose.workstream.yaml"
    outside.parent.mkdir()
    outside.write_text("workstream_id: WS-LOOSE\n")
    uri = outside.as_uri()
    session.versions[uri] = 1
    session.client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id="yaml", version=1, text=outside.read_text()
            )
        )
    )
    assert codes(await session.diagnostics(uri)) == ["UET202"]
    session.client.text_document_did_close(
        types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )
    if not session.pull:
        await session.pushed(uri, lambda items: items == [])
    else:
        await asyncio.sleep(0.2)
        assert session.last_published(uri) is None


@pytest.mark.asyncio(loop_scope="session")
async def test_unexpected_requests_do_not_break_the_server(served: Session) -> None:
    """An unknown method and a known one with nonsense params are answered with the right
    JSON-RPC errors, and the server goes on serving."""
    with pytest.raises(JsonRpcMethodNotFound):
        await served.client.protocol.send_request_async("uet/noSuchMethod", {"nonsense": True})
    with pytest.raises(JsonRpcInvalidParams, match="textDocument"):
        await served.client.protocol.send_request_async("uet/schemaForDocument", {"nonsense": True})
    uri = served.open(WORKSTREAM)
    assert await served.diagnostics(uri) == []


@pytest.mark.asyncio(loop_scope="session")
async def test_typing_inside_values_keeps_every_range_exact(served: Session) -> None:
    """Edits inside one value are applied to the previous parse (incremental reparsing):
    diagnostics after each keystroke must sit exactly where a fresh parse puts them."""
    original = (served.root / WORKSTREAM).read_text()
    uri = served.open(WORKSTREAM, original)
    assert await served.diagnostics(uri) == []

    def expected(text: str, token: str) -> str:
        line = next(n for n, row in enumerate(text.splitlines()) if token in row)
        column = text.splitlines()[line].index(token)
        return f"{line}:{column}-{line}:{column + len(token)}"

    broken = original.replace("fail_fast", "fail_fst")
    steps = [
        broken,
        broken.replace("Lint the sources", "Lint all the sources"),  # after the error
        broken.replace("Build and test", "Build and then test"),  # before it
        broken.replace("Build and test", "B"),
        broken.replace("Build and test", "B").replace("project.", "project, quickly."),  # full
    ]
    for text in steps:
        served.replace(uri, text)
        (item,) = await served.diagnostics(uri)
        assert (item.code, range_text(item)) == ("UET204", expected(text, "fail_fst"))
    served.replace(uri, steps[-1].replace("fail_fst", "fail_fast"))
    assert await served.diagnostics(uri) == []
