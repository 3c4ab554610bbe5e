"""``uet serve``: run the language server on stdio (or TCP for debugging).

The protocol owns stdout, so logging goes to stderr (the editor's output channel) or to
``--log-file``; nothing here prints.

However the server ends (``shutdown`` then ``exit``, ``exit`` alone, the end of its input,
SIGTERM or SIGHUP), the runs it executes are canceled and their processes are gone before
the process exits (:func:`uet.lsp.features.runs.exit.stop_every_run`).
"""

from __future__ import annotations

import argparse
import logging
import os
import select
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from uet.lsp.server import UetLanguageServer

__all__ = ["register", "run_serve"]

log = logging.getLogger("uet.lsp")

_LEVELS = ("error", "warning", "info", "debug")
# The signals that end the server like ``exit`` does (the editor or the session went away).
_END_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


def register(subparsers: Any) -> None:
    """Add ``serve`` to the ``uet`` parser."""
    serve = subparsers.add_parser(
        "serve",
        help="run the UET language server (stdio by default)",
        description="Run the UET language server for editors (LSP over stdio).",
    )
    serve.add_argument(
        "--tcp", metavar="HOST:PORT", help="listen on a TCP socket instead (for debugging)"
    )
    serve.add_argument("--log-file", type=Path, metavar="PATH", help="write the log here")
    serve.add_argument(
        "--log-level", choices=_LEVELS, default=None, help="log verbosity (default: info)"
    )
    serve.set_defaults(handler=run_serve)


def run_serve(args: argparse.Namespace) -> int:
    """Start the server; returns when the client sends ``exit`` (or closes the stream): 0
    after ``shutdown``, else 1.

    On stdio, ``uet.lsp.framing`` reads the client's frames (answering broken ones) and
    serialises what is written to stdout; pygls reads the well-formed frames from it.
    """
    level = getattr(logging, (args.log_level or "info").upper())
    handler: logging.Handler = (
        logging.FileHandler(args.log_file, encoding="utf-8")
        if args.log_file is not None
        else logging.StreamHandler(sys.stderr)
    )
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    logging.getLogger("uet").setLevel(level)
    if args.tcp:
        host, _, port = str(args.tcp).rpartition(":")
        if not host or not port.isdigit():
            print("uet serve: --tcp expects HOST:PORT", file=sys.stderr)
            return 2
        server = _server(args)
        with _Ending(None) as ending:
            server.start_tcp(host, int(port))
        return ending.status(0)
    from uet.lsp.framing import MessageReader, SerialOutput

    server = _server(args)
    output = SerialOutput(sys.stdout.buffer)
    with _ClientInput(sys.stdin.fileno()) as client, _Ending(client) as ending:
        # readline/read/write suffice: pygls uses nothing else of the streams
        server.start_io(MessageReader(client, output), output)  # type: ignore[arg-type]
    return ending.status(server.exit_status)


class _ClientInput:
    """The client's end of stdio, which ``end`` (a signal handler) can end as if the client
    had closed it: pygls reads it in a worker thread, and on the way out it waits for that
    thread, which would otherwise wait for a client that may never close its end."""

    def __init__(self, descriptor: int) -> None:
        self._descriptor = descriptor
        self._ended, self._end = os.pipe()
        os.set_blocking(self._end, False)  # it may serve as the signal wake-up descriptor

    @property
    def wakeup_descriptor(self) -> int:
        """A descriptor a signal may be written to (``signal.set_wakeup_fd``): it ends the
        input as ``end`` does, from whichever thread the signal reaches."""
        return self._end

    def read1(self, size: int = 1 << 16, /) -> bytes:
        """What the client sent next (at most ``size`` bytes); ``b""`` once the input ended."""
        readable, _, _ = select.select([self._descriptor, self._ended], [], [])
        if self._ended in readable:
            return b""
        return os.read(self._descriptor, size)

    def end(self) -> None:
        os.write(self._end, b"\0")

    def __enter__(self) -> _ClientInput:
        return self

    def __exit__(self, *exc_info: object) -> None:
        os.close(self._ended)
        os.close(self._end)


class _Ending:
    """Serve within; afterwards, however serving ended (``exit``, end of input, SIGTERM,
    SIGHUP), every run the server executes is stopped before the process exits. A signal
    ends the client's input (``_ClientInput``), or on TCP raises ``SystemExit``, so that
    the server stops as it does at the end of its input, ``finally`` blocks and ``atexit``
    included; the process then exits with 128 + the signal."""

    def __init__(self, client: _ClientInput | None) -> None:
        self._client = client
        self._signal: signal.Signals | None = None
        self._previous: dict[int, Any] = {}
        self._previous_wakeup = -1

    def __enter__(self) -> _Ending:
        self._previous = {number: signal.signal(number, self._on_signal) for number in _END_SIGNALS}
        if self._client is not None:
            # The handler runs in the main thread, which may sleep in the event loop's poll
            # while the signal reaches another thread: the wake-up byte ends the client's input
            # at once, the loop wakes up to that, and the handler runs then.
            self._previous_wakeup = signal.set_wakeup_fd(self._client.wakeup_descriptor)
        return self

    def __exit__(self, *exc_info: object) -> None:
        named = ""
        if self._signal is not None:
            log.info("ending on %s", self._signal.name)
            named = f" ({self._signal.name})"
        try:
            _stop_runs(f"the language server ended{named}")
        finally:
            if self._client is not None:
                signal.set_wakeup_fd(self._previous_wakeup)
            for number, handler in self._previous.items():
                signal.signal(number, handler)

    def status(self, otherwise: int) -> int:
        """The exit status: 128 + the signal that ended serving, else ``otherwise``."""
        return otherwise if self._signal is None else 128 + self._signal

    def _on_signal(self, number: int, frame: object) -> None:
        del frame
        for other in _END_SIGNALS:  # a second signal while the server ends changes nothing
            signal.signal(other, signal.SIG_IGN)
        self._signal = signal.Signals(number)
        if self._client is None:
            raise SystemExit(128 + number)
        self._client.end()


def _stop_runs(reason: str) -> None:
    from uet.lsp.features.runs.exit import stop_every_run

    stop_every_run(reason)


def _server(args: argparse.Namespace) -> UetLanguageServer:
    from uet.lsp import runtime
    from uet.lsp.server import create_server

    server = create_server()
    server.log_level_from_command_line = args.log_level is not None
    server.manage_gc = True
    runtime.settle()  # the start-up imports are done: see uet.lsp.runtime
    return server
