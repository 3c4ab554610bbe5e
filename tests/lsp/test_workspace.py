"""Workspace indexing: unopened files, skipped folders, cross-file diagnostics kept fresh
through edits of other files, watched-file events or the rescan on save, deletions."""

from __future__ import annotations

import pytest
from lsprotocol import types

from .conftest import Session, codes, profile_capabilities, range_text, until

WORKSTREAM = "workstreams/build.yaml"
PHASE = "phases/build.yaml"


def disk_changed(session: Session, relative: str, kind: types.FileChangeType) -> None:
    """Tell the server a file changed on disk, the way each client would."""
    if session.profile == "vscode":
        session.client.workspace_did_change_watched_files(
            types.DidChangeWatchedFilesParams(
                changes=[types.FileEvent(uri=session.uri(relative), type=kind)]
            )
        )
    else:  # Neovim 0.7 cannot watch files: the server rescans when a document is saved
        uri = session.uri(WORKSTREAM)
        if uri not in session.versions:
            session.open(WORKSTREAM)
        session.client.text_document_did_save(
            types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
        )


async def test_index_publishes_unopened_files_and_skips_ignored_ones(session: Session) -> None:
    bad = session.root / "workstreams" / "typo.yaml"
    bad.write_text(
        (session.root / WORKSTREAM)
        .read_text()
        .replace("WS-BUILD", "WS-TYPO")
        .replace("kind: lint", "knd: lint")
    )
    await session.start()
    uri = bad.as_uri()
    await session.pushed(uri, lambda items: codes(items) == ["UET202", "UET203"])
    published = {item.uri for item in session.published}
    assert session.uri("node_modules/pkg/workstreams/skipped.yaml") not in published
    assert session.uri("generated/workstreams/ignored.yaml") not in published
    (reports,) = session.client.progress_reports.values()
    assert reports[0].title == "Indexing UET artifacts"
    assert reports[0].cancellable is True
    expected = ["workspace/didChangeWatchedFiles", "workspace/didChangeConfiguration"]
    assert [item.method for item in session.registrations] == (expected if session.pull else [])


@pytest.mark.asyncio(loop_scope="session")
async def test_cross_file_diagnostic_follows_edits_of_the_other_open_file(served: Session) -> None:
    workstream = served.open(WORKSTREAM)
    assert await served.diagnostics(workstream) == []
    phase = served.open(PHASE)
    original = (served.root / PHASE).read_text()
    refreshes = served.client.diagnostic_refresh_count
    served.replace(phase, original.replace("PH-BUILD", "PH-BUILT"))
    assert await served.diagnostics(phase) == []
    if served.pull:
        await until(lambda: served.client.diagnostic_refresh_count > refreshes)
        items = await served.diagnostics(workstream)
    else:
        await served.pushed(workstream, lambda items: codes(items) == ["UET304"])
        items = served.last_published(workstream).diagnostics  # type: ignore[union-attr]
    (diagnostic,) = items
    assert diagnostic.code == "UET304"
    assert range_text(diagnostic) == "3:10-3:18"  # the phase_id value
    assert "did you mean 'PH-BUILT'" in diagnostic.message
    served.replace(phase, original)
    if served.pull:
        await until(lambda: served.client.diagnostic_refresh_count > refreshes + 1)
        assert await served.diagnostics(workstream) == []
    else:
        await served.pushed(workstream, lambda items: items == [])


async def test_cross_file_diagnostic_follows_changes_on_disk(session: Session) -> None:
    await session.start()
    phase_file = session.root / PHASE
    original = phase_file.read_text()
    workstream = session.open(WORKSTREAM)
    assert await session.diagnostics(workstream) == []
    phase_file.write_text(original.replace("PH-BUILD", "PH-OTHER"))
    refreshes = session.client.diagnostic_refresh_count
    disk_changed(session, PHASE, types.FileChangeType.Changed)
    if session.pull:
        await until(lambda: session.client.diagnostic_refresh_count > refreshes)
        assert codes(await session.diagnostics(workstream)) == ["UET304"]
    else:
        await session.pushed(workstream, lambda items: codes(items) == ["UET304"])
    phase_file.write_text(original)
    disk_changed(session, PHASE, types.FileChangeType.Changed)
    if session.pull:
        await until(lambda: session.client.diagnostic_refresh_count > refreshes + 1)
        assert await session.diagnostics(workstream) == []
    else:
        await session.pushed(workstream, lambda items: items == [])


async def test_unknown_tool_appears_when_the_router_drops_the_app(session: Session) -> None:
    await session.start()
    router = session.root / "router_config.json"
    text = router.read_text()
    router.write_text(text.replace('"ruff"', '"ruff-renamed"'))
    disk_changed(session, "router_config.json", types.FileChangeType.Changed)
    # VS Code: the workstream is not open, so its diagnostics are pushed. Neovim: it was
    # opened to be saved, and Neovim 0.7 only has push diagnostics.
    await session.pushed(session.uri(WORKSTREAM), lambda items: codes(items) == ["UET305"])


async def test_deleted_and_created_files(session: Session) -> None:
    bad = session.root / "workstreams" / "doomed.yaml"
    bad.write_text("workstream_id: WS-DOOMED\n")
    await session.start()
    uri = bad.as_uri()
    await session.pushed(uri, lambda items: codes(items) == ["UET202"])
    bad.unlink()
    disk_changed(session, "workstreams/doomed.yaml", types.FileChangeType.Deleted)
    await session.pushed(uri, lambda items: items == [])
    new = session.root / "workstreams" / "fresh.yaml"
    new.write_text("workstream_id: WS-FRESH\nbogus: 1\n")
    disk_changed(session, "workstreams/fresh.yaml", types.FileChangeType.Created)
    await session.pushed(new.as_uri(), lambda items: "UET203" in codes(items))


async def test_indexing_progress_can_be_cancelled(session: Session) -> None:
    folder = session.root / "many" / "workstreams"
    folder.mkdir(parents=True)
    for number in range(1500):
        (folder / f"ws-{number}.yaml").write_text(f"workstream_id: WS-{number}\n")
    await session.client.initialize_session(
        types.InitializeParams(
            capabilities=profile_capabilities(session.profile),
            root_uri=session.root.as_uri(),
        )
    )
    session.started = True
    await until(lambda: session.client.progress_reports)
    (token,) = session.client.progress_reports
    session.client.window_work_done_progress_cancel(types.WorkDoneProgressCancelParams(token=token))
    await session.indexed(1)
    end = session.client.progress_reports[token][-1]
    assert end.kind == "end" and end.message == "cancelled"
    # The server still works after the cancelled indexing.
    uri = session.open(WORKSTREAM)
    assert await session.diagnostics(uri) == []


async def test_validate_workspace_rechecks_files_changed_behind_the_servers_back(
    session: Session,
) -> None:
    await session.start()
    (session.root / "workstreams" / "typo.yaml").write_text(
        (session.root / WORKSTREAM)
        .read_text()
        .replace("WS-BUILD", "WS-TYPO")
        .replace("kind: lint", "knd: lint")
    )
    counts = await session.client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="uet.validateWorkspace", arguments=[])
    )
    assert counts["errors"] == 2  # the missing kind and the unknown knd, nothing else
    assert counts["artifacts"] >= 3
    assert "2 error(s)" in session.client.messages[-1].message
    await session.pushed(
        session.uri("workstreams/typo.yaml"), lambda items: codes(items) == ["UET202", "UET203"]
    )
