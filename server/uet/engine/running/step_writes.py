"""The buffer of a run's new attempts and step transitions, written in batches.

Worker threads record attempts and their transitions as they happen; the buffer keeps them
in order and asks the store writer for one flush at a time, which writes everything
buffered by then in one :func:`~uet.engine.store.transitions.apply_step_changes` call: a
busy run writes many tasks' steps per transaction, a quiet one each as it comes.
"""

from __future__ import annotations

import sqlite3
import threading

from uet.engine.store.lifecycle import NewStep, StepChange
from uet.engine.store.transitions import apply_step_changes
from uet.engine.store.writer import StoreWriter

__all__ = ["StepWrites"]


class StepWrites:
    """New attempts and step transitions of one run, queued for ``writer`` (thread-safe)."""

    def __init__(self, writer: StoreWriter) -> None:
        self._writer = writer
        self._lock = threading.Lock()
        self._created: list[NewStep] = []
        self._changes: list[StepChange] = []
        self._flush_queued = False

    def created(self, step: NewStep) -> None:
        """Queue the creation of a pending attempt."""
        with self._lock:
            self._created.append(step)
            self._queue_flush()

    def changed(self, change: StepChange) -> None:
        """Queue a step transition."""
        with self._lock:
            self._changes.append(change)
            self._queue_flush()

    def take(self) -> tuple[list[NewStep], list[StepChange]]:
        """Empty the buffer and return what it held (writer thread)."""
        with self._lock:
            created, self._created = self._created, []
            changes, self._changes = self._changes, []
            self._flush_queued = False
        return created, changes

    def _queue_flush(self) -> None:
        """Ask the writer for one flush of the buffer (caller holds the lock)."""
        if not self._flush_queued:
            self._flush_queued = True
            self._writer.submit(_Flush(self))


class _Flush:
    """One flush of the buffer, as a writer operation.

    The items are taken on the first call and kept, so that when the writer replays a
    failed batch this operation writes the same items again.
    """

    def __init__(self, buffer: StepWrites) -> None:
        self._buffer = buffer
        self._taken: tuple[list[NewStep], list[StepChange]] | None = None

    def __call__(self, connection: sqlite3.Connection) -> None:
        if self._taken is None:
            self._taken = self._buffer.take()
        created, changes = self._taken
        apply_step_changes(connection, changes, created=created)
