"""Settings from workspace/configuration or initializationOptions, reloaded live, and the
custom request and command that say which schema applies."""

from __future__ import annotations

import pytest
from lsprotocol import types

from .conftest import Session, codes, until

PLAN = "plans/release.yaml"


def settings(session: Session, value: dict[str, object]) -> dict[str, object] | None:
    """Configure the client; returns the initializationOptions to start with."""
    if session.pull:
        session.client.set_configuration(value, section="uet")
        return None
    return {"uet": value}


async def test_schema_associations_from_settings_and_live_reload(session: Session) -> None:
    plan = session.root / PLAN
    plan.parent.mkdir()
    plan.write_text("workstream_id: WS-PLAN\n")
    options = settings(session, {"schemas": {"workstream_spec": ["plans/*.yaml"]}})
    await session.start(options)
    await session.pushed(plan.as_uri(), lambda items: codes(items) == ["UET202"])
    # Opt the folder out again: its diagnostics disappear without a restart.
    change: dict[str, object] = {"schemas": {"none": ["plans/**"]}}
    if session.pull:
        session.client.set_configuration(change, section="uet")
        pushed = None
    else:
        pushed = {"uet": change}
    session.client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings=pushed)
    )
    await session.pushed(plan.as_uri(), lambda items: items == [])


async def test_invalid_settings_fall_back_to_defaults_with_a_message(session: Session) -> None:
    options = settings(session, {"maxFileSize": "huge", "debounce": 20})
    await session.start(options)
    await until(lambda: session.client.messages)
    (message,) = session.client.messages
    assert message.type == types.MessageType.Warning
    assert "uet.maxFileSize" in message.message
    uri = session.open("workstreams/build.yaml")
    assert await session.diagnostics(uri) == []


@pytest.mark.asyncio(loop_scope="session")
async def test_schema_for_document_request_and_command(served: Session) -> None:
    uri = served.open("workstreams/build.yaml")
    answer = await served.client.protocol.send_request_async(
        "uet/schemaForDocument", {"textDocument": {"uri": uri}}
    )
    answer = answer._asdict()  # pygls hands unknown results over as a namedtuple
    assert answer["schema"] == "workstream_spec"
    assert answer["source"] == "convention"
    assert "workstream_spec" in answer["reason"]
    result = await served.client.workspace_execute_command_async(
        types.ExecuteCommandParams(
            command="uet.showSchema", arguments=[served.uri("phases/build.yaml")]
        )
    )
    assert result["schema"] == "phase_spec"
    await until(lambda: served.client.messages)
    assert served.client.messages[-1].message.startswith("phase_spec: ")


async def test_a_settings_change_refreshes_the_diagnostics_of_open_documents(
    session: Session,
) -> None:
    plan = session.root / PLAN
    plan.parent.mkdir()
    plan.write_text("workstream_id: WS-PLAN\n")
    options = settings(session, {"schemas": {"workstream_spec": ["plans/*.yaml"]}})
    await session.start(options)
    uri = session.open(PLAN)
    assert codes(await session.diagnostics(uri)) == ["UET202"]
    refreshes = session.client.diagnostic_refresh_count
    change: dict[str, object] = {"schemas": {"none": ["plans/**"]}}
    if session.pull:
        session.client.set_configuration(change, section="uet")
    session.client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings=None if session.pull else {"uet": change})
    )
    if session.pull:  # the client does not pull by itself: the server must ask it to
        await until(lambda: session.client.diagnostic_refresh_count > refreshes)
        assert await session.diagnostics(uri) == []
    else:
        await session.pushed(uri, lambda items: items == [])
