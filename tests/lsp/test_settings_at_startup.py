"""Documents opened before the client answers ``workspace/configuration``: VS Code opens
its editors right after ``initialized``, while the server still waits for the settings, so
their first check uses the defaults; once the settings arrive they must be checked again."""

from __future__ import annotations

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from .conftest import Session, codes, profile_capabilities, until

PLAN = "plans/release.yaml"
SETTINGS = {"schemas": {"workstream_spec": ["plans/*.yaml"]}}


def answer_after_first_check(
    session: Session, uri: str, *, pull: bool
) -> list[list[types.Diagnostic]]:
    """Make the client answer ``workspace/configuration`` only once ``uri`` is open and its
    diagnostics under the default settings have reached the client (pushed, or pulled);
    returns the list those first diagnostics go to."""
    first: list[list[types.Diagnostic]] = []
    features = session.client.protocol.fm.features
    features.pop(types.WORKSPACE_CONFIGURATION, None)

    @session.client.feature(types.WORKSPACE_CONFIGURATION)
    async def configuration(ls: LanguageClient, params: types.ConfigurationParams) -> list[object]:
        await until(lambda: uri in session.opened)
        if pull:
            first.append(await session.diagnostics(uri))
        else:
            await until(lambda: (p := session.last_published(uri)) is not None and p.version == 1)
            published = session.last_published(uri)
            assert published is not None
            first.append(published.diagnostics)
        return [SETTINGS for _ in params.items]

    return first


async def initialize(session: Session, *, pull: bool) -> None:
    """Initialize as VS Code does (with or without pull diagnostics), without waiting."""
    capabilities = profile_capabilities("vscode")
    if not pull:
        assert capabilities.text_document is not None
        capabilities.text_document.diagnostic = None
    await session.client.initialize_session(
        types.InitializeParams(
            capabilities=capabilities,
            root_uri=session.root.as_uri(),
            workspace_folders=[types.WorkspaceFolder(uri=session.root.as_uri(), name="ws")],
        )
    )
    session.started = True


@pytest.mark.parametrize("lsp", ["vscode"], indirect=True)
@pytest.mark.parametrize("pull", [True, False], ids=["pull", "push"])
async def test_a_document_opened_before_the_settings_arrive_follows_them(
    session: Session, pull: bool
) -> None:
    plan = session.root / PLAN
    plan.parent.mkdir()
    plan.write_text("workstream_id: WS-PLAN\n")
    uri = plan.as_uri()
    first = answer_after_first_check(session, uri, pull=pull)
    await initialize(session, pull=pull)
    refreshes = session.client.diagnostic_refresh_count
    session.open(PLAN)  # right after initialized, before the settings are answered
    if pull:  # the client pulls again only when the server asks it to
        await until(lambda: session.client.diagnostic_refresh_count > refreshes)
        assert codes(await session.diagnostics(uri)) == ["UET202"]
    else:
        await session.pushed(uri, lambda items: codes(items) == ["UET202"])
    assert first == [[]]  # checked with the defaults first: no schema for plans/
    await session.indexed(1)
