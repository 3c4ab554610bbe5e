"""The LSP base protocol on stdio: cutting the input into messages, and answering what is
not one.

``MessageReader`` stands between the client's byte stream and pygls. It reads the frames
itself and hands pygls only well-formed frames whose body is a JSON-RPC 2.0 message;
everything else is answered here, once, and never reaches pygls:

- a header block without a usable ``Content-Length`` (missing, not a number, negative),
  bytes that are no header at all, or a body that is not JSON get a -32700 ParseError
  (id null); the reader then resynchronises on the next ``Content-Length:`` header,
  wherever it starts (a short length leaves the rest of the body before it);
- a declared length longer than the body is noticed as soon as the next frame's header
  shows inside it (``Content-Length: <n>`` and a line break can never occur inside JSON),
  so the reader does not wait for bytes that will never come;
- a JSON body that is not a JSON-RPC message gets -32600 InvalidRequest, with the
  request's id when it has a usable one (a malformed *response* is only logged: there is
  nobody to answer).

``SerialOutput`` is the one stdout: pygls writes from the event loop and from its worker
threads, the reader from its own; each frame is written and flushed under one lock.

Standard library only: ill-typed params are the protocol's business (``uet.lsp.server``).
"""

from __future__ import annotations

import json
import logging
import re
import threading
from typing import Any, BinaryIO, Protocol

__all__ = [
    "INVALID_REQUEST",
    "PARSE_ERROR",
    "MessageReader",
    "SerialOutput",
    "error_frame",
    "frame",
    "message_problem",
]

log = logging.getLogger("uet.lsp")

PARSE_ERROR = -32700
INVALID_REQUEST = -32600

_HEADER_START = b"Content-Length:"
# A frame header as it can never occur inside a JSON text (a raw line break is not JSON).
_NEXT_FRAME = re.compile(rb"Content-Length:[ \t]*[0-9]+\r\n")
_HEADER_LINE = re.compile(rb"([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*(.*?)[ \t]*")
_HEADER_END = b"\r\n\r\n"
_MAX_HEADER_BYTES = 8192  # far more than Content-Length and Content-Type need
_CHUNK = 1 << 16
_OVERLAP = 64  # bytes a header can straddle between two scans
_LEADING_WHITESPACE = re.compile(rb"[ \t\r\n]*")


class ChunkReader(Protocol):
    """The client's stream: ``read1`` returns what is available (``b""`` at its end)."""

    def read1(self, size: int = ..., /) -> bytes: ...


class FrameSink(Protocol):
    """Where answers go: one call writes one whole frame."""

    def write(self, data: bytes, /) -> object: ...


def frame(body: bytes) -> bytes:
    """``body`` with the LSP headers (the ones pygls writes)."""
    header = (
        f"Content-Length: {len(body)}\r\n"
        "Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n"
    )
    return header.encode("ascii") + body


def error_frame(request_id: int | str | None, code: int, message: str) -> bytes:
    """A framed JSON-RPC error response."""
    body = {"id": request_id, "jsonrpc": "2.0", "error": {"code": code, "message": message}}
    return frame(json.dumps(body).encode("utf-8"))


def message_problem(message: object) -> tuple[str, bool] | None:
    """Why ``message`` is not a JSON-RPC 2.0 message, and whether it deserves an answer
    (requests and notifications do, responses do not); ``None`` when it is one."""
    if not isinstance(message, dict):
        return f"a message is a JSON object, not {_json_type(message)}", True
    if message.get("jsonrpc") != "2.0":
        return 'a message needs "jsonrpc": "2.0"', True
    if "method" in message:
        if not isinstance(message["method"], str):
            return '"method" must be a string', True
        if "id" in message and not _is_id(message["id"]):
            return 'a request "id" must be an integer or a string', True
        return None
    if "id" not in message:
        return 'a message needs a "method" (request, notification) or an "id" (response)', True
    if not _is_id(message["id"]) and not (message["id"] is None and "error" in message):
        return 'a response "id" must be an integer or a string', False
    if ("result" in message) == ("error" in message):
        return 'a response has either a "result" or an "error"', False
    error = message.get("error")
    if "error" in message and not (
        isinstance(error, dict)
        and _is_integer(error.get("code"))
        and isinstance(error.get("message"), str)
    ):
        return 'a response "error" needs an integer "code" and a string "message"', False
    return None


