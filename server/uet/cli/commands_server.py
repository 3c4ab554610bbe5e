"""``uet serve``: run the language server on stdio (or TCP for debugging).

The protocol owns stdout, so logging goes to stderr (the editor's output channel) or to
``--log-file``; nothing here prints.

However the server ends (``shutdown`` then ``exit``, ``exit`` alone, the end of its input,
SIGTERM or SIGHUP), the runs it executes are canceled and their processes are gone before
the process exits (:func:`uet.lsp.features.runs.exit.stop_every_run`).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from uet.lsp.server import UetLanguageServer

__all__ = ["register", "run_serve"]

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
        with _ending():
            server.start_tcp(host, int(port))
        return 0
    from uet.lsp.framing import MessageReader, SerialOutput

    server = _server(args)
    output = SerialOutput(sys.stdout.buffer)
    with open(sys.stdin.fileno(), "rb", closefd=False) as client:  # typed: it has read1
        messages = MessageReader(client, output)
        with _ending():
            # readline/read/write suffice: pygls uses nothing else of the streams
            server.start_io(messages, output)  # type: ignore[arg-type]
    return server.exit_status


@contextlib.contextmanager
def _ending() -> Iterator[None]:
    """Serve within; afterwards, however serving ended (``exit``, end of input), every run
    the server executes is stopped. SIGTERM and SIGHUP stop the runs at once and end the
    process with 128 + the signal, without waiting for the thread that reads the input (the
    client may never close it, and pygls would wait for that thread)."""

    def on_signal(signum: int, frame: object) -> None:
        del frame
        for number in _END_SIGNALS:  # a second signal while runs stop changes nothing
            signal.signal(number, signal.SIG_IGN)
        _stop_runs(f"the language server ended ({signal.Signals(signum).name})")
        logging.shutdown()
        os._exit(128 + signum)

    previous = {signum: signal.signal(signum, on_signal) for signum in _END_SIGNALS}
    try:
        yield
    finally:
        try:
            _stop_runs("the language server ended")
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)


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
