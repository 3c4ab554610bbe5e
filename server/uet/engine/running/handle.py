"""The handle on a run executing on its own thread, and how a run's session is assembled.

:class:`RunHandle` is what :func:`~uet.engine.running.start.start_run` and
:func:`~uet.engine.running.resume.resume_run` return: it runs the driver on a background thread and
lets the caller subscribe to progress events, cancel, and wait for the :class:`RunResult`.
:func:`new_session` builds the shared state of one run (writer thread, cancel token,
progress, breakers, adapters, schedule, app slots) with the writer's periodic work: the
heartbeat and cancel requests made by other processes.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from uet.engine.adapters.registry import build_registry
from uet.engine.cancel import CancelToken
from uet.engine.planning.plan import RunPlan
from uet.engine.planning.routing import AppStats
from uet.engine.planning.scheduler import DynamicSchedule
from uet.engine.running.dispatch import drive
from uet.engine.running.ownership import (
    HEARTBEAT_INTERVAL_SECONDS,
    Owner,
    heartbeat,
    pending_cancel_request,
)
from uet.engine.running.progress import EventBus, ProgressSnapshot, ProgressTracker, Subscriber
from uet.engine.running.resilience import Breaker, BreakerBoard
from uet.engine.running.session import RunOptions, RunSession
from uet.engine.running.slots import AppSlots
from uet.engine.store.lifecycle import RunState
from uet.engine.store.writer import StoreWriter
from uet.engine.workspace import Workspace

__all__ = [
    "RunHandle",
    "RunResult",
    "RunStore",
    "executing_runs",
    "new_session",
    "open_run_store",
]

log = logging.getLogger(__name__)


class RunResult(NamedTuple):
    """How a run ended."""

    run_id: str
    state: RunState
    reason: str | None
    snapshot: ProgressSnapshot

    @property
    def succeeded(self) -> bool:
        """Whether the run succeeded."""
        return self.state is RunState.SUCCEEDED


# The runs executing in this process (launched and not ended yet).
_executing_lock = threading.Lock()
_executing: set[RunHandle] = set()


def executing_runs() -> list[RunHandle]:
    """The runs executing in this process now: what a process about to end must stop."""
    with _executing_lock:
        return list(_executing)


class RunHandle:
    """A run executing on a background thread."""

    def __init__(self, session: RunSession, *, start: bool) -> None:
        self._session = session
        self._start = start
        self._result: RunResult | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(
            target=self._main, name=f"uet-run-{session.run_id}", daemon=True
        )

    @property
    def run_id(self) -> str:
        """The run's id (a ULID)."""
        return self._session.run_id

    @property
    def workspace(self) -> Workspace:
        """The workspace the run belongs to."""
        return self._session.plan.workspace

    @property
    def plan(self) -> RunPlan:
        """What the run executes."""
        return self._session.plan

    @property
    def done(self) -> bool:
        """Whether the run has ended."""
        return not self._thread.is_alive() and (self._result or self._error) is not None

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        """Receive the run's events from now on; returns the function that unsubscribes."""
        return self._session.bus.subscribe(subscriber)

    def snapshot(self) -> ProgressSnapshot:
        """The run's progress now."""
        return self._session.tracker.snapshot()

    def cancel(self, reason: str = "canceled by user") -> None:
        """Stop the run: running tasks are terminated, waiting ones never start."""
        session = self._session
        if self._thread.is_alive() and not session.cancel.canceled:
            session.user_canceled = True
            run_id = session.run_id
            session.writer.submit(
                lambda connection: connection.execute(
                    "UPDATE runs SET cancel_requested = 1, cancel_reason = ? WHERE run_id = ?",
                    (reason, run_id),
                )
            )
            session.cancel.cancel(reason)

    def wait(self, timeout: float | None = None) -> RunResult | None:
        """Wait for the end (``None`` after ``timeout`` seconds); re-raises engine errors."""
        self._thread.join(timeout)
        if self._thread.is_alive():
            return None
        if self._error is not None:
            raise self._error
        assert self._result is not None
        return self._result

    def launch(self) -> RunHandle:
        """Start executing on the run's thread (once); returns this handle."""
        with _executing_lock:
            _executing.add(self)
        self._thread.start()
        return self

    def _main(self) -> None:
        session = self._session
        try:
            session.process_record.open()
            state, reason = drive(session, start=self._start)
            self._result = RunResult(session.run_id, state, reason, session.tracker.snapshot())
        except BaseException as exc:
            log.exception("run %s stopped on an engine error", session.run_id)
            self._error = exc
            session.cancel.cancel("engine error")
        finally:
            with _executing_lock:
                _executing.discard(self)
            session.process_record.close()
            try:
                session.writer.close()
            finally:
                session.cancel.close()


