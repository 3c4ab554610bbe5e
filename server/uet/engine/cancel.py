"""Cancellation tokens: a flag threads can wait on and a file descriptor pollers can watch.

A worker blocked in ``poll()`` on a child's output wakes up as soon as the run is canceled
because the token's read end becomes readable; no thread has to poll a flag.
"""

from __future__ import annotations

import os
import threading

__all__ = ["CancelToken"]


class CancelToken:
    """Set once (with a reason) to cancel everything watching it. Close it when done."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._reason: str | None = None
        self._read_fd, self._write_fd = os.pipe()
        os.set_blocking(self._write_fd, False)
        self._closed = False

    @property
    def canceled(self) -> bool:
        """Whether :meth:`cancel` was called."""
        return self._event.is_set()

    @property
    def reason(self) -> str | None:
        """The reason given to the first :meth:`cancel` call."""
        return self._reason

    def cancel(self, reason: str = "canceled") -> bool:
        """Cancel (only the first call counts); returns whether this call canceled."""
        with self._lock:
            if self.canceled:
                return False
            self._reason = reason
            self._event.set()
            if not self._closed:
                os.write(self._write_fd, b"x")
        return True

    def wait(self, timeout: float | None = None) -> bool:
        """Sleep up to ``timeout`` seconds or until canceled; returns whether canceled."""
        return self._event.wait(timeout)

    def fileno(self) -> int:
        """A descriptor that becomes readable (and stays so) once canceled."""
        return self._read_fd

    def close(self) -> None:
        """Release the descriptors (the flag keeps working)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            os.close(self._read_fd)
            os.close(self._write_fd)

    def __enter__(self) -> CancelToken:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
