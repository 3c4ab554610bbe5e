"""The pygls server object: protocol fix, the one error barrier, and the feature list.

``create_server()`` builds a server and registers every feature module listed in
``uet.lsp.features.FEATURES`` (in that order); there is no module-global server and nothing
registers itself at import time.

Execution model: notification handlers that only update state run synchronously on the
event loop; parsing and validation of documents run in ``server.thread_pool`` on immutable
text snapshots; requests that need the current document state are ``async`` and await its
validation. Background work (indexing) is an ``asyncio`` task started through ``spawn`` so
its failures reach the error barrier too.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcInternalError
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol

from uet import __version__
from uet.artifacts import bundled_registry
from uet.lsp import runtime
from uet.lsp.front import EarlyAnswer
from uet.lsp.state import ServerState

__all__ = ["UetLanguageServer", "UetProtocol", "create_server"]

log = logging.getLogger("uet.lsp")
T = TypeVar("T")


class UetProtocol(LanguageServerProtocol):
    """pygls' protocol with two changes (private hooks: pygls is pinned to 2.1).

    - pygls 2.1 runs commands behind a generator handler, so ``$/cancelRequest`` only
      cancels the outer future and the command coroutine keeps running. Also cancel the
      task a command registered under its request id.
    - When ``uet.lsp.front`` already answered ``initialize`` (``early_answer``), pygls'
      own response to it is dropped; it must be byte-identical, else an error is logged.
    """

    early_answer: EarlyAnswer | None = None

    def _handle_cancel_notification(self, msg_id: Any) -> None:
        server = self._server
        if isinstance(server, UetLanguageServer):
            task = server.command_tasks.pop(msg_id, None)
            if task is not None:
                task.cancel()
        super()._handle_cancel_notification(msg_id)

    def _send_data(self, data: Any) -> None:
        early = self.early_answer
        if early is None or not _answers(data, early.request_id):
            super()._send_data(data)
            return
        self.early_answer = None
        body = json.dumps(data, default=self._serialize_message).encode("utf-8")
        if body == early.body:
            log.debug("initialize: pygls' response matches the early answer")
        else:
            log.error(
                "initialize: the early answer differs from pygls' (the client got the early "
                "one; run python -m uet.lsp.front_sync): early %s, pygls %s",
                early.body.decode("utf-8", "replace"),
                body.decode("utf-8", "replace"),
            )


class UetLanguageServer(LanguageServer):
    """The UET language server: pygls plus the shared state and the error barrier."""

    def __init__(self) -> None:
        super().__init__("uet-lsp", __version__, protocol_cls=UetProtocol)
        self.state = ServerState(bundled_registry())
        self.command_tasks: dict[Any, asyncio.Task[Any]] = {}
        self._error_shown = False
        self.log_level_from_command_line = False  # then uet.logLevel does not override it
        self.manage_gc = False  # uet serve: freeze long-lived objects (uet.lsp.runtime)

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


def _answers(data: Any, request_id: int | str) -> bool:
    """Whether ``data`` is the response (result or error) to the client request ``request_id``."""
    if hasattr(data, "method"):  # a request or notification of the server's own
        return False
    answered = getattr(data, "id", None)
    return type(answered) is type(request_id) and answered == request_id


def create_server(early_answer: EarlyAnswer | None = None) -> UetLanguageServer:
    """A server with every feature registered, in the order of ``FEATURES``.

    ``early_answer``: the ``initialize`` response ``uet.lsp.front`` already sent, so the
    server does not send its own.
    """
    from uet.lsp.features import FEATURES

    server = UetLanguageServer()
    if isinstance(server.protocol, UetProtocol):
        server.protocol.early_answer = early_answer
    for feature in FEATURES:
        feature.register(server)
    return server
