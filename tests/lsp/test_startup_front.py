"""The early ``initialize`` answer (``uet.lsp.front``): byte-for-byte pygls' own answer for
every client profile, the stream handed over intact, and ``uet serve`` over stdio and TCP.

The in-process comparisons run pygls' real ``initialize`` on a fresh ``create_server()``
(``uet.lsp.front_sync.pygls_initialize_response``); the end-to-end tests drive the real
server process with a plain JSON-RPC client.
"""

from __future__ import annotations

import asyncio
import io
import json
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import converters

from uet.lsp import front, front_sync

from .conftest import profile_capabilities

SNAPSHOTS = sorted((Path(pytest_lsp.__file__).parent / "clients").glob("*.json"))
TIMEOUT = 30.0


def frame(message: dict[str, Any]) -> bytes:
    """A message as a client writes it."""
    body = json.dumps(message).encode("utf-8")
    return b"Content-Length: %d\r\n\r\n%s" % (len(body), body)


def initialize(params: dict[str, Any], request_id: int | str = 1) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "method": "initialize", "params": params}


def run_front(stream: bytes) -> tuple[bytes, front.EarlyAnswer | None, bytes]:
    """What the front writes for ``stream``, its answer, and everything pygls then reads."""
    stdin, stdout = io.BytesIO(stream), io.BytesIO()
    reader, answer = front.answer_initialize(stdin, stdout)
    replayed = b""
    while line := reader.readline():
        replayed += line
    return stdout.getvalue(), answer, replayed


def snapshot_params(path: Path) -> dict[str, Any]:
    params = dict(json.loads(path.read_text("utf-8")))
    params.setdefault("processId", None)
    return params


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


SYNTHETIC: dict[str, dict[str, Any]] = {
    "empty": {},
    "utf-32 first": {"general": {"positionEncodings": ["utf-32", "utf-8", "utf-16"]}},
    "unknown encodings": {"general": {"positionEncodings": ["utf-7"]}},
    "no encodings": {"general": {"positionEncodings": []}},
    "general null": {"general": None},
    "will save": {"textDocument": {"synchronization": {"willSave": True}}},
    "will save false": {
        "textDocument": {"synchronization": {"willSave": False, "willSaveWaitUntil": True}}
    },
    "prepare rename": {"textDocument": {"rename": {"prepareSupport": True}}},
    "no prepare rename": {"textDocument": {"rename": {"prepareSupport": False}}},
    "notebooks": {"notebookDocument": {"synchronization": {"dynamicRegistration": True}}},
    "file operations": {"workspace": {"fileOperations": {"didCreate": True, "willRename": True}}},
    "reference": front_sync.REFERENCE_CLIENT,
}


@pytest.mark.parametrize("path", SNAPSHOTS, ids=lambda path: path.stem)
def test_early_answer_is_pygls_answer_for_captured_clients(path: Path) -> None:
    params = snapshot_params(path)
    written, answer, _ = run_front(frame(initialize(params)))
    assert answer is not None
    assert written == front_sync.pygls_initialize_response(params)


@pytest.mark.parametrize("profile", ["vscode", "neovim"])
@pytest.mark.parametrize("request_id", [1, "init-1"])
def test_early_answer_is_pygls_answer_for_test_profiles(
    profile: str, request_id: int | str, tmp_path: Path
) -> None:
    params = profile_params(profile, tmp_path)
    written, answer, _ = run_front(frame(initialize(params, request_id)))
    assert answer is not None and answer.request_id == request_id
    assert written == front_sync.pygls_initialize_response(params, request_id)


@pytest.mark.parametrize("name", SYNTHETIC)
def test_early_answer_is_pygls_answer_for_capability_variants(name: str) -> None:
    params = {"processId": None, "capabilities": SYNTHETIC[name]}
    written, answer, _ = run_front(frame(initialize(params)))
    assert answer is not None
    assert written == front_sync.pygls_initialize_response(params)


def test_front_table_is_current() -> None:
    assert front_sync.main(["--check"]) == 0, "run: python -m uet.lsp.front_sync"


def test_notifications_before_initialize_are_read_past_and_replayed() -> None:
    stream = (
        frame({"jsonrpc": "2.0", "method": "$/setTrace", "params": {"value": "off"}})
        + frame(initialize({"capabilities": {}}))
        + frame({"jsonrpc": "2.0", "method": "initialized", "params": {}})
    )
    written, answer, replayed = run_front(stream)
    assert answer is not None and written.endswith(answer.body)
    assert replayed == stream  # pygls sees every message, in order


