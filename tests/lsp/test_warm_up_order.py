"""The modules features load lazily are imported after the first diagnostics of the
documents opened with the session, not beside their check (``features.startup``)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from .test_serve import TIMEOUT, RawClient, _finish, _serve, initialize

BROKEN = "workstream_id: WS-1\nerror_handling:\n  strategy: fail_fst\ntasks: []\n"


async def test_the_deferred_imports_wait_for_the_first_diagnostics(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    (workspace / "workstreams").mkdir(parents=True)
    uri = (workspace / "workstreams" / "w.yaml").as_uri()
    log = tmp_path / "server.log"
    process = await _serve(log)
    assert process.stdout is not None
    client = RawClient(process.stdout, process.stdin)
    params = {
        "processId": None,
        "rootUri": workspace.as_uri(),
        "capabilities": {"workspace": {"configuration": True}},
    }
    document = {"uri": uri, "languageId": "yaml", "version": 1, "text": BROKEN}
    async with asyncio.timeout(TIMEOUT):
        client.send(initialize(params))
        await client.response(1)
        client.send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
        client.send(
            {
                "jsonrpc": "2.0",
                "method": "textDocument/didOpen",
                "params": {"textDocument": document},
            }
        )
        while True:  # answering the server's requests (configuration) on the way
            _, message = await client.read()
            if "id" in message and "method" in message:
                client.send({"jsonrpc": "2.0", "id": message["id"], "result": None})
            elif message.get("method") == "textDocument/publishDiagnostics" and (
                message["params"]["uri"] == uri and message["params"]["diagnostics"]
            ):
                break
        while "deferred module(s) in" not in log.read_text("utf-8"):
            await asyncio.sleep(0.05)
        await _finish(client, process)
    text = log.read_text("utf-8")
    assert (
        text.index(f"validated {uri} v1")
        < text.index("importing ")
        < text.index("deferred module(s) in")
    )