class RunStore(NamedTuple):
    """A run's connection to its store: the writer thread and its periodic work."""

    writer: StoreWriter
    ticker: _Ticker


def open_run_store(db_path: Path, run_id: str, owner: Owner) -> RunStore:
    """Start the writer thread of run ``run_id`` (its connection open, migrations applied);
    raises :class:`~uet.engine.errors.StoreError` when the store cannot be used.

    A run talks to its store through this one connection from the start, so that recording
    the new run does not open and close a connection of its own: closing the last
    connection of a WAL database checkpoints it, which waits for the disk, and a run should
    pay that once, at its end.
    """
    ticker = _Ticker(run_id, owner)
    writer = StoreWriter(db_path, tick=ticker, name=f"uet-writer-{run_id}")
    writer.start()
    return RunStore(writer, ticker)


def new_session(
    plan: RunPlan,
    *,
    run_id: str,
    options: RunOptions,
    owner: Owner,
    breakers: dict[str, Breaker],
    stats: dict[str, AppStats],
    attempt_numbers: dict[str, int] | None = None,
    next_sequence: int = 1,
    store: RunStore | None = None,
) -> RunSession:
    """The session of run ``run_id`` (its writer thread started), not yet executing.

    ``attempt_numbers`` and ``next_sequence`` continue a resumed run's numbering; ``store``
    is the run's store opened earlier with :func:`open_run_store` (default: opened here).
    """
    if store is None:
        store = open_run_store(plan.workspace.db_path, run_id, owner)
    writer, ticker = store
    session = RunSession(
        run_id=run_id,
        plan=plan,
        options=options,
        owner=owner,
        writer=writer,
        cancel=CancelToken(),
        bus=EventBus(),
        tracker=ProgressTracker(run_id, len(plan.graph.order), plan.jobs),
        breakers=BreakerBoard(
            breakers,
            {app_id: app.breaker for app_id, app in plan.router.apps.items()},
            clock=options.clock or time.time,
            on_change=ticker.breaker_changed,
        ),
        registry=build_registry(plan.router),
        schedule=DynamicSchedule(plan.graph),
        stats=stats,
        attempt_numbers=dict(attempt_numbers or {}),
        next_sequence=next_sequence,
        app_slots=AppSlots(
            {
                app_id: app.max_parallel
                for app_id, app in plan.router.apps.items()
                if app.max_parallel is not None
            }
        ),
    )
    ticker.session = session
    return session


class _Ticker:
    """The writer's periodic work for one run: heartbeat, and cancel requests made by
    other processes (``uet cancel``) through the database."""

    def __init__(self, run_id: str, owner: Owner) -> None:
        self.run_id = run_id
        self.owner = owner
        self.session: RunSession | None = None
        self._last_beat = time.monotonic()  # the run was claimed (a heartbeat) just now

    def __call__(self, connection: sqlite3.Connection) -> None:
        session = self.session
        if session is None:
            return
        reason = pending_cancel_request(connection, self.run_id)
        if reason is not None and not session.cancel.canceled:
            session.user_canceled = True
            session.cancel.cancel(reason)
        if time.monotonic() - self._last_beat >= HEARTBEAT_INTERVAL_SECONDS:
            heartbeat(connection, self.run_id, self.owner)
            self._last_beat = time.monotonic()

    def breaker_changed(self, old: Breaker, new: Breaker) -> None:
        if self.session is not None:
            self.session.record_breaker(old, new)
