"""Protocol violations against the real ``uet serve`` over stdio, as raw bytes.

pytest-lsp cannot send malformed frames, invalid JSON or ill-typed params, so these tests
drive the server process through its stdin and stdout directly. Every case checks that the
server answers what the spec asks (-32700, -32600, -32601, -32602), shows the user nothing,
keeps serving (the next valid request is answered) and exits with the right status.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from lsprotocol import types

from uet.lsp.framing import MessageReader
from uet.lsp.server import create_server

TIMEOUT = 8.0  # a failure guard only: every wait here ends as soon as the server answers

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
SERVER_NOT_INITIALIZED = -32002


def frame(body: bytes) -> bytes:
    """A well-formed LSP frame around ``body``."""
    return b"Content-Length: %d\r\n\r\n%s" % (len(body), body)


def encode(message: Any) -> bytes:
    return json.dumps(message).encode("utf-8")


class RawServer:
    """``uet serve`` as a subprocess, spoken to in bytes; every message it sends is kept."""

    def __init__(self, process: asyncio.subprocess.Process, log: Path) -> None:
        self.process = process
        self.log = log
        self.received: list[dict[str, Any]] = []
        self.closed = False
        self.server_request_result: Any = None  # what the client answers server requests with
        self._next_id = 10_000  # clear of the fixed ids the tests send
        self._reader = asyncio.ensure_future(self._read_all())

    def send_bytes(self, data: bytes) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(data)

    def send(self, message: Any) -> None:
        self.send_bytes(frame(encode(message)))

    def request(self, method: str, params: Any = None, **extra: Any) -> int:
        """Send a request; returns its id."""
        self._next_id += 1
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": self._next_id, "method": method}
        if params is not None:
            message["params"] = params
        message.update(extra)
        self.send(message)
        return self._next_id

    def notify(self, method: str, params: Any = None) -> None:
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = params
        self.send(message)

    async def wait_for(self, predicate: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        """The first received message that satisfies ``predicate`` (waits for it)."""
        async with asyncio.timeout(TIMEOUT):
            while True:
                for message in self.received:
                    if predicate(message):
                        return message
                assert not self.closed, f"the server closed its output: {self.log_text()}"
                await asyncio.sleep(0.01)

    async def answer(self, request_id: int | str | None, seen: int = 0) -> dict[str, Any]:
        """The response to ``request_id``; with ``seen``, the next one after the ``seen``
        already received for that id (id null: one per message the server could not read)."""
        async with asyncio.timeout(TIMEOUT):
            while len(self.answers_to(request_id)) <= seen:
                assert not self.closed, f"the server closed its output: {self.log_text()}"
                await asyncio.sleep(0.01)
        return self.answers_to(request_id)[seen]

    def answers_to(self, request_id: int | str | None) -> list[dict[str, Any]]:
        return [
            message
            for message in self.received
            if "method" not in message and message.get("id") == request_id
        ]

    async def error(self, request_id: int | str | None, seen: int = 0) -> dict[str, Any]:
        """The error object of that response (it must be an error)."""
        message = await self.answer(request_id, seen)
        assert "error" in message, message
        assert "result" not in message, message
        error = message["error"]
        assert isinstance(error, dict)
        return error

    async def alive(self) -> None:
        """The server still answers a valid request."""
        request_id = self.request(
            "textDocument/foldingRange", {"textDocument": {"uri": "file:///nowhere/x.yaml"}}
        )
        assert "result" in await self.answer(request_id)

    async def exit_status(self, shutdown: bool = True) -> int:
        """Shut down (optionally), send ``exit``, read everything and return the status."""
        if shutdown:
            assert "result" in await self.answer(self.request("shutdown"))
        self.notify("exit")
        async with asyncio.timeout(TIMEOUT):
            status = await self.process.wait()
            await self._reader
        return status

    def shown(self) -> list[dict[str, Any]]:
        """Messages shown to the user (``window/showMessage``)."""
        return [m for m in self.received if m.get("method") == types.WINDOW_SHOW_MESSAGE]

    def log_text(self) -> str:
        return self.log.read_text("utf-8") if self.log.exists() else ""

    async def _read_all(self) -> None:
        stdout = self.process.stdout
        assert stdout is not None
        try:
            while True:
                length = None
                while True:
                    line = await stdout.readline()
                    if not line:
                        return
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                    if line == b"\r\n":
                        break
                assert length is not None, "the server sent a frame without Content-Length"
                message = json.loads(await stdout.readexactly(length))
                self.received.append(message)
                if "method" in message and "id" in message:  # a server request: accept it
                    self.send(
                        {
                            "jsonrpc": "2.0",
                            "id": message["id"],
                            "result": self.server_request_result,
                        }
                    )
        finally:
            self.closed = True


@contextlib.asynccontextmanager
async def serve(tmp_path: Path, initialize: bool = True) -> AsyncIterator[RawServer]:
    """A running ``uet serve``, initialized on an empty workspace unless told otherwise."""
    root = tmp_path / "ws"
    root.mkdir(exist_ok=True)
    log = tmp_path / "server.log"
    process = await asyncio.create_subprocess_exec(
        *[sys.executable, "-m", "uet", "serve", "--log-level", "debug", "--log-file", str(log)],
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    server = RawServer(process, log)
    try:
        if initialize:
            request_id = server.request(
                "initialize",
                {
                    "processId": None,
                    "rootUri": root.as_uri(),
                    "capabilities": {},
                    "workspaceFolders": [{"uri": root.as_uri(), "name": "ws"}],
                },
            )
            assert "result" in await server.answer(request_id)
            server.notify("initialized", {})
        yield server
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


def request_methods() -> list[str]:
    """Every request method the server handles (built-in or registered), but ``shutdown``."""
    fm = create_server().protocol.fm
    methods = set(fm.features) | set(fm.builtin_features)
    return sorted(
        method
        for method in methods
        if method != types.SHUTDOWN
        and (method not in types.METHOD_TO_TYPES or types.METHOD_TO_TYPES[method][1] is not None)
    )


def assert_quiet_log(server: RawServer, since: int = 0) -> None:
    """Client mistakes are warnings in one line: no ERROR record, no traceback (in the log
    from character ``since`` on)."""
    text = server.log_text()[since:]
    assert " ERROR " not in text, text
    assert "Traceback" not in text, text


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def module_server(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[RawServer]:
    """One server for the tests that leave it serving: after all of them it still shuts
    down and exits with 0, having shown the user nothing and logged no error."""
    async with serve(tmp_path_factory.mktemp("served")) as served:
        yield served
        assert await served.exit_status() == 0
    assert served.shown() == []
    assert_quiet_log(served)


@pytest_asyncio.fixture(loop_scope="module")
async def server(module_server: RawServer) -> AsyncIterator[RawServer]:
    """The module's server for one test (run it with ``loop_scope="module"``): afterwards
    it still answers, and it showed nothing and logged no error meanwhile."""
    shown, log = len(module_server.shown()), len(module_server.log_text())
    yield module_server
    await module_server.alive()
    assert module_server.shown()[shown:] == []
    assert_quiet_log(module_server, since=log)


# -- bad params ------------------------------------------------------------------------------


@pytest.mark.asyncio(loop_scope="module")
async def test_every_request_method_answers_string_params_with_invalid_params(
    server: RawServer,
) -> None:
    methods = request_methods()
    assert types.TEXT_DOCUMENT_HOVER in methods
    assert "uet/schemaForDocument" in methods
    assert types.WORKSPACE_EXECUTE_COMMAND in methods
    ids = {method: server.request(method, "not an object") for method in methods}
    for method, request_id in ids.items():
        error = await server.error(request_id)
        assert error["code"] == INVALID_PARAMS, (method, error)
        assert method in error["message"], error


HOVER_PARAMS = {
    "textDocument": {"uri": "file:///nowhere/x.yaml"},
    "position": {"line": 0, "character": 0},
}

BAD_POSITION_PARAMS: dict[str, tuple[dict[str, Any], str]] = {
    "document is a number": ({**HOVER_PARAMS, "textDocument": 5}, "textDocument"),
    "no position": ({"textDocument": HOVER_PARAMS["textDocument"]}, "position"),
    "negative line": ({**HOVER_PARAMS, "position": {"line": -1, "character": 0}}, "position"),
    "line a word": ({**HOVER_PARAMS, "position": {"line": "one", "character": 0}}, "position"),
    "empty": ({}, "textDocument"),
}


POSITION_METHODS = [
    types.TEXT_DOCUMENT_HOVER,
    types.TEXT_DOCUMENT_COMPLETION,
    types.TEXT_DOCUMENT_DEFINITION,
    types.TEXT_DOCUMENT_PREPARE_RENAME,
]


@pytest.mark.asyncio(loop_scope="module")
async def test_position_requests_with_bad_params_get_invalid_params(
    server: RawServer, subtests: pytest.Subtests
) -> None:
    for method in POSITION_METHODS:
        with subtests.test(method):
            ids = {
                case: server.request(method, params)
                for case, (params, _) in BAD_POSITION_PARAMS.items()
            }
            for case, request_id in ids.items():
                error = await server.error(request_id)
                assert error["code"] == INVALID_PARAMS, (case, error)
                assert BAD_POSITION_PARAMS[case][1] in error["message"], (case, error)
            await server.alive()
            first = min(ids.values())
            assert (
                f"WARNING uet.lsp: answered request {first} with error -32602:"
                f" Invalid params for {method}"
            ) in server.log_text()


@pytest.mark.asyncio(loop_scope="module")
async def test_bad_command_arguments_and_custom_request_are_warnings_in_one_line(
    server: RawServer,
) -> None:
    wrong_count = server.request(
        types.WORKSPACE_EXECUTE_COMMAND,
        {"command": "uet.showSchema", "arguments": ["file:///a.yaml", "extra"]},
    )
    unknown = server.request(types.WORKSPACE_EXECUTE_COMMAND, {"command": "uet.noSuchCommand"})
    custom = server.request("uet/schemaForDocument", {"textDocument": 5})
    for request_id in (wrong_count, unknown, custom):
        assert (await server.error(request_id))["code"] == INVALID_PARAMS


# -- notifications ---------------------------------------------------------------------------


@pytest.mark.asyncio(loop_scope="module")
async def test_bad_notifications_are_logged_never_shown(server: RawServer) -> None:
    uri = "file:///nowhere/open.yaml"
    seen = len(server.received)
    server.notify(types.TEXT_DOCUMENT_DID_OPEN, {})
    server.notify(types.TEXT_DOCUMENT_DID_OPEN, {"textDocument": 5})
    server.notify(types.TEXT_DOCUMENT_DID_CHANGE, "garbage")
    server.notify(types.TEXT_DOCUMENT_DID_CHANGE, {"textDocument": {"uri": uri}, "x": [1]})
    server.notify(
        types.TEXT_DOCUMENT_DID_CHANGE,
        {
            "textDocument": {"uri": uri, "version": 2},
            "contentChanges": [{"text": "never opened"}],
        },
    )
    server.notify(types.TEXT_DOCUMENT_DID_CLOSE, {"textDocument": {"uri": uri}})
    server.notify(types.TEXT_DOCUMENT_DID_SAVE, [1, 2])
    server.notify("uet/noSuchNotification", {"a": 1})
    server.notify(types.CANCEL_REQUEST, {"id": {"not": "an id"}})
    await server.alive()
    answered = server.received[seen:]
    assert [m for m in answered if "id" in m and "method" not in m and m["id"] is None] == []


@pytest.mark.asyncio(loop_scope="module")
async def test_unknown_method_gets_method_not_found(server: RawServer) -> None:
    request_id = server.request("uet/noSuchMethod", {})
    assert (await server.error(request_id))["code"] == METHOD_NOT_FOUND


async def test_a_request_before_initialize_is_refused(tmp_path: Path) -> None:
    async with serve(tmp_path, initialize=False) as server:
        hover = server.request(types.TEXT_DOCUMENT_HOVER, HOVER_PARAMS)
        assert (await server.error(hover))["code"] == SERVER_NOT_INITIALIZED
        server.notify(types.TEXT_DOCUMENT_DID_OPEN, {"textDocument": 5})
        root = (tmp_path / "ws").as_uri()
        initialize = server.request(
            "initialize", {"processId": None, "rootUri": root, "capabilities": {}}
        )
        assert "result" in await server.answer(initialize)
        await server.alive()
        assert await server.exit_status() == 0
    assert server.shown() == []
    assert_quiet_log(server)


async def test_a_malformed_answer_to_a_server_request_fails_that_request(tmp_path: Path) -> None:
    async with serve(tmp_path, initialize=False) as server:
        server.server_request_result = 5  # workspace/configuration wants a list
        root = (tmp_path / "ws").as_uri()
        capabilities = {"workspace": {"configuration": True}}
        params = {"processId": None, "rootUri": root, "capabilities": capabilities}
        assert "result" in await server.answer(server.request("initialize", params))
        server.notify("initialized", {})
        await server.wait_for(lambda message: message.get("method") == "workspace/configuration")
        async with asyncio.timeout(TIMEOUT):  # initialized went on: the workspace gets indexed
            while "indexed 0 file(s)" not in server.log_text():
                await asyncio.sleep(0.05)
        await server.alive()
        assert await server.exit_status() == 0
    assert server.shown() == []
    assert "workspace/configuration failed, using the defaults" in server.log_text()


# -- shutdown and exit -----------------------------------------------------------------------


async def test_a_request_after_shutdown_is_an_invalid_request(tmp_path: Path) -> None:
    async with serve(tmp_path) as server:
        assert "result" in await server.answer(server.request("shutdown"))
        hover = server.request(types.TEXT_DOCUMENT_HOVER, HOVER_PARAMS)
        again = server.request("shutdown")
        for request_id in (hover, again):
            assert (await server.error(request_id))["code"] == INVALID_REQUEST
        assert await server.exit_status(shutdown=False) == 0
    assert server.shown() == []


async def test_exit_without_shutdown_exits_1(tmp_path: Path) -> None:
    async with serve(tmp_path) as server:
        await server.alive()
        assert await server.exit_status(shutdown=False) == 1


async def test_exit_before_initialize_exits_1(tmp_path: Path) -> None:
    async with serve(tmp_path, initialize=False) as server:
        assert await server.exit_status(shutdown=False) == 1


async def test_end_of_input_without_shutdown_exits_1(tmp_path: Path) -> None:
    async with serve(tmp_path) as server:
        await server.alive()
        assert server.process.stdin is not None
        server.process.stdin.close()
        async with asyncio.timeout(TIMEOUT):
            assert await server.process.wait() == 1


# -- invalid JSON and invalid messages -------------------------------------------------------


INVALID_BODIES = {
    "not json": b"{this is not json",
    "truncated": b'{"jsonrpc": "2.0", "id": 7, "method": "shutdown"',
    "not utf-8": b'{"jsonrpc": "2.0", "method": "\xff\xfe"}',
    "empty": b"",
}


@pytest.mark.asyncio(loop_scope="module")
async def test_an_invalid_json_body_is_a_parse_error(
    server: RawServer, subtests: pytest.Subtests
) -> None:
    for case, body in INVALID_BODIES.items():
        with subtests.test(case):
            seen = len(server.answers_to(None))
            server.send_bytes(frame(body))
            error = await server.error(None, seen)
            assert error["code"] == PARSE_ERROR
            await server.alive()
            assert len(server.answers_to(None)) == seen + 1


INVALID_MESSAGES: dict[str, tuple[Any, int | str | None]] = {
    "an array": ([{"jsonrpc": "2.0", "id": 1, "method": "shutdown"}], None),
    "a number": (5, None),
    "a string": ("shutdown", None),
    "no jsonrpc": ({"id": 41, "method": "shutdown"}, 41),
    "jsonrpc 1.0": ({"jsonrpc": "1.0", "id": 42, "method": "shutdown"}, 42),
    "method not a string": ({"jsonrpc": "2.0", "id": 43, "method": 5}, 43),
    "id an object": ({"jsonrpc": "2.0", "id": {"a": 1}, "method": "shutdown"}, None),
    "id a boolean": ({"jsonrpc": "2.0", "id": True, "method": "shutdown"}, None),
    "nothing": ({"jsonrpc": "2.0"}, None),
}


@pytest.mark.asyncio(loop_scope="module")
async def test_an_invalid_message_is_an_invalid_request(
    server: RawServer, subtests: pytest.Subtests
) -> None:
    for case, (message, request_id) in INVALID_MESSAGES.items():
        with subtests.test(case):
            seen = len(server.answers_to(request_id))
            server.send(message)
            error = await server.error(request_id, seen)
            assert error["code"] == INVALID_REQUEST
            await server.alive()  # nothing of it ran: not the shutdown it may name


# -- framing ---------------------------------------------------------------------------------


HOVER = encode({"jsonrpc": "2.0", "id": 99, "method": "textDocument/hover", "params": HOVER_PARAMS})

BROKEN_FRAMES: dict[str, bytes] = {
    "non-numeric length": b"Content-Length: abc\r\n\r\n" + HOVER,
    "negative length": b"Content-Length: -5\r\n\r\n" + HOVER,
    "missing length": b"Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n" + HOVER,
    "short length": b"Content-Length: %d\r\n\r\n" % (len(HOVER) - 10) + HOVER,
    "long length": b"Content-Length: %d\r\n\r\n" % (len(HOVER) + 10) + HOVER,
    "huge length": b"Content-Length: 99999999999999999999\r\n\r\n" + HOVER,
    "no header at all": HOVER,
    "garbage line": b"hello there\r\n\r\n",
    "header without colon": b"Content-Length 12\r\n\r\n" + HOVER,
}


@pytest.mark.asyncio(loop_scope="module")
async def test_a_broken_frame_is_answered_and_the_next_message_served(
    server: RawServer, subtests: pytest.Subtests
) -> None:
    for case, data in BROKEN_FRAMES.items():
        with subtests.test(case):
            seen, seen_99 = len(server.answers_to(None)), len(server.answers_to(99))
            server.send_bytes(data)  # no newline after it: the next frame follows
            await server.alive()
            error = await server.error(None, seen)
            assert error["code"] == PARSE_ERROR
            await server.alive()
            assert len(server.answers_to(None)) == seen + 1
            assert len(server.answers_to(99)) == seen_99  # the broken frame's request never ran


@pytest.mark.asyncio(loop_scope="module")
async def test_broken_frames_between_valid_ones_in_one_write(server: RawServer) -> None:
    def hover(request_id: int) -> bytes:
        message = {"jsonrpc": "2.0", "id": request_id, "method": "textDocument/hover"}
        return frame(encode({**message, "params": HOVER_PARAMS}))

    stream = b"".join([hover(1001), *BROKEN_FRAMES.values(), hover(1002), b"\r\n", hover(1003)])
    seen = len(server.answers_to(None))
    server.send_bytes(stream)
    for request_id in (1001, 1002, 1003):
        assert "result" in await server.answer(request_id)
    await server.alive()
    errors = server.answers_to(None)[seen:]
    assert 1 <= len(errors) <= len(BROKEN_FRAMES)
    assert all(m["error"]["code"] == PARSE_ERROR for m in errors)


@pytest.mark.asyncio(loop_scope="module")
async def test_a_frame_split_across_writes_is_read_whole(server: RawServer) -> None:
    seen, seen_99 = len(server.answers_to(None)), len(server.answers_to(99))
    data = frame(HOVER)
    for index in range(0, len(data), 7):
        server.send_bytes(data[index : index + 7])
        assert server.process.stdin is not None
        await server.process.stdin.drain()
    assert "result" in await server.answer(99, seen_99)
    assert len(server.answers_to(None)) == seen


# -- the reader on its own: every split of the input reads the same ---------------------------


class Chunks:
    """A client stream that delivers ``size`` bytes per read."""

    def __init__(self, data: bytes, size: int) -> None:
        self.data = data
        self.size = size

    def read1(self, size: int = -1) -> bytes:
        chunk, self.data = self.data[: self.size], self.data[self.size :]
        return chunk


class Answers:
    def __init__(self) -> None:
        self.frames: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.frames.append(data)

    def codes(self) -> list[int]:
        return [json.loads(item.split(b"\r\n\r\n", 1)[1])["error"]["code"] for item in self.frames]


def read_all(reader: MessageReader) -> list[dict[str, Any]]:
    """The messages pygls would get, as it reads them (``readline`` and ``read``)."""
    messages = []
    while True:
        header = reader.readline()
        if not header:
            return messages
        assert header.startswith(b"Content-Length: ")
        assert reader.readline() == b"\r\n"
        messages.append(json.loads(reader.read(int(header.split(b":")[1]))))


@pytest.mark.parametrize("size", [1, 3, 64, 1 << 20])
@pytest.mark.parametrize("case", BROKEN_FRAMES)
def test_the_reader_skips_a_broken_frame_however_the_input_is_split(case: str, size: int) -> None:
    valid = frame(encode({"jsonrpc": "2.0", "id": 5, "method": "shutdown"}))
    answers = Answers()
    reader = MessageReader(Chunks(valid + BROKEN_FRAMES[case] + valid, size), answers)
    assert [message["id"] for message in read_all(reader)] == [5, 5]
    assert answers.codes() == [PARSE_ERROR]


def test_the_reader_passes_well_formed_frames_unchanged() -> None:
    messages = [
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {"text": "Content-Length: 5"},
        },
        {"jsonrpc": "2.0", "method": "initialized", "params": {}},
        {"jsonrpc": "2.0", "id": "x", "result": None},
        {"jsonrpc": "2.0", "id": 2, "error": {"code": 1, "message": "no"}},
    ]
    data = b"".join(frame(encode(message)) for message in messages)
    data += b"Content-Type: application/vscode-jsonrpc\r\ncontent-length: 2\r\n\r\n{}"
    answers = Answers()
    assert read_all(MessageReader(Chunks(data, 5), answers)) == messages
    assert answers.codes() == [INVALID_REQUEST]  # {} is JSON, but no message