def request_id_of(message: object) -> int | str | None:
    """The id to answer ``message`` with: its own when usable, else null."""
    if isinstance(message, dict) and "method" in message and _is_id(message.get("id")):
        value: int | str = message["id"]
        return value
    return None


class SerialOutput:
    """The server's stdout, shared by pygls and ``MessageReader``: one write is one frame,
    written and flushed whole under a lock.

    Once the client is gone (it closed its end of the pipe, or the stream was closed on
    ``exit``), what the server still writes (the end of an indexing's progress, say) is
    dropped with one debug line: nobody reads it, and it is no error of the server's.
    pygls would log a lost write as an error with its traceback and raise it into the
    handler or background task that wrote, which the error barrier then reports as an
    internal error.
    """

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self._lock = threading.Lock()
        self._gone = False

    def write(self, data: bytes) -> int:
        """Write ``data`` and flush it before anyone else writes (nothing once the client
        is gone)."""
        with self._lock:
            if self._gone:
                return 0
            try:
                written = self._stream.write(data)
                self._stream.flush()
            except (BrokenPipeError, ConnectionResetError, ValueError) as error:
                if isinstance(error, ValueError) and not self._stream.closed:
                    raise  # not a closed stream: a real error
                self._client_gone(error)
                return 0
        return written

    def flush(self) -> None:
        """Everything is flushed by ``write`` already."""
        with self._lock:
            if self._gone or self._stream.closed:
                return
            try:
                self._stream.flush()
            except (BrokenPipeError, ConnectionResetError) as error:
                self._client_gone(error)

    def close(self) -> None:
        """Close the stream (pygls does on ``exit``)."""
        with self._lock:
            try:
                self._stream.close()
            except (BrokenPipeError, ConnectionResetError) as error:
                self._client_gone(error)  # the close flushed what the client never read

    def _client_gone(self, error: OSError | ValueError) -> None:
        self._gone = True
        log.debug("the client is gone (%s): what the server writes now is dropped", error)


