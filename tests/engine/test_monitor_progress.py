"""Progress snapshots (fake clock), the event bus, the store writer, and the run monitor."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
from engine_support import write_workspace

from uet.engine.running.monitor import list_runs, run_metrics, system_summary, task_statuses
from uet.engine.running.progress import (
    EngineEvent,
    EngineEventKind,
    EventBus,
    KindFilter,
    ProgressTracker,
)
from uet.engine.running.session import RunOptions
from uet.engine.running.start import start_run
from uet.engine.store.database import connect
from uet.engine.store.writer import StoreWriter


def test_snapshot_counts_percent_running_and_eta() -> None:
    now = [100.0]
    tracker = ProgressTracker("R", total=10, parallelism=2, clock=lambda: now[0])
    empty = tracker.snapshot()
    assert (empty.done, empty.percent, empty.eta_seconds) == (0, 0.0, None)
    tracker.started("a")
    tracker.started("b")
    now[0] = 104.0
    tracker.finished("a", "succeeded")  # took 4 s
    tracker.started("a")  # started again (a resumed run): running once more
    tracker.finished("skipme", "skipped")
    snap = tracker.snapshot()
    assert snap.done == 2 and snap.percent == 20.0
    assert set(snap.running) == {"b", "a"}
    assert snap.elapsed_seconds == 4.0
    # 8 tasks left, 4 s each, 2 at a time.
    assert snap.eta_seconds == pytest.approx(16.0)
    tracker.restore(succeeded=5, failed=1, skipped=1, canceled=1)
    assert tracker.snapshot().done == 8


def test_bus_survives_a_failing_subscriber(caplog: pytest.LogCaptureFixture) -> None:
    bus = EventBus()
    seen: list[EngineEvent] = []

    def broken(event: EngineEvent) -> None:
        raise RuntimeError("boom")

    bus.subscribe(broken)
    unsubscribe = bus.subscribe(seen.append)
    tracker = ProgressTracker("R", 1, 1)
    event = EngineEvent(EngineEventKind.RUN_STARTED, "R", tracker.snapshot())
    bus.publish(event)
    assert seen == [event]
    assert "progress subscriber" in caplog.text
    unsubscribe()
    bus.publish(event)
    assert seen == [event]


def test_a_kind_filter_receives_only_its_kinds_and_the_others_are_not_built(
    tmp_path: Path,
) -> None:
    bus = EventBus()
    finished: list[EngineEvent] = []
    unsubscribe = bus.subscribe(
        KindFilter(frozenset({EngineEventKind.TASK_FINISHED}), finished.append)
    )
    assert bus.active and bus.wants(EngineEventKind.TASK_FINISHED)
    assert not bus.wants(EngineEventKind.TASK_STARTED)
    assert not bus.wants(EngineEventKind.TASK_OUTPUT)
    everything: list[EngineEvent] = []
    bus.subscribe(everything.append)
    assert bus.wants(EngineEventKind.TASK_OUTPUT)
    snapshot = ProgressTracker("R", 1, 1).snapshot()
    started = EngineEvent(EngineEventKind.TASK_STARTED, "R", snapshot, task_id="a")
    done = EngineEvent(EngineEventKind.TASK_FINISHED, "R", snapshot, task_id="a")
    bus.publish(started)
    bus.publish(done)
    assert (finished, everything) == ([done], [started, done])
    unsubscribe()
    bus.publish(done)
    assert (finished, everything) == ([done], [started, done, done])

    # In a run: the filtered subscriber gets its kinds, in order, and nothing else.
    path = write_workspace(
        tmp_path,
        [{"task_id": f"t{i}", "program": ["sleep", "0"]} for i in range(3)],
        max_parallel=2,
    )
    wanted = frozenset({"run_started", "task_finished"})  # values do as well as members
    filtered: list[EngineEvent] = []
    handle = start_run(path, subscribers=[KindFilter(wanted, filtered.append)])
    result = handle.wait(timeout=30)
    assert result is not None and result.succeeded
    assert [event.kind for event in filtered] == [
        EngineEventKind.RUN_STARTED,
        *[EngineEventKind.TASK_FINISHED] * 3,
    ]
    assert [event.snapshot.done for event in filtered] == [0, 1, 2, 3]


def test_writer_batches_in_order_and_isolates_a_failing_operation(db_path: Path) -> None:
    connect(db_path).close()
    writer = StoreWriter(db_path)
    writer.start()
    try:
        writer.submit(lambda c: c.execute("CREATE TABLE t (n INTEGER PRIMARY KEY)"))
        for number in range(100):
            writer.submit(lambda c, number=number: c.execute("INSERT INTO t VALUES (?)", (number,)))
        writer.submit(lambda c: c.execute("INSERT INTO t VALUES (5)"))  # duplicate: fails
        writer.submit(lambda c: c.execute("INSERT INTO t VALUES (1000)"))
        assert writer.call(lambda c: c.execute("SELECT COUNT(*) FROM t").fetchone()[0]) == 101
        assert isinstance(writer.failure, sqlite3.IntegrityError)
        with pytest.raises(sqlite3.OperationalError):
            writer.call(lambda c: c.execute("SELECT * FROM missing"))
    finally:
        writer.close()
    writer.close()  # idempotent


def test_writer_ticks_between_batches(db_path: Path) -> None:
    ticked = threading.Event()
    writer = StoreWriter(db_path, tick=lambda connection: ticked.set(), tick_interval=0.01)
    writer.start()
    try:
        assert ticked.wait(5)
    finally:
        writer.close()


def test_monitor_answers_from_the_store(tmp_path: Path) -> None:
    path = write_workspace(
        tmp_path,
        [
            {"task_id": "ok", "command": ["true"]},
            {"task_id": "bad", "command": ["false"]},
            {"task_id": "never", "command": ["true"], "depends_on": ["bad"]},
        ],
        strategy="continue",
    )
    result = start_run(path, options=RunOptions(jobs=2)).wait(timeout=30)
    assert result is not None
    connection = connect(tmp_path / ".uet" / "runs.db")
    try:
        (summary,) = list_runs(connection)
        assert summary.run_id == result.run_id
        assert summary.task_counts == {"succeeded": 1, "failed": 1, "skipped": 1}
        assert summary.total_tasks == 3 and not summary.active
        statuses = {status.task_id: status for status in task_statuses(connection, result.run_id)}
        assert statuses["bad"].exit_code == 1 and statuses["bad"].attempts == 1
        assert statuses["never"].attempts == 0
        unsuccessful = task_statuses(connection, result.run_id, outcomes=("failed", "skipped"))
        assert [(status.task_id, status.state) for status in unsuccessful] == [
            ("bad", "failed"),
            ("never", "skipped"),
        ]
        metrics = run_metrics(connection, result.run_id)
        assert (metrics.attempts, metrics.failed_attempts, metrics.retries) == (2, 1, 0)
        assert metrics.p95_attempt_ms is not None and metrics.mean_attempt_ms is not None
        system = system_summary(connection)
        assert system.runs_by_state == {"failed": 1}
        assert system.active_runs == []
        (app,) = system.apps
        assert (app.app_id, app.attempts, app.success_rate) == ("uet.command", 2, 0.5)
    finally:
        connection.close()
