"""The store writer: one thread that owns a connection and applies queued writes in batches.

Engine threads never wait for the disk: they queue operations (functions of a connection)
and go on. The writer takes everything queued so far and applies it in one
``BEGIN IMMEDIATE`` transaction, so a busy run commits many attempts per fsync-free WAL
commit while a quiet one commits each write at once. Operations are applied in the order
they were queued; this ordering is what makes batching safe for exactly-once (a task's
completion is always committed before anything that depends on it).

While writes keep coming, commits are grouped (at most one per
:data:`GROUP_COMMIT_SECONDS`); a caller waiting on :meth:`StoreWriter.call` is never delayed.

If a batch fails, it is rolled back and replayed one operation per transaction, so one
bad operation cannot take the others down; its error is kept in :attr:`StoreWriter.failure`
(and raised to a :meth:`StoreWriter.call` caller). Between batches the writer runs a
periodic ``tick`` (the runner's heartbeat and cancel-request check).
"""

from __future__ import annotations

import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from uet.engine.errors import StoreError
from uet.engine.store.database import connect, transaction

__all__ = ["GROUP_COMMIT_SECONDS", "Operation", "StoreWriter"]

log = logging.getLogger(__name__)

T = TypeVar("T")
Operation = Callable[[sqlite3.Connection], Any]
_MAX_BATCH = 2000
# Commit at most this often while writes keep coming: a WAL commit writes whole pages, so
# committing every few tasks costs more than the tasks' rows, and a longer window gains
# little more (benchmarks/engine_overhead.py). Waiters (call, flush) never wait for it. A
# crash loses at most this much of the most recent history, which resume treats like any
# interruption.
GROUP_COMMIT_SECONDS = 0.05


@dataclass
class _Item:
    """One queued write: ``operation`` (``None`` for a stop request), the future its caller
    waits on (``None`` for fire-and-forget writes), and its result once applied."""

    operation: Operation | None
    future: Future[Any] | None = None
    stop: bool = False
    result: Any = None


class StoreWriter:
    """Applies queued operations to the database at ``db_path`` from its own thread."""

    def __init__(
        self,
        db_path: Path,
        *,
        tick: Callable[[sqlite3.Connection], None] | None = None,
        tick_interval: float = 0.25,
        group_commit_seconds: float = GROUP_COMMIT_SECONDS,
        name: str = "uet-store-writer",
    ) -> None:
        self._db_path = db_path
        self._tick = tick
        self._tick_interval = tick_interval
        self._group_commit_seconds = group_commit_seconds
        self._urgent = threading.Event()  # set by waiters: cut the group-commit window
        self._queue: queue.SimpleQueue[_Item] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._main, name=name, daemon=True)
        self._ready: Future[None] = Future()
        self.failure: BaseException | None = None

    def start(self) -> None:
        """Start the thread (and open its connection); raises StoreError if it cannot."""
        self._thread.start()
        self._ready.result()

    def submit(self, operation: Operation) -> None:
        """Queue ``operation``; it runs in a later batch transaction."""
        self._queue.put(_Item(operation))

    def call(self, operation: Callable[[sqlite3.Connection], T]) -> T:
        """Queue ``operation`` and wait until it is committed; returns its result."""
        future: Future[T] = Future()
        self._queue.put(_Item(operation, future))
        self._urgent.set()
        return future.result()

    def flush(self) -> None:
        """Wait until everything queued before this call is committed."""
        self.call(lambda _connection: None)

    def close(self) -> None:
        """Commit what is queued, stop the thread and close its connection."""
        if not self._thread.is_alive():
            return
        future: Future[None] = Future()
        self._queue.put(_Item(None, future, stop=True))
        self._urgent.set()
        future.result()
        self._thread.join()

    def _main(self) -> None:
        try:
            connection = connect(self._db_path)
        except StoreError as exc:
            self._ready.set_exception(exc)
            return
        self._ready.set_result(None)
        try:
            self._loop(connection)
        finally:
            connection.close()

    def _loop(self, connection: sqlite3.Connection) -> None:
        next_tick = time.monotonic()
        last_commit = 0.0
        while True:
            if self._tick is not None and time.monotonic() >= next_tick:
                self._run_tick(connection)
                next_tick = time.monotonic() + self._tick_interval
            try:
                first = self._queue.get(timeout=max(0.0, next_tick - time.monotonic()))
            except queue.Empty:
                continue
            batch = self._gather(first, last_commit + self._group_commit_seconds)
            self._apply(connection, batch)
            last_commit = time.monotonic()
            if any(item.stop for item in batch):
                return

    def _gather(self, first: _Item, not_before: float) -> list[_Item]:
        """``first`` and what follows it: everything queued by the end of the group-commit
        window (``not_before``), or right away when someone waits for the batch. The
        window is slept through in one wait, not woken by every queued write."""
        if first.future is None and not first.stop:
            remaining = not_before - time.monotonic()
            if remaining > 0 and self._urgent.wait(remaining):
                self._urgent.clear()
        batch = [first]
        while len(batch) < _MAX_BATCH:
            try:
                batch.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return batch

    def _apply(self, connection: sqlite3.Connection, batch: list[_Item]) -> None:
        errors: dict[int, BaseException] = {}
        try:
            with transaction(connection):
                for item in batch:
                    if item.operation is not None:
                        item.result = item.operation(connection)
        except Exception:
            log.debug("batch of %d failed; replaying one by one", len(batch), exc_info=True)
            errors = self._replay(connection, batch)
        for index, item in enumerate(batch):
            if item.future is None:
                continue
            if index in errors:
                item.future.set_exception(errors[index])
            else:
                item.future.set_result(item.result)

    def _replay(
        self, connection: sqlite3.Connection, batch: list[_Item]
    ) -> dict[int, BaseException]:
        errors: dict[int, BaseException] = {}
        for index, item in enumerate(batch):
            if item.operation is None:
                continue
            try:
                with transaction(connection):
                    item.result = item.operation(connection)
            except Exception as exc:
                errors[index] = exc
                if item.future is None:
                    log.error("run store write failed: %s", exc, exc_info=exc)
                    if self.failure is None:
                        self.failure = exc
        return errors

    def _run_tick(self, connection: sqlite3.Connection) -> None:
        assert self._tick is not None
        try:
            self._tick(connection)
        except (sqlite3.Error, StoreError) as exc:
            log.warning("run store tick failed: %s", exc)