@pytest.mark.parametrize(
    "first",
    [
        {"jsonrpc": "2.0", "id": 7, "method": "uet/unknown", "params": {}},
        {"jsonrpc": "2.0", "method": "exit"},
    ],
    ids=["request", "exit"],
)
def test_a_request_or_exit_first_leaves_everything_to_pygls(first: dict[str, Any]) -> None:
    stream = frame(first) + frame(initialize({"capabilities": {}}))
    written, answer, replayed = run_front(stream)
    assert (written, answer) == (b"", None)
    assert replayed == stream


@pytest.mark.parametrize(
    "params",
    [
        None,
        {"processId": None},
        {"capabilities": []},
        {"capabilities": {}, "processId": "12"},
        {"capabilities": {}, "workspaceFolders": [{"uri": 3}]},
        {"capabilities": {"general": {"positionEncodings": "utf-8"}}},
        {"capabilities": {"textDocument": {"rename": {"prepareSupport": "yes"}}}},
        {"capabilities": {"textDocument": []}},
    ],
)
def test_params_the_front_does_not_model_are_left_to_pygls(params: Any) -> None:
    stream = frame(initialize(params))
    written, answer, replayed = run_front(stream)
    assert (written, answer) == (b"", None)
    assert replayed == stream


@pytest.mark.parametrize(
    "stream",
    [
        b"",
        b"Content-Length: 40\r\n\r\n{",
        b"Content-Length: 2\r\n\r\n[]",
        b"Content-Length: 3\r\n\r\n{x}",
    ],
    ids=["eof", "truncated", "not-an-object", "not-json"],
)
def test_unreadable_input_is_replayed_unanswered(stream: bytes) -> None:
    written, answer, replayed = run_front(stream)
    assert (written, answer) == (b"", None)
    assert replayed == stream


def test_replay_reader_reads_across_the_replayed_bytes() -> None:
    reader = front.ReplayReader(b"ab\ncd", io.BytesIO(b"ef\nghij"))
    assert reader.readline() == b"ab\n"
    assert reader.read(4) == b"cdef"
    assert reader.readline() == b"\n"
    assert reader.read(10) == b"ghij"
    assert reader.read(1) == b""


def test_the_front_imports_no_protocol_or_domain_library() -> None:
    code = (
        "import sys, uet.cli.commands_server, uet.lsp.front\n"
        "heavy = {'pygls', 'lsprotocol', 'attrs', 'attr', 'cattrs', 'pydantic', 'yaml',"
        " 'jsonschema', 'asyncio', 'uet.artifacts', 'uet.settings'}\n"
        "print(sorted(name for name in sys.modules if name in heavy))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=TIMEOUT
    )
    assert done.stdout.strip() == "[]"


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


async def pygls_answer(params: dict[str, Any]) -> bytes:
    """pygls' answer, computed on its own event loop (in a worker thread)."""
    return await asyncio.to_thread(front_sync.pygls_initialize_response, params)


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
async def test_serve_answers_initialize_once_with_pygls_bytes(
    first: str | None, tmp_path: Path
) -> None:
    params = profile_params("vscode", tmp_path)
    expected = await pygls_answer(params)
    log = tmp_path / "server.log"
    process = await _serve(log)
    assert process.stdout is not None
    client = RawClient(process.stdout, process.stdin)
    async with asyncio.timeout(TIMEOUT):
        if first is not None:
            client.send({"jsonrpc": "2.0", "method": first, "params": {"value": "off"}})
        client.send(initialize(params))
        raw, _ = await client.response(1)
        assert raw == expected
        client.send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
        await _finish(client, process)
    assert client.responses_to(1) == 1
    text = log.read_text("utf-8")
    assert "answered initialize before loading the server" in text
    assert "pygls' response matches the early answer" in text


async def test_serve_leaves_initialize_to_pygls_after_a_request(tmp_path: Path) -> None:
    params: dict[str, Any] = {"processId": None, "capabilities": {}}
    log = tmp_path / "server.log"
    process = await _serve(log)
    assert process.stdout is not None
    client = RawClient(process.stdout, process.stdin)
    async with asyncio.timeout(TIMEOUT):
        client.send({"jsonrpc": "2.0", "id": 0, "method": "uet/unknown", "params": {}})
        client.send(initialize(params))
        _, unknown = await client.response(0)
        raw, _ = await client.response(1)
        assert "error" in unknown
        assert raw == await pygls_answer(params)
        await _finish(client, process)
    assert client.responses_to(1) == 1
    assert "answered initialize before loading" not in log.read_text("utf-8")


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
            raw, _ = await client.response(1)
            assert raw == await pygls_answer(params)
            client.send({"jsonrpc": "2.0", "id": "bye", "method": "shutdown"})
            await client.response("bye")
            writer.close()
            await writer.wait_closed()
    finally:
        if process.returncode is None:
            process.terminate()
        await process.wait()
