"""Go to definition, find references and rename of ids across files."""

from __future__ import annotations

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from .conftest import Session, codes, range_text
from .test_editing import apply, at, edits_of

WORKSTREAM = "workstreams/build.yaml"


def doc(uri: str) -> types.TextDocumentIdentifier:
    return types.TextDocumentIdentifier(uri=uri)


@pytest.mark.asyncio(loop_scope="session")
async def test_definition_of_a_dependency_and_a_phase(served: Session) -> None:
    text = (served.root / WORKSTREAM).read_text()
    uri = served.open(WORKSTREAM, text)
    found = await served.client.text_document_definition_async(
        types.DefinitionParams(text_document=doc(uri), position=at(text, "[lint]", 2))
    )
    assert isinstance(found, list)
    (location,) = found
    assert location.uri == uri and range_text(location) == "9:13-9:17"
    found = await served.client.text_document_definition_async(
        types.DefinitionParams(text_document=doc(uri), position=at(text, "PH-BUILD", 3))
    )
    assert isinstance(found, list)
    (location,) = found
    assert location.uri == served.uri("phases/build.yaml") and range_text(location) == "0:10-0:18"


@pytest.mark.asyncio(loop_scope="session")
async def test_references_of_an_app_span_files(served: Session) -> None:
    router = (served.root / "router_config.json").read_text()
    uri = served.open("router_config.json", router)
    found = await served.client.text_document_references_async(
        types.ReferenceParams(
            text_document=doc(uri),
            position=at(router, '"pytest": {', 2),
            context=types.ReferenceContext(include_declaration=True),
        )
    )
    assert found is not None
    places = sorted((location.uri.rsplit("/", 1)[-1], range_text(location)) for location in found)
    assert places == [
        ("build.yaml", "17:10-17:16"),
        ("router_config.json", "16:72-16:80"),
        ("router_config.json", "8:4-8:12"),
    ]


@pytest.mark.asyncio(loop_scope="session")
async def test_rename_changes_every_reference_in_one_edit(served: Session) -> None:
    text = (served.root / WORKSTREAM).read_text()
    uri = served.open(WORKSTREAM, text)
    prepared = await served.client.text_document_prepare_rename_async(
        types.PrepareRenameParams(text_document=doc(uri), position=at(text, "PH-BUILD", 1))
    )
    assert isinstance(prepared, types.PrepareRenamePlaceholder)
    assert prepared.placeholder == "PH-BUILD"
    edit = await served.client.text_document_rename_async(
        types.RenameParams(
            text_document=doc(uri), position=at(text, "PH-BUILD", 1), new_name="PH-COMPILE"
        )
    )
    assert edit is not None
    assert (edit.document_changes is not None) == served.pull  # versioned edits for VS Code
    changes = edits_of(edit)
    assert set(changes) == {uri, served.uri("phases/build.yaml")}
    for changed_uri, edits in changes.items():
        path = served.root / changed_uri.rsplit("/ws/", 1)[1]
        renamed = apply(path.read_text(), edits)
        assert "PH-COMPILE" in renamed and "PH-BUILD" not in renamed
    # Task ids: the definition and every depends_on entry.
    edit = await served.client.text_document_rename_async(
        types.RenameParams(
            text_document=doc(uri), position=at(text, "task_id: lint", 10), new_name="check"
        )
    )
    assert edit is not None
    (edits,) = edits_of(edit).values()
    renamed = apply(text, edits)
    assert "task_id: check" in renamed and "depends_on: [check]" in renamed
    # An invalid id is refused with an error response, not an internal-error message.
    with pytest.raises(JsonRpcException, match="not a valid id"):
        await served.client.text_document_rename_async(
            types.RenameParams(
                text_document=doc(uri), position=at(text, "task_id: lint", 10), new_name="a b"
            )
        )
    assert served.client.messages == []


async def test_rename_to_an_existing_id_is_refused_with_the_reason(session: Session) -> None:
    """Renaming onto an id that exists would merge two definitions: an error response
    (as rust-analyzer answers), and nothing is applied."""
    (session.root / "phases/test.yaml").write_text("phase_id: PH-TEST\nname: Test\n")
    await session.start()
    text = (session.root / WORKSTREAM).read_text()
    uri = session.open(WORKSTREAM, text)
    for position, new_name, reason in (
        (at(text, "task_id: lint", 10), "test", "task id 'test' already exists"),
        (at(text, "PH-BUILD", 1), "PH-TEST", "phase id 'PH-TEST' already exists"),
        (at(text, "tool: ruff", 7), "pytest", "app id 'pytest' already exists"),
        (at(text, "task_id: lint", 10), "-lint", "is not a valid id for this task"),
    ):
        with pytest.raises(JsonRpcException, match=reason):
            await session.client.text_document_rename_async(
                types.RenameParams(text_document=doc(uri), position=position, new_name=new_name)
            )
    assert session.applied_edits == [] and session.client.messages == []


@pytest.mark.asyncio(loop_scope="session")
async def test_prepare_rename_refuses_an_id_with_nothing_to_rename(served: Session) -> None:
    text = (served.root / WORKSTREAM).read_text().replace("PH-BUILD", "PH-NOWHERE")
    uri = served.open(WORKSTREAM, text)
    with pytest.raises(JsonRpcException, match="'PH-NOWHERE' is not defined in this workspace"):
        await served.client.text_document_prepare_rename_async(
            types.PrepareRenameParams(text_document=doc(uri), position=at(text, "PH-NOWHERE", 1))
        )


async def test_tasks_resolve_within_their_own_file_when_workstream_ids_clash(
    session: Session,
) -> None:
    """A copy of the workstream keeps its workstream_id (UET301): definition, references
    and rename of a task stay inside the file the cursor is in."""
    text = (session.root / WORKSTREAM).read_text()
    (session.root / "workstreams/copy.yaml").write_text(text)
    await session.start()
    uri = session.open(WORKSTREAM, text)
    assert "UET301" in codes(await session.diagnostics(uri))
    found = await session.client.text_document_definition_async(
        types.DefinitionParams(text_document=doc(uri), position=at(text, "[lint]", 2))
    )
    assert isinstance(found, list)
    assert [(location.uri, range_text(location)) for location in found] == [(uri, "9:13-9:17")]
    used = await session.client.text_document_references_async(
        types.ReferenceParams(
            text_document=doc(uri),
            position=at(text, "task_id: lint", 10),
            context=types.ReferenceContext(include_declaration=True),
        )
    )
    assert used is not None and {location.uri for location in used} == {uri}
    edit = await session.client.text_document_rename_async(
        types.RenameParams(
            text_document=doc(uri), position=at(text, "task_id: lint", 10), new_name="check"
        )
    )
    assert edit is not None
    assert set(edits_of(edit)) == {uri}
