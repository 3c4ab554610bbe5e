"""``uet serve`` over stdio and TCP, driven by a plain JSON-RPC client (no pygls on the
client side): ``initialize`` is answered once, by pygls, with the server's capabilities.

The helpers here (``RawClient``, ``_serve``, ``_finish``) serve the other end-to-end tests
of the server process.
"""

from __future__ import annotations

import asyncio
import json
import socket
import sys
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import converters

from .conftest import profile_capabilities

TIMEOUT = 30.0
COMMANDS = {"uet.runWorkstream", "uet.cancelRun", "uet.bootstrap", "uet.validateWorkspace"}


def frame(message: dict[str, Any]) -> bytes:
    """A message as a client writes it."""
    body = json.dumps(message).encode("utf-8")
    return b"Content-Length: %d\r\n\r\n%s" % (len(body), body)


def initialize(params: dict[str, Any], request_id: int | str = 1) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "method": "initialize", "params": params}


def profile_params(profile: str, root: Path) -> dict[str, Any]:
    """The params the pytest-lsp sessions of the other tests send."""
    caps = converters.get_converter().unstructure(profile_capabilities(profile))
    return {
        "processId": 4242,
        "capabilities": caps,
        "rootUri": root.as_uri(),
        "workspaceFolders": [{"uri": root.as_uri(), "name": "ws"}],
        "initializationOptions": {"uet": {"debounce": 50}},
    }


def check_initialize_result(message: dict[str, Any]) -> None:
    """The answer names the server and lists its commands (computed by pygls from the
    registered features)."""
    result = message["result"]
    assert result["serverInfo"]["name"] == "uet-lsp"
    assert set(result["capabilities"]["executeCommandProvider"]["commands"]) >= COMMANDS


class RawClient:
    """A plain JSON-RPC client over a byte stream pair (no pygls)."""

    def __init__(self, reader: asyncio.StreamReader, writer: Any) -> None:
        self.reader = reader
        self.writer = writer
        self.received: list[tuple[bytes, dict[str, Any]]] = []

    def send(self, message: dict[str, Any]) -> None:
        self.writer.write(frame(message))

    async def read(self) -> tuple[bytes, dict[str, Any]]:
        """The next message: its raw bytes (headers and body) and its JSON."""
        raw = b""
        length = 0
        while True:
            line = await self.reader.readline()
            assert line, "the server closed the stream"
            raw += line
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
            if line == b"\r\n":
                break
        body = await self.reader.readexactly(length)
        message = json.loads(body)
        self.received.append((raw + body, message))
        return raw + body, message

    async def response(self, request_id: int | str) -> tuple[bytes, dict[str, Any]]:
        """Read until the response to ``request_id`` (answering server requests with null)."""
        while True:
            raw, message = await self.read()
            if "method" in message and "id" in message:
                self.send({"jsonrpc": "2.0", "id": message["id"], "result": None})
            elif "method" not in message and message.get("id") == request_id:
                return raw, message

    def responses_to(self, request_id: int | str) -> int:
        return sum(
            1
            for _, message in self.received
            if "method" not in message and message.get("id") == request_id
        )


async def _serve(log: Path, *extra: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        *[sys.executable, "-m", "uet", "serve", "--log-level", "debug", "--log-file", str(log)],
        *extra,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )


async def _finish(client: RawClient, process: asyncio.subprocess.Process) -> None:
    client.send({"jsonrpc": "2.0", "id": "bye", "method": "shutdown"})
    await client.response("bye")
    client.send({"jsonrpc": "2.0", "method": "exit"})
    assert await asyncio.wait_for(process.wait(), TIMEOUT) == 0


@pytest.mark.parametrize("first", [None, "$/setTrace"])
async def test_serve_answers_initialize_once(first: str | None, tmp_path: Path) -> None:
    params = profile_params("vscode", tmp_path)
    process = await _serve(tmp_path / "server.log")
    assert process.stdout is not None
    client = RawClient(process.stdout, process.stdin)
    async with asyncio.timeout(TIMEOUT):
        if first is not None:
            client.send({"jsonrpc": "2.0", "method": first, "params": {"value": "off"}})
        client.send(initialize(params))
        _, answer = await client.response(1)
        check_initialize_result(answer)
        client.send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
        await _finish(client, process)
    assert client.responses_to(1) == 1


async def test_serve_answers_a_request_before_initialize_then_initialize(
    tmp_path: Path,
) -> None:
    params: dict[str, Any] = {"processId": None, "capabilities": {}}
    process = await _serve(tmp_path / "server.log")
    assert process.stdout is not None
    client = RawClient(process.stdout, process.stdin)
    async with asyncio.timeout(TIMEOUT):
        client.send({"jsonrpc": "2.0", "id": 0, "method": "uet/unknown", "params": {}})
        client.send(initialize(params))
        _, unknown = await client.response(0)
        _, answer = await client.response(1)
        assert "error" in unknown
        check_initialize_result(answer)
        await _finish(client, process)
    assert client.responses_to(1) == 1


async def test_serve_over_tcp(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    params: dict[str, Any] = {"processId": None, "capabilities": {}}
    process = await _serve(tmp_path / "server.log", "--tcp", f"127.0.0.1:{port}")
    try:
        async with asyncio.timeout(TIMEOUT):
            while True:  # the server listens once its imports are done
                try:
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                    break
                except OSError:
                    await asyncio.sleep(0.05)
            client = RawClient(reader, writer)
            client.send(initialize(params))
            _, answer = await client.response(1)
            check_initialize_result(answer)
            client.send({"jsonrpc": "2.0", "id": "bye", "method": "shutdown"})
            await client.response("bye")
            writer.close()
            await writer.wait_closed()
    finally:
        if process.returncode is None:
            process.terminate()
        await process.wait()