class MessageReader:
    """The client's stream for pygls: well-formed frames only, the rest answered.

    pygls reads with ``readline()`` and ``read(n)``, one call at a time; each frame it gets
    is ``Content-Length: <n>\\r\\n\\r\\n`` and a body that is a JSON-RPC message.
    """

    def __init__(self, stream: ChunkReader, answers: FrameSink) -> None:
        self._stream = stream
        self._answers = answers
        self._buffer = bytearray()  # bytes read from the client, not cut into frames yet
        self._ended = False
        self._pending = b""  # the frame being handed to pygls
        self._lock = threading.Lock()

    def readline(self) -> bytes:
        """One line of the current frame (``\\n`` included); ``b""`` at the end of input."""
        with self._lock:
            if not self._pending:
                self._pending = self._next_frame()
            end = self._pending.find(b"\n") + 1 or len(self._pending)
            line, self._pending = self._pending[:end], self._pending[end:]
            return line

    def read(self, size: int = -1) -> bytes:
        """The next ``size`` bytes of the current frame (its body)."""
        with self._lock:
            if size < 0:
                size = len(self._pending)
            data, self._pending = self._pending[:size], self._pending[size:]
            return data

    # -- cutting frames --------------------------------------------------------------------

    def _next_frame(self) -> bytes:
        """The next well-formed frame, re-framed for pygls; ``b""`` at the end of input."""
        while True:
            span = self._next_body()
            if span is None:
                return b""
            start, end = span
            body = bytes(self._buffer[start:end])
            try:
                message = json.loads(body)
            except ValueError as error:  # UnicodeDecodeError is a ValueError too
                self._parse_error(f"the body is not JSON ({error})")
                # Resynchronise: a short length left the body's tail before the next header;
                # a long one ate the start of a header that straddles the body's end.
                del self._buffer[: max(start, end - _OVERLAP)]
                self._skip_to_header(0)
                continue
            del self._buffer[:end]
            problem = message_problem(message)
            if problem is None:
                return b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
            reason, answerable = problem
            log.warning("invalid message: %s", reason)
            if answerable:
                self._answer(request_id_of(message), INVALID_REQUEST, f"Invalid request: {reason}")

    def _next_body(self) -> tuple[int, int] | None:
        """Where the body of the next frame with a usable header starts and ends in the
        buffer; ``None`` at the end of input."""
        while True:
            blank = _LEADING_WHITESPACE.match(self._buffer)  # between frames: ignored
            if blank is not None:
                del self._buffer[: blank.end()]
            end = self._buffer.find(_HEADER_END)
            if end < 0:
                if len(self._buffer) > _MAX_HEADER_BYTES:
                    self._parse_error("no header block (expected Content-Length)")
                    self._skip_to_header(1)
                elif not self._fill():
                    self._ended_inside("a header")
                    return None
                continue
            length, problem = _content_length(bytes(self._buffer[:end]))
            if length is None:
                self._parse_error(problem)
                self._skip_to_header(1)
                continue
            start = end + len(_HEADER_END)
            if self._body_read(start, length):
                return start, start + length
            if self._ended:
                self._ended_inside("a body")
                return None

    def _body_read(self, start: int, length: int) -> bool:
        """Read until the buffer holds the ``length`` bytes after ``start``; ``False`` when
        the frame turned out broken (answered and skipped) or the input ended first."""
        end = start + length
        scanned = start
        while True:
            # A header inside the body: the length was too long (it can be no JSON).
            following = _NEXT_FRAME.search(
                self._buffer, max(start, scanned - _OVERLAP), min(len(self._buffer), end + _OVERLAP)
            )
            if following is not None and following.start() < end:
                self._parse_error(
                    f"Content-Length {length} but the next message starts after "
                    f"{following.start() - start} bytes"
                )
                del self._buffer[: following.start()]
                return False
            if len(self._buffer) >= end:
                return True
            scanned = len(self._buffer)
            if not self._fill():
                return False

    def _fill(self) -> bool:
        """Read more of the client's stream; ``False`` at its end."""
        if self._ended:
            return False
        chunk = self._stream.read1(_CHUNK)
        if not chunk:
            self._ended = True
            return False
        self._buffer += chunk
        return True

    def _skip_to_header(self, offset: int) -> None:
        """Drop the bytes before the next ``Content-Length:`` at or after ``offset``,
        reading on until one shows (or the input ends)."""
        while True:
            found = self._buffer.find(_HEADER_START, offset)
            if found >= 0:
                skipped = found
                del self._buffer[:found]
                break
            keep = len(_HEADER_START) - 1  # the start of a header split across reads
            skipped = max(len(self._buffer) - keep, 0)
            del self._buffer[:skipped]
            offset = 0
            if not self._fill():
                skipped += len(self._buffer)
                self._buffer.clear()
                break
        if skipped:
            log.debug("skipped %d byte(s) to the next header", skipped)

    def _ended_inside(self, part: str) -> None:
        if self._buffer.strip():
            log.warning("the input ended inside %s (%d byte(s) dropped)", part, len(self._buffer))
        self._buffer.clear()

    def _parse_error(self, reason: str) -> None:
        log.warning("unreadable message: %s", reason)
        self._answer(None, PARSE_ERROR, f"Parse error: {reason}")

    def _answer(self, request_id: int | str | None, code: int, message: str) -> None:
        try:
            self._answers.write(error_frame(request_id, code, message))
        except (OSError, ValueError):  # the client is gone (closed pipe or stream)
            log.debug("could not answer the client", exc_info=True)


def _content_length(block: bytes) -> tuple[int | None, str]:
    """The ``Content-Length`` of a header block, or ``None`` and what is wrong with it."""
    length: int | None = None
    for line in block.split(b"\r\n"):
        match = _HEADER_LINE.fullmatch(line)
        if match is None:
            return None, f"not a header line: {_shown(line)}"
        name, value = match.groups()
        if name.lower() != b"content-length":
            continue
        if length is not None:
            return None, "Content-Length given twice"
        if not value.isdigit():
            return None, f"Content-Length is not a non-negative integer: {_shown(value)}"
        length = int(value)
    if length is None:
        return None, "no Content-Length header"
    return length, ""


def _shown(data: bytes, limit: int = 60) -> str:
    text = repr(data[:limit])[2:-1]
    return text + ("..." if len(data) > limit else "")


def _is_id(value: Any) -> bool:
    return isinstance(value, str) or _is_integer(value)


def _is_integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _json_type(value: object) -> str:
    names = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
    return names.get(type(value), "a number")
