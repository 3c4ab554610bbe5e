"""How ``uet run`` and ``uet resume`` stop on SIGINT, SIGTERM and SIGHUP: the first one
cancels the run with its own reason (:data:`STOP_REASONS`), and the command exits with
128 + the signal's number. The run's children live in their own process groups, so they are
stopped by the engine, never by the signal.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from uet.engine import RunHandle

__all__ = ["STOP_REASONS", "StopSignals"]

# The signals a terminal (or a session ending) sends, and how a run they cancel records them.
STOP_REASONS = {
    signal.SIGINT: "interrupted (Ctrl-C)",
    signal.SIGTERM: "terminated (SIGTERM)",
    signal.SIGHUP: "hung up (SIGHUP: the terminal was closed)",
}


class StopSignals:
    """SIGINT, SIGTERM and SIGHUP while a run executes (main thread only): the first one
    cancels the run with its own reason (:data:`STOP_REASONS`).

    SIGHUP means the terminal is gone: the standard streams that were terminals are pointed
    at ``/dev/null`` first, so that the progress display and the summary do not fail."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self._handle: RunHandle | None = None
        self._terminals = [fd for fd in (1, 2) if _is_terminal(fd)]

    @contextmanager
    def catching(self) -> Iterator[None]:
        """Route the stop signals here while the body runs."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {signum: signal.signal(signum, self._on_signal) for signum in STOP_REASONS}
        try:
            yield
        finally:
            for signum, old_handler in previous.items():
                signal.signal(signum, old_handler)

    def follow(self, handle: RunHandle) -> None:
        """The run to cancel (at once, if a signal came while it was being started)."""
        self._handle = handle
        if self.signum is not None:
            handle.cancel(STOP_REASONS[signal.Signals(self.signum)])

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        del frame
        if signum == signal.SIGHUP:
            self._silence_terminals()
        if self.signum is not None:
            return  # canceling already
        self.signum = signum
        reason = STOP_REASONS[signal.Signals(signum)]
        with contextlib.suppress(OSError, ValueError):
            print(f"\n{reason}: canceling (tasks get SIGTERM, then SIGKILL)…", file=sys.stderr)
            sys.stderr.flush()
        if self._handle is not None:
            self._handle.cancel(reason)

    def _silence_terminals(self) -> None:
        if not self._terminals:
            return
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            for fd in self._terminals:
                os.dup2(devnull, fd)
        finally:
            os.close(devnull)
        self._terminals = []


def _is_terminal(fd: int) -> bool:
    try:
        return os.isatty(fd)
    except OSError:
        return False
