"""The pygls server object: protocol fixes, the one error barrier, and the feature list.

``create_server()`` builds a server and registers every feature module listed in
``uet.lsp.features.FEATURES`` (in that order); there is no module-global server and nothing
registers itself at import time.

Execution model: notification handlers that only update state run synchronously on the
event loop; parsing and validation of documents run in ``server.thread_pool`` on immutable
text snapshots; requests that need the current document state are ``async`` and await its
validation. Background work (indexing) is an ``asyncio`` task started through ``spawn`` so
its failures reach the error barrier too.

Protocol violations are answered, never dropped (``uet.lsp.framing`` answers broken frames
and invalid JSON before pygls sees them): params that do not fit their method get -32602,
a request before ``initialize`` -32002 and one after ``shutdown`` -32600; each is a one-line
warning in the log, never a message to the user. ``uet serve`` exits 0 after ``shutdown``
and 1 otherwise, as the spec asks of ``exit``.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import unquote

import cattrs
from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcInternalError
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol

from uet import __version__
from uet.artifacts import bundled_registry
from uet.lsp import hooks, runtime
from uet.lsp.framing import INVALID_REQUEST, error_frame
from uet.lsp.state import ServerState

__all__ = ["UetLanguageServer", "UetProtocol", "create_server"]

log = logging.getLogger("uet.lsp")
T = TypeVar("T")

INVALID_PARAMS = -32602
REQUEST_FAILED = -32803
# pygls' record for a $/cancelRequest whose request was already answered
CANCEL_OF_UNKNOWN_ID = 'Cancel notification for unknown message id "%s"'
SERVER_NOT_INITIALIZED = -32002


@dataclass(frozen=True, slots=True)
class RejectedMessage:
    """A request or notification the protocol refuses: what ``structure_message`` returns
    instead of raising (which would lose the request's id), answered by ``handle_message``."""

    request_id: int | str | None  # None: a notification, nobody waits for an answer
    method: str
    code: int
    reason: str


class UetProtocol(LanguageServerProtocol):
    """pygls' protocol; through its public methods (``structure_message``,
    ``handle_message``) every protocol violation pygls would drop is answered (see the
    module docstring), and ``$/cancelRequest`` reaches the commands too: pygls runs a
    command behind its generator handler for ``workspace/executeCommand``, so cancelling
    the request cancels only that outer future and the command's coroutine would keep
    running. A command that can be cancelled registers its task in ``command_tasks``
    under its request id (``protocol.msg_id``); the cancel notification cancels it.
    """

    initialize_requested = False
    shutdown_requested = False

    def __init__(self, server: Any, converter: cattrs.Converter) -> None:
        super().__init__(server, converter)
        self.command_tasks: dict[Any, asyncio.Task[Any]] = {}

    def structure_message(self, data: dict[str, Any]) -> Any:
        """pygls' structuring, except that a request or notification whose params do not
        fit its method becomes a ``RejectedMessage`` (pygls raises, and the request is never
        answered), and a client response that does not fit fails the server's request
        (pygls raises, and the request waits forever)."""
        method = data.get("method")
        if "jsonrpc" not in data or "error" in data or not isinstance(method, str):
            try:
                return super().structure_message(data)
            except JsonRpcException as error:
                if "jsonrpc" not in data or "method" in data or "id" not in data:
                    raise
                reason = f"the client's response does not fit the request: {error}"
                return types.ResponseErrorMessage(
                    id=data["id"], error=types.ResponseError(code=INVALID_REQUEST, message=reason)
                )
        message_type = self.get_message_type(method)
        if message_type is None:  # a method of no lsprotocol type: params stay plain JSON
            return super().structure_message({"params": None, **data})
        try:
            return self.fm.converter.structure(data, message_type)
        except Exception as error:  # cattrs' validation errors and attrs' validators
            request_id = data.get("id")
            reason = f"Invalid params for {method}: {_describe(error)}"
            return RejectedMessage(request_id, method, INVALID_PARAMS, reason)

    def handle_message(self, message: Any) -> None:
        """pygls' dispatch, after the checks pygls leaves unanswered: rejected params
        (-32602), requests before ``initialize`` (-32002) or after ``shutdown`` (-32600)."""
        if isinstance(message, RejectedMessage):
            self.reject(message)
            return
        method = getattr(message, "method", None)
        if not isinstance(method, str):  # a response to a request of the server's
            super().handle_message(message)
            return
        if method == types.CANCEL_REQUEST:
            self._cancel_command(message.params.id)
        request_id = getattr(message, "id", None)
        refusal = self._refusal(method, message)
        if refusal is not None:
            code, reason = refusal
            self.reject(RejectedMessage(request_id, method, code, reason))
            return
        if request_id is not None and method == types.INITIALIZE:
            self.initialize_requested = True
        if request_id is not None and method == types.SHUTDOWN:
            self.shutdown_requested = True
        super().handle_message(message)

    def reject(self, message: RejectedMessage) -> None:
        """Answer a refused request with its error (a refused notification is only logged):
        a client mistake, so a one-line warning and nothing shown to the user."""
        if message.request_id is None:
            log.warning("ignored the notification %s: %s", message.method, message.reason)
            return
        log.warning(
            "answered request %r with error %d: %s",
            message.request_id,
            message.code,
            message.reason,
        )
        writer = self.writer
        if writer is None:
            return
        try:  # the stdio and TCP writers write at once (pygls' websocket one is not used)
            writer.write(error_frame(message.request_id, message.code, message.reason))
        except (OSError, ValueError):  # the client is gone
            log.debug("could not answer the client", exc_info=True)

    def _refusal(self, method: str, message: Any) -> tuple[int, str] | None:
        """Why the protocol's state forbids this message now (``None``: it may go on)."""
        if self.shutdown_requested and method != types.EXIT:
            return INVALID_REQUEST, f"{method} after shutdown: the server is shutting down"
        if not self.initialize_requested and method not in (types.INITIALIZE, types.EXIT):
            return SERVER_NOT_INITIALIZED, f"{method} before initialize"
        if method == types.TEXT_DOCUMENT_DID_CHANGE and not self._is_open(message):
            return INVALID_REQUEST, f"{method} for a document that is not open"
        return None

    def _is_open(self, message: Any) -> bool:
        try:
            documents = self.workspace.text_documents
        except RuntimeError:  # initialize failed: there is no workspace
            return False
        return unquote(message.params.text_document.uri) in documents  # pygls' keys

    def _cancel_command(self, request_id: int | str) -> None:
        task = self.command_tasks.pop(request_id, None)
        if task is not None:
            task.cancel()


class UetLanguageServer(LanguageServer):
    """The UET language server: pygls plus the shared state and the error barrier."""

    def __init__(self) -> None:
        super().__init__("uet-lsp", __version__, protocol_cls=UetProtocol)
        strict_ids(self.protocol.fm.converter)  # before anything is structured
        self.state = ServerState(bundled_registry())
        self._error_shown = False
        self.log_level_from_command_line = False  # then uet.logLevel does not override it
        self.manage_gc = False  # uet serve: freeze long-lived objects (uet.lsp.runtime)

    @property
    def command_tasks(self) -> dict[Any, asyncio.Task[Any]]:
        """The running commands ``$/cancelRequest`` cancels, by request id (``UetProtocol``)."""
        protocol = self.protocol
        assert isinstance(protocol, UetProtocol)
        return protocol.command_tasks

    @property
    def exit_status(self) -> int:
        """What ``uet serve`` exits with: 0 after ``shutdown``, else 1 (the spec's rule for
        ``exit``, kept when the client just closes the stream)."""
        protocol = self.protocol
        return 0 if isinstance(protocol, UetProtocol) and protocol.shutdown_requested else 1

    @property
    def encoding(self) -> str:
        """The negotiated position encoding (``utf-16`` unless the client chose otherwise)."""
        chosen = self.workspace.position_encoding
        if isinstance(chosen, types.PositionEncodingKind):
            return str(chosen.value)
        return chosen or "utf-16"

    def report_server_error(self, error: Exception, source: Any) -> None:
        """The error barrier: log with the traceback; tell the user once per session."""
        if isinstance(error, JsonRpcException) and not isinstance(error, JsonRpcInternalError):
            log.debug("%s", error)  # an answer to the client (bad params, unknown method...)
            return
        log.error(
            "internal error (%s): %s",
            getattr(source, "__name__", source),
            error,
            exc_info=(type(error), error, error.__traceback__),
        )
        if self._error_shown:
            return
        self._error_shown = True
        try:
            self.window_show_message(
                types.ShowMessageParams(
                    type=types.MessageType.Error,
                    message=(
                        f"uet-lsp hit an internal error: {error}. The server keeps running; "
                        "see its log for details."
                    ),
                )
            )
        except (RuntimeError, OSError, AttributeError):  # no transport yet (unit tests)
            log.debug("could not show the error message", exc_info=True)

    def spawn(self, coroutine: Coroutine[Any, Any, T], name: str) -> asyncio.Task[T]:
        """Run background work as a task whose failure goes through the error barrier."""
        task = asyncio.get_running_loop().create_task(coroutine, name=name)
        task.add_done_callback(self._check_background)
        return task

    def _check_background(self, task: asyncio.Task[Any]) -> None:
        if task.cancelled():
            return
        error = task.exception()
        if error is not None and isinstance(error, Exception):
            self.report_server_error(error, type(error))

    async def in_pool(self, function: Callable[..., T], *args: Any) -> T:
        """Run blocking work (parsing, validation, file I/O) in the server's thread pool."""
        return await asyncio.get_running_loop().run_in_executor(self.thread_pool, function, *args)

    async def load_modules(self, *names: str) -> None:
        """Make sure the modules a handler imports lazily are loaded, importing them in the
        thread pool (never on the loop) when the warm-up has not done it yet."""
        missing = [name for name in names if not runtime.imported(name)]
        if missing:
            await self.in_pool(runtime.import_modules, missing)


class ClientErrorRecords(logging.Filter):
    """pygls logs every error it answers a request with at ERROR, with the traceback. An
    error that answers a client mistake (bad params, unknown command: any JSON-RPC error
    but an internal one) becomes a one-line warning, and a refusal the user was shown
    (RequestFailed: a run that cannot start) a one-line info; internal errors stay as they
    are. A ``$/cancelRequest`` for a request already answered is routine (editors cancel
    what they no longer need, often just after the answer left): debug, not a warning."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, JsonRpcException) and not isinstance(error, JsonRpcInternalError):
            if error.code == REQUEST_FAILED:  # the user was shown why: say so plainly
                record.msg, record.args, level = "refused: %s", (error.message,), logging.INFO
            else:
                record.args = (record.getMessage(), error.code, error.message)
                record.msg, level = "%s: error %d: %s", logging.WARNING
            record.exc_info, record.exc_text = None, None
        elif record.msg == CANCEL_OF_UNKNOWN_ID:
            level = logging.DEBUG
        else:
            return True
        record.levelno, record.levelname = level, logging.getLevelName(level)
        # pygls' logger passed the record at its first level; the server's level decides now
        return logging.getLogger("uet").isEnabledFor(level)


def quiet_client_errors() -> None:
    """Install ``ClientErrorRecords`` on pygls' protocol logger (once)."""
    logger = logging.getLogger("pygls.protocol.json_rpc")
    if not any(isinstance(item, ClientErrorRecords) for item in logger.filters):
        logger.addFilter(ClientErrorRecords())


def strict_ids(converter: cattrs.Converter) -> None:
    """Make pygls' converter strict about ``integer | string`` (request ids, progress
    tokens, diagnostic codes): lsprotocol lets any JSON value through there, so a
    ``$/cancelRequest`` for ``{"id": {}}`` reached pygls' bookkeeping and failed inside it."""
    converter.register_structure_hook(int | str, _integer_or_string)
    converter.register_structure_hook(int | str | None, _optional_integer_or_string)


class _NotIntegerOrString(ValueError):
    """A value where the protocol wants an integer or a string."""


def _integer_or_string(value: object, _: object) -> int | str:
    if isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    raise _NotIntegerOrString("expected an integer or a string")


def _optional_integer_or_string(value: object, kind: object) -> int | str | None:
    return None if value is None else _integer_or_string(value, kind)


def _describe(error: Exception) -> str:
    """cattrs' account of why params do not fit, with the protocol's (camelCase) names:
    ``required field missing @ $.params.position``."""
    details = (
        cattrs.transform_error(error, format_exception=_format_exception)
        if isinstance(error, cattrs.BaseValidationError)
        else [str(error)]
    )
    return "; ".join(_SNAKE.sub(lambda match: match.group(1).upper(), item) for item in details)


def _format_exception(error: BaseException, kind: type | None) -> str:
    if isinstance(error, _NotIntegerOrString):
        return str(error)
    return cattrs.v.format_exception(error, kind)


_SNAKE = re.compile(r"(?<=[a-z0-9])_([a-z])")


def create_server() -> UetLanguageServer:
    """A server with every feature registered, in the order of ``FEATURES``, and the
    handlers that collect their contributions (``uet.lsp.hooks``)."""
    from uet.lsp.features import FEATURES

    quiet_client_errors()
    server = UetLanguageServer()
    for feature in FEATURES:
        feature.register(server)
    hooks.install(server)  # the methods several features contribute to
    return server
