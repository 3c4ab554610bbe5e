"""Nested projects in the editor: the nearest folder with a project profile or ``.uet/``
owns its files, so ids are unique and resolve only inside it; a project that appears is
seen at the next index sync."""

from __future__ import annotations

import shutil
from pathlib import Path

from lsprotocol import types

from .conftest import Session, codes
from .test_editing import at, complete
from .test_workspace import PHASE, WORKSTREAM, disk_changed

SAMPLE_PROFILE = (
    Path(__file__).parents[2] / "examples" / "sample-workspace" / "PROJECT_PROFILE.yaml"
)
RELEASE = "nested/workstreams/release.yaml"


def nest(root: Path) -> None:
    """A nested package repeating the root's phase and workstream ids, and a workstream
    naming a phase only the root defines."""
    for relative in (PHASE, WORKSTREAM):
        target = root / "nested" / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(root / relative, target)
    (root / "phases" / "release.yaml").write_text(
        (root / PHASE).read_text().replace("PH-BUILD", "PH-RELEASE")
    )
    (root / RELEASE).write_text(
        (root / WORKSTREAM)
        .read_text()
        .replace("WS-BUILD", "WS-RELEASE")
        .replace("phase_id: PH-BUILD", "phase_id: PH-RELEASE")
    )


async def test_a_nested_project_is_a_separate_workspace(session: Session) -> None:
    nest(session.root)
    (session.root / "nested" / ".uet").mkdir()
    await session.start()
    await session.pushed(session.uri(RELEASE), lambda items: codes(items) == ["UET304"])
    unknown = session.last_published(session.uri(RELEASE)).diagnostics[0]  # type: ignore[union-attr]
    assert "(known: PH-BUILD)" in unknown.message  # the root's PH-RELEASE is not its own
    for relative in (PHASE, f"nested/{PHASE}", WORKSTREAM, f"nested/{WORKSTREAM}"):
        uri = session.open(relative)
        assert await session.diagnostics(uri) == [], relative
    # Go to definition stays inside the workspace of the file asked from.
    nested_workstream = session.uri(f"nested/{WORKSTREAM}")
    found = await session.client.text_document_definition_async(
        types.DefinitionParams(
            text_document=types.TextDocumentIdentifier(uri=nested_workstream),
            position=types.Position(line=3, character=12),  # phase_id: PH-BUILD
        )
    )
    targets = found if isinstance(found, list) else [found]
    assert [getattr(item, "uri", getattr(item, "target_uri", None)) for item in targets] == [
        session.uri(f"nested/{PHASE}")
    ]
    # Completion offers the phases of the file's own workspace only.
    text = (session.root / RELEASE).read_text()
    items = await complete(session, session.open(RELEASE, text), at(text, "PH-RELEASE"))
    assert "PH-BUILD" in items and "PH-RELEASE" not in items
    text = (session.root / WORKSTREAM).read_text()
    items = await complete(session, session.open(WORKSTREAM, text), at(text, "PH-BUILD"))
    assert {"PH-BUILD", "PH-RELEASE"} <= set(items)


async def test_a_project_bootstrapped_while_the_editor_is_open_splits_the_workspace(
    session: Session,
) -> None:
    nest(session.root)
    await session.start()
    nested_phase = session.uri(f"nested/{PHASE}")
    await session.pushed(nested_phase, lambda items: codes(items) == ["UET301"])
    shutil.copyfile(SAMPLE_PROFILE, session.root / "nested" / "PROJECT_PROFILE.yaml")
    disk_changed(session, "nested/PROJECT_PROFILE.yaml", types.FileChangeType.Created)
    await session.pushed(nested_phase, lambda items: items == [])
    await session.pushed(session.uri(RELEASE), lambda items: codes(items) == ["UET304"])
