"""A profile extension's catastrophic regex (``^(a+)+$`` against forty ``a`` and a ``!``)
does not freeze the server: while a bootstrap analyses the workspace with it, requests on
other documents are answered, and the bootstrap itself ends."""

from __future__ import annotations

import asyncio
import json

from lsprotocol import types

from tests.bootstrap import support

from .conftest import Session

WORKSTREAM = "workstreams/build.yaml"
GUARD = 60.0  # a failure guard only: re needs hours on this input


async def test_requests_are_answered_while_a_hostile_regex_is_matched(session: Session) -> None:
    extension = {
        "profile_id": "hostile",
        "extends_profile": "generic",
        "detection": {
            "signals": [
                {
                    "id": "slow",
                    "description": "slow",
                    "weight": 1,
                    "content": {"glob": "*.txt", "regex": "^(a+)+$"},
                }
            ]
        },
    }
    support.write(
        session.root,
        {
            "profile_extensions/hostile.json": json.dumps(extension),
            **{f"notes/n{number}.txt": "a" * 40 + "!\n" for number in range(20)},
        },
    )
    await session.start()
    uri = session.open(WORKSTREAM)
    bootstrap = asyncio.ensure_future(
        session.client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="uet.bootstrap", arguments=["generic"])
        )
    )
    await asyncio.wait_for(  # answered (the value does not matter)
        session.client.text_document_hover_async(
            types.HoverParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                position=types.Position(line=0, character=2),
            )
        ),
        GUARD,
    )
    assert await asyncio.wait_for(session.diagnostics(uri), GUARD) == []
    result = await asyncio.wait_for(bootstrap, GUARD)
    assert (result["profileId"], result["applied"]) == ("generic", True)
