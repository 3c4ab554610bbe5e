"""Answer ``initialize`` before the heavy imports: the stdlib-only front of ``uet serve``.

Why: importing pygls, lsprotocol (attrs builds ~550 classes at import) and the domain
packages takes most of a second, and an editor shows the server as "starting" until it
answers ``initialize``. That answer depends only on the features the server registers
(fixed for a release: ``front_table``) and on a handful of client capabilities, so the
front reads the first message(s) from stdin itself, answers ``initialize`` with exactly the
bytes pygls would send, and hands pygls a stream (``ReplayReader``) that replays every byte
the front read. pygls then processes ``initialize`` normally (workspace, negotiated
encoding, the uet ``initialize`` handler); ``UetProtocol`` drops its duplicate response after
checking that it is byte-identical to the early one (a difference is logged as an error;
``tests/lsp/test_startup_front.py`` compares both for every client profile).

Rules:

- Imports only the standard library (and ``uet.__version__``): that is the point.
- Anything unexpected means no early answer, never an error: pygls answers as usual.
- Every byte read is replayed, and message framing mirrors pygls' own reader, so both see
  the same messages. Notifications before ``initialize`` are read past (the client waits
  for nothing); a request or ``exit`` ends the front at once, so pygls answers it in order.
- The client-dependent parts mirror pygls 2.1's ``ServerCapabilitiesBuilder``: position
  encoding, ``willSave``/``willSaveWaitUntil``, rename ``prepareProvider``, notebook sync
  and file operations.
"""

from __future__ import annotations

import copy
import json
import logging
import re
from dataclasses import dataclass
from typing import Any, BinaryIO

from uet import __version__
from uet.lsp.front_table import CAPABILITIES, SERVER_NAME

__all__ = ["EarlyAnswer", "ReplayReader", "answer_initialize", "initialize_result"]

log = logging.getLogger("uet.lsp")

_CONTENT_LENGTH = re.compile(rb"^Content-Length: (\d+)\r\n$")  # as pygls.io_.run_async
_HEADERS = (
    "Content-Length: {length}\r\nContent-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n"
)
_ENCODINGS = ("utf-8", "utf-16", "utf-32")  # what pygls can convert positions to
# File operations, named alike in ServerCapabilities.workspace.fileOperations and in the
# client's workspace.fileOperations capabilities.
_FILE_OPERATIONS = ("willCreate", "didCreate", "willDelete", "didDelete", "willRename", "didRename")


class _Unsupported(Exception):
    """The client sent something the front does not model: let pygls answer."""


@dataclass(frozen=True, slots=True)
class EarlyAnswer:
    """The ``initialize`` response the front sent: its request id and its JSON body."""

    request_id: int | str
    body: bytes


class ReplayReader:
    """The server's stdin for pygls: the bytes the front consumed, then the real stream.

    pygls reads with ``readline()`` and ``read(n)`` only, one call at a time.
    """

    def __init__(self, consumed: bytes, stream: BinaryIO) -> None:
        self._pending = consumed
        self._stream = stream

    def readline(self) -> bytes:
        """One line (``\\n`` included), from the replayed bytes first."""
        if not self._pending:
            return self._stream.readline()
        end = self._pending.find(b"\n")
        if end >= 0:
            line, self._pending = self._pending[: end + 1], self._pending[end + 1 :]
            return line
        head, self._pending = self._pending, b""
        return head + self._stream.readline()

    def read(self, size: int = -1) -> bytes:
        """``size`` bytes (fewer only at the end of the stream), replayed bytes first."""
        if not self._pending:
            return self._stream.read(size)
        if size < 0:
            head, self._pending = self._pending, b""
            return head + self._stream.read()
        head, self._pending = self._pending[:size], self._pending[size:]
        if len(head) == size:
            return head
        return head + self._stream.read(size - len(head))


def answer_initialize(stdin: BinaryIO, stdout: BinaryIO) -> tuple[ReplayReader, EarlyAnswer | None]:
    """Read up to the ``initialize`` request and answer it on ``stdout`` if the front can.

    Returns the stream pygls must read (everything consumed here comes first) and the
    answer sent, if any.
    """
    consumed = bytearray()
    while True:
        raw, message = _read_message(stdin)
        consumed += raw
        if message is None:  # end of input or a message the front cannot read
            return ReplayReader(bytes(consumed), stdin), None
        method = message.get("method")
        if "id" not in message and isinstance(method, str) and method != "exit":
            continue  # a notification before initialize ($/setTrace...): nobody waits for it
        if method != "initialize":
            return ReplayReader(bytes(consumed), stdin), None
        answer = _early_answer(message)
        if answer is not None:
            header = _HEADERS.format(length=len(answer.body)).encode("ascii")
            stdout.write(header + answer.body)
            stdout.flush()
            log.debug("answered initialize before loading the server")
        return ReplayReader(bytes(consumed), stdin), answer


