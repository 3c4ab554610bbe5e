"""Size-capped attempt logs.

A log keeps the first part of the output and the last ``tail`` bytes; what lies between is
replaced by one marker line, so a flooding task neither fills the disk nor loses the end of
its output (where errors usually are). The file is created on the first byte: a task without
output has no log file.
"""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

__all__ = ["CappedLog"]

_TAIL_BYTES = 64 * 1024


class CappedLog:
    """Writes at most about ``max_bytes`` of output to ``path`` (head + marker + tail)."""

    def __init__(self, path: Path, max_bytes: int) -> None:
        self._path = path
        self._max_bytes = max(max_bytes, 0)
        self._tail_limit = min(_TAIL_BYTES, self._max_bytes // 4)
        self._head_limit = self._max_bytes - self._tail_limit
        self._file: BinaryIO | None = None
        self._written = 0
        self._tail = bytearray()
        self.total_bytes = 0
        self._closed = False

    @property
    def path(self) -> Path:
        """Where the log is (or would be) written."""
        return self._path

    @property
    def truncated(self) -> bool:
        """Whether some output was left out."""
        return self.total_bytes > self._max_bytes

    @property
    def created(self) -> bool:
        """Whether the log file exists (there was output)."""
        return self._file is not None or self.total_bytes > 0

    def write(self, data: bytes) -> None:
        """Append an output chunk."""
        if not data:
            return
        self.total_bytes += len(data)
        room = self._head_limit - self._written
        if room > 0:
            head = data[:room]
            self._handle().write(head)
            self._written += len(head)
            data = data[room:]
        if data:
            self._tail += data
            if len(self._tail) > 2 * self._tail_limit:
                del self._tail[: len(self._tail) - self._tail_limit]

    def close(self) -> None:
        """Write the kept tail (after a marker when output was left out) and close."""
        if self.total_bytes == 0 or self._closed:
            return
        self._closed = True
        handle = self._handle()
        kept_tail = self._tail[-self._tail_limit :] if self._tail_limit else bytearray()
        omitted = self.total_bytes - self._written - len(kept_tail)
        if omitted > 0:
            handle.write(f"\n[uet: {omitted} bytes of output omitted]\n".encode())
        handle.write(kept_tail)
        handle.close()
        self._tail = bytearray()

    def _handle(self) -> BinaryIO:
        if self._file is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = self.path.open("wb")
        return self._file
