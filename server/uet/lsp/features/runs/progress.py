"""Following one run from the editor: engine events hop to the event loop, work-done
progress (or log lines), ``uet/runStatus`` notifications and the closing summary.

The engine calls its subscribers on its own threads; :class:`EventRelay` only schedules
the event on the server's loop (``call_soon_threadsafe``) and returns, so the engine never
waits for the client; events that arrive before the loop took the previous ones travel
together (one wake-up of the loop per batch). :func:`follow` runs on the loop for each
run: ``create`` (when the client supports ``window.workDoneProgress``) → ``begin`` ("UET:
<workstream name>", cancellable) → ``report`` whenever tasks start or finish, coalesced to
at most one per :data:`REPORT_INTERVAL_SECONDS` → ``end`` with the summary; the token is
removed at the end. Clients without work-done progress get ``window/logMessage`` lines
instead (one per change of the finished count). Failed and skipped tasks are read into
diagnostics at most once per :data:`RESULTS_INTERVAL_SECONDS` while the run executes (only
those tasks), and once completely when it ends. Documented in docs/lsp-extensions.md.

``uet.engine`` is only imported for type checking here: the engine types arrive with the
run (importing the run feature must not load the engine).
"""

from __future__ import annotations

import asyncio
import logging
import math
import threading
import uuid
from collections.abc import Awaitable, Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.exceptions import JsonRpcException

from uet.lsp.convert import uri_of
from uet.lsp.server import UetLanguageServer

if TYPE_CHECKING:
    from uet.engine import EngineEvent, ProgressSnapshot, RunHandle

__all__ = [
    "REPORT_INTERVAL_SECONDS",
    "RESULTS_INTERVAL_SECONDS",
    "RUN_STATUS",
    "ActiveRun",
    "EventRelay",
    "follow",
    "format_seconds",
    "report_message",
    "summary_message",
]

log = logging.getLogger("uet.lsp")

RUN_STATUS = "uet/runStatus"
# At most one progress report per run in this interval (8 per second, so that with
# ``begin``, ``end`` and delivery jitter no second carries more than 10 ``$/progress``): a
# 200-task run must not flood the client, and people cannot read faster anyway.
REPORT_INTERVAL_SECONDS = 0.125
# At most one read of task results per run in this interval while it executes: each read
# queries the run store and may make the client pull the file's diagnostics again.
RESULTS_INTERVAL_SECONDS = 1.0
# How often a run whose end event never came (an engine error) is checked for its end.
_END_POLL_SECONDS = 1.0
_RUNNING_SHOWN = 2  # task names in a report; more are summarised as "+N"
_TERMINAL = {"succeeded", "failed", "canceled", "quarantined"}
_NO_NEWS = frozenset({"succeeded", "canceled"})  # task outcomes that add no diagnostic


@dataclass(eq=False)
class ActiveRun:
    """A run this server started or resumed, while it executes (event loop only)."""

    handle: RunHandle
    path: str  # the workstream file (symlinks resolved, as the index keys it)
    name: str
    workstream_id: str
    state: str = "running"
    reason: str | None = None
    canceling: bool = False
    token: str | None = None
    unread: set[str] = field(default_factory=set)  # tasks with news since the last read
    # Whether the editor shows a result diagnostic for a task (its success is then news).
    shown: Callable[[str], bool] = lambda task_id: False
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    opened: asyncio.Event = field(default_factory=asyncio.Event)  # set once progress began
    done: asyncio.Event = field(default_factory=asyncio.Event)  # set after the summary

    @property
    def run_id(self) -> str:
        """The engine's run id."""
        return self.handle.run_id

    @property
    def root(self) -> Path:
        """The engine workspace the run belongs to."""
        return self.handle.workspace.root

    def ended(self) -> bool:
        """Whether the engine finished the run (a method: it changes between awaits)."""
        return self.state in _TERMINAL

    def on_engine_event(self, event: EngineEvent) -> None:
        """Take one engine event (on the loop, through :class:`EventRelay`)."""
        from uet.engine import EngineEventKind  # loaded: the run brought it

        if event.kind in (EngineEventKind.TASK_FINISHED, EngineEventKind.TASK_SKIPPED):
            # Failures show during the run, and a success clears the task's diagnostic as
            # soon as it happens; other successes add nothing to read.
            task_id = event.task_id
            if task_id is not None and (str(event.state) not in _NO_NEWS or self.shown(task_id)):
                self.unread.add(task_id)
        elif event.kind is EngineEventKind.RUN_FINISHED:
            self.state = str(event.state or "failed")
            self.reason = event.detail
        self.changed.set()

    def status(self) -> dict[str, Any]:
        """The ``uet/runStatus`` payload (also what the run commands return)."""
        snapshot = self.handle.snapshot()
        return {
            "runId": self.run_id,
            "workstreamId": self.workstream_id,
            "workstreamName": self.name,
            "uri": uri_of(self.path),
            "workspace": str(self.root),
            "state": "canceling" if self.canceling and not self.ended() else self.state,
            "reason": self.reason,
            "token": self.token,
            "total": snapshot.total,
            "succeeded": snapshot.succeeded,
            "failed": snapshot.failed,
            "skipped": snapshot.skipped,
            "canceled": snapshot.canceled,
            "running": list(snapshot.running),
            "elapsedSeconds": round(snapshot.elapsed_seconds, 3),
        }