def initialize_result(params: object) -> dict[str, Any] | None:
    """The ``InitializeResult`` pygls computes for these ``initialize`` params (JSON), or
    ``None`` when they hold something the front does not model."""
    try:
        if not isinstance(params, dict):
            raise _Unsupported("params")
        _check_params(params)
        return {
            "capabilities": _server_capabilities(params["capabilities"]),
            "serverInfo": {"name": SERVER_NAME, "version": __version__},
        }
    except _Unsupported as reason:
        log.debug("initialize answered by pygls (front: unsupported %s)", reason)
        return None


def _early_answer(message: dict[str, Any]) -> EarlyAnswer | None:
    request_id = message.get("id")
    if isinstance(request_id, bool) or not isinstance(request_id, int | str):
        return None
    if message.get("jsonrpc") != "2.0":
        return None
    result = initialize_result(message.get("params"))
    if result is None:
        return None
    # pygls' serialisation: json.dumps defaults, keys in this order, None fields omitted.
    body = json.dumps({"id": request_id, "jsonrpc": "2.0", "result": result})
    return EarlyAnswer(request_id, body.encode("utf-8"))


def _read_message(stream: BinaryIO) -> tuple[bytes, dict[str, Any] | None]:
    """One message as pygls frames it: header lines until an empty line after a
    ``Content-Length`` header, then the body. Returns the raw bytes and the parsed object
    (``None`` at the end of input or when the body is not a JSON object)."""
    raw = bytearray()
    length = 0
    while True:
        header = stream.readline()
        raw += header
        if not header:
            return bytes(raw), None
        if not length and (match := _CONTENT_LENGTH.fullmatch(header)):
            length = int(match.group(1))
        if length and not header.strip():
            break
    body = stream.read(length)
    raw += body
    if len(body) < length:
        return bytes(raw), None
    try:
        message = json.loads(body)
    except ValueError:  # UnicodeDecodeError is a ValueError too
        return bytes(raw), None
    return bytes(raw), message if isinstance(message, dict) else None


def _check_params(params: dict[str, Any]) -> None:
    """Top-level shapes pygls would reject with InvalidParams: leave those to pygls."""
    if not isinstance(params.get("capabilities"), dict):
        raise _Unsupported("capabilities")
    process_id = params.get("processId")
    if process_id is not None and (isinstance(process_id, bool) or not isinstance(process_id, int)):
        raise _Unsupported("processId")
    for key in ("rootUri", "rootPath", "locale"):
        if params.get(key) is not None and not isinstance(params[key], str):
            raise _Unsupported(key)
    folders = params.get("workspaceFolders")
    if folders is not None and not (
        isinstance(folders, list)
        and all(
            isinstance(folder, dict)
            and isinstance(folder.get("uri"), str)
            and isinstance(folder.get("name"), str)
            for folder in folders
        )
    ):
        raise _Unsupported("workspaceFolders")
    if params.get("trace") not in (None, "off", "messages", "verbose"):
        raise _Unsupported("trace")


def _server_capabilities(client: dict[str, Any]) -> dict[str, Any]:
    """``front_table.CAPABILITIES`` (computed for a client that has every capability pygls
    consults) narrowed to this client, as ``ServerCapabilitiesBuilder`` does."""
    result: dict[str, Any] = copy.deepcopy(CAPABILITIES)
    result["positionEncoding"] = _position_encoding(client)
    sync = result.get("textDocumentSync")
    if isinstance(sync, dict):
        for key in ("willSave", "willSaveWaitUntil"):
            if key in sync:  # pygls: get_capability(client, ...) and <server has the feature>
                value = _flag(client, "textDocument", "synchronization", key) and sync[key]
                if value is None:
                    del sync[key]
                else:
                    sync[key] = value
    if _capability(client, "notebookDocument") is None:
        result.pop("notebookDocumentSync", None)
    if "renameProvider" in result and not _flag(client, "textDocument", "rename", "prepareSupport"):
        result["renameProvider"] = True  # RenameOptions only for clients with prepareSupport
    operations = result.get("workspace", {}).get("fileOperations")
    if isinstance(operations, dict):
        for name in _FILE_OPERATIONS:
            if not _flag(client, "workspace", "fileOperations", name):
                operations.pop(name, None)
    return result


def _position_encoding(client: dict[str, Any]) -> str:
    """pygls' choice: the client's first encoding pygls supports, else UTF-16."""
    offered = _capability(client, "general", "positionEncodings")
    if offered is None:
        return "utf-16"
    if not isinstance(offered, list) or not all(isinstance(item, str) for item in offered):
        raise _Unsupported("general.positionEncodings")
    return next((item for item in offered if item in _ENCODINGS), "utf-16")


def _flag(client: dict[str, Any], *path: str) -> bool | None:
    value = _capability(client, *path)
    if value is not None and not isinstance(value, bool):
        raise _Unsupported(".".join(path))
    return value


def _capability(client: dict[str, Any], *path: str) -> Any:
    """The value at ``path`` (``None`` when absent), as pygls' ``get_capability`` reads it."""
    value: Any = client
    for key in path:
        if value is None:
            return None
        if not isinstance(value, dict):
            raise _Unsupported(".".join(path))
        value = value.get(key)
    return value