class EventRelay:
    """The engine subscriber of one run: hands its events to the server's loop.

    Events that arrive before :meth:`connect` (the run starts before the server has its
    handle) are kept and delivered on connection, in order. Output chunks are dropped on
    the engine's thread: the editor reads logs from their files. Events queue up until the
    loop takes them, so a burst costs one wake-up of the loop, not one per event.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._deliver: Callable[[EngineEvent], None] | None = None
        self._lock = threading.Lock()
        self._queued: list[EngineEvent] = []  # guarded by _lock
        self._scheduled = False  # a drain is on its way to the loop (guarded by _lock)
        self._early: list[EngineEvent] = []

    def __call__(self, event: EngineEvent) -> None:
        """Engine thread: queue ``event`` for the loop and return at once."""
        from uet.engine import EngineEventKind  # loaded: the engine calls us

        if event.kind is EngineEventKind.TASK_OUTPUT:
            return
        with self._lock:
            self._queued.append(event)
            if self._scheduled:
                return
            self._scheduled = True
        try:
            self._loop.call_soon_threadsafe(self._drain)
        except RuntimeError:  # the loop is closed: the server is exiting
            log.debug("dropped %s of run %s: the loop is closed", event.kind, event.run_id)

    def connect(self, deliver: Callable[[EngineEvent], None]) -> None:
        """Deliver events to ``deliver`` from now on (event loop)."""
        self._deliver = deliver
        early, self._early = self._early, []
        for event in early:
            deliver(event)

    def _drain(self) -> None:
        with self._lock:
            events, self._queued = self._queued, []
            self._scheduled = False
        if self._deliver is None:
            self._early.extend(events)
            return
        for event in events:
            self._deliver(event)


# Reads task results into diagnostics; answers the tasks to read again (see ``follow``).
ResultsHook = Callable[["ActiveRun", frozenset[str] | None], Awaitable[frozenset[str]]]


async def follow(
    server: UetLanguageServer,
    run: ActiveRun,
    *,
    on_cancel: Callable[[], None],
    on_results: ResultsHook,
) -> None:
    """Report ``run`` until it ends, then publish its results and summary (event loop).

    ``on_cancel`` is called when the user cancels the progress; ``on_results`` reads task
    results into diagnostics: those of the given tasks while the run executes, all of them
    (``None``) once it has ended. The engine commits what a task became a moment after it
    says so: tasks ``on_results`` did not find finished yet are read again at the next
    interval.
    """
    loop = asyncio.get_running_loop()
    reporter: _Reporter | None = None
    try:
        try:
            reporter = await _open(server, run, on_cancel)
        finally:
            run.opened.set()
        notify_status(server, run)
        last = reporter.last
        results_read = -math.inf
        while not run.ended():
            try:
                await asyncio.wait_for(run.changed.wait(), _END_POLL_SECONDS)
            except TimeoutError:
                _check_thread(run)
            run.changed.clear()
            if run.ended():
                break
            snapshot = run.handle.snapshot()
            message = report_message(snapshot)
            if run.canceling:
                message = f"canceling · {message}"
            if message != last:
                reporter.report(snapshot, message)
                last = message
            if run.unread and loop.time() - results_read >= RESULTS_INTERVAL_SECONDS:
                tasks, run.unread = frozenset(run.unread), set()
                results_read = loop.time()
                run.unread |= await on_results(run, tasks)
            await asyncio.sleep(REPORT_INTERVAL_SECONDS)  # coalesce what arrives meanwhile
        run.unread.clear()
        await on_results(run, None)
    finally:
        summary = summary_message(run.handle.snapshot())
        if reporter is not None:
            reporter.end(summary)
        _show_summary(server, run, summary)
        notify_status(server, run)
        run.done.set()


def notify_status(server: UetLanguageServer, run: ActiveRun) -> None:
    """Send ``uet/runStatus`` with the run's state now."""
    server.protocol.notify(RUN_STATUS, run.status())


def report_message(snapshot: ProgressSnapshot) -> str:
    """``"3/10 · implement running · ETA 12 s"``."""
    parts = [f"{snapshot.done}/{snapshot.total}"]
    running = list(snapshot.running)
    if running:
        shown = ", ".join(running[:_RUNNING_SHOWN])
        more = len(running) - _RUNNING_SHOWN
        parts.append(f"{shown}{f' +{more}' if more > 0 else ''} running")
    if snapshot.eta_seconds is not None and snapshot.done < snapshot.total:
        parts.append(f"ETA {format_seconds(snapshot.eta_seconds)}")
    return " · ".join(parts)


def summary_message(snapshot: ProgressSnapshot) -> str:
    """``"9 succeeded, 1 failed in 41 s"`` (outcomes that did not occur are left out)."""
    counts = [
        (snapshot.succeeded, "succeeded"),
        (snapshot.failed, "failed"),
        (snapshot.skipped, "skipped"),
        (snapshot.canceled, "canceled"),
    ]
    text = ", ".join(f"{count} {label}" for count, label in counts if count) or "no tasks"
    return f"{text} in {format_seconds(snapshot.elapsed_seconds)}"


def format_seconds(seconds: float) -> str:
    """``0.4 s``, ``41 s``, ``2 min 5 s``, ``1 h 3 min``."""
    if seconds < 9.95:
        return f"{seconds:.1f} s"
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min {whole % 60} s"
    return f"{whole // 3600} h {whole % 3600 // 60} min"


@dataclass(eq=False)
class _Reporter:
    """Where a run's progress goes: a work-done token, or log lines without one."""

    server: UetLanguageServer
    run: ActiveRun
    token: str | None
    last: str | None = None  # the message last sent
    logged_done: int = -1

    def report(self, snapshot: ProgressSnapshot, message: str) -> None:
        if self.token is not None:
            self.server.work_done_progress.report(
                self.token,
                types.WorkDoneProgressReport(message=message, percentage=int(snapshot.percent)),
            )
        elif snapshot.done != self.logged_done:
            self.logged_done = snapshot.done
            self.log_line(message)

    def end(self, summary: str) -> None:
        if self.token is None:
            self.log_line(f"{self.run.state}: {summary}")
            return
        try:
            self.server.work_done_progress.end(
                self.token, types.WorkDoneProgressEnd(message=summary)
            )
        finally:
            self.server.work_done_progress.tokens.pop(self.token, None)

    def log_line(self, message: str) -> None:
        self.server.window_log_message(
            types.LogMessageParams(
                type=types.MessageType.Info, message=f"UET: {self.run.name}: {message}"
            )
        )


async def _open(
    server: UetLanguageServer, run: ActiveRun, on_cancel: Callable[[], None]
) -> _Reporter:
    """Create the token and send ``begin`` (or the first log line)."""
    snapshot = run.handle.snapshot()
    if not server.state.client.work_done_progress:
        reporter = _Reporter(server, run, None)
        reporter.log_line(f"run {run.run_id} started ({snapshot.total} tasks)")
        return reporter
    token = f"uet-run-{run.run_id}-{uuid.uuid4().hex[:8]}"
    progress = server.work_done_progress
    try:
        await progress.create_async(token)
    except JsonRpcException as error:  # the client refused the token: report in the log
        log.warning("window/workDoneProgress/create failed: %s", error)
        return _Reporter(server, run, None)
    run.token = token
    message = report_message(snapshot)
    progress.begin(
        token,
        types.WorkDoneProgressBegin(
            title=f"UET: {run.name}",
            cancellable=True,
            message=message,
            percentage=int(snapshot.percent),
        ),
    )
    canceled: Future[Any] | None = progress.tokens.get(token)
    if canceled is not None:  # window/workDoneProgress/cancel cancels this future

        def on_done(future: Future[Any]) -> None:
            if future.cancelled():
                on_cancel()

        canceled.add_done_callback(on_done)
    return _Reporter(server, run, token, message)


def _check_thread(run: ActiveRun) -> None:
    """Notice a run whose thread ended without a run_finished event (engine error)."""
    if run.ended() or not run.handle.done:
        return
    try:
        result = run.handle.wait(0)
    except Exception as error:  # the engine's own error, already logged by the engine
        run.state, run.reason = "failed", f"engine error: {error}"
        return
    if result is not None:
        run.state, run.reason = str(result.state), result.reason


def _show_summary(server: UetLanguageServer, run: ActiveRun, summary: str) -> None:
    kind = {
        "succeeded": types.MessageType.Info,
        "canceled": types.MessageType.Warning,
    }.get(run.state, types.MessageType.Error)
    server.window_show_message(
        types.ShowMessageParams(type=kind, message=f"UET: {run.name} {run.state}: {summary}")
    )
