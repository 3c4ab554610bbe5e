"""``uet.engine.ProgressTracker``: counts, shares of running tasks and estimates, on an
injected clock."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from uet.engine import ProgressTracker


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_before_start_nothing_is_timed() -> None:
    snapshot = ProgressTracker("R", total_tasks=3).get_snapshot()
    assert (snapshot.completion_percent, snapshot.pending_tasks) == (0.0, 3)
    assert snapshot.started_at is None and snapshot.elapsed_seconds is None
    assert snapshot.estimated_remaining_seconds is None
    assert snapshot.estimated_completion is None


def test_shares_of_running_tasks_count_towards_completion() -> None:
    tracker = ProgressTracker("R", total_tasks=4, clock=FakeClock())
    tracker.start_task("a")
    tracker.start_task("b")
    tracker.update_task_progress(50.0)  # the task started last: b
    tracker.update_task_progress(250.0, task_id="a")  # clamped to 100
    snapshot = tracker.get_snapshot()
    assert snapshot.completion_percent == pytest.approx(100.0 * 1.5 / 4)
    assert snapshot.running_tasks == ("a", "b")
    tracker.complete_task("a")
    tracker.update_task_progress(-5.0)  # clamped to 0
    snapshot = tracker.get_snapshot()
    assert snapshot.completion_percent == pytest.approx(25.0)
    assert (snapshot.completed_tasks, snapshot.pending_tasks) == (1, 3)
    assert snapshot.running_tasks == ("b",)


def test_failed_and_skipped_tasks_are_done_too() -> None:
    tracker = ProgressTracker("R", total_tasks=4, clock=FakeClock())
    tracker.start_task("a")
    tracker.fail_task("a")
    tracker.skip_task("b")
    snapshot = tracker.get_snapshot()
    assert (snapshot.failed_tasks, snapshot.skipped_tasks, snapshot.completed_tasks) == (1, 1, 0)
    assert snapshot.completion_percent == 50.0
    assert snapshot.pending_tasks == 2


def test_elapsed_time_and_the_estimate_come_from_the_clock() -> None:
    clock = FakeClock(500.0)
    tracker = ProgressTracker("R", total_tasks=5, parallelism=2, clock=clock)
    tracker.start()
    clock.now = 502.0
    tracker.start_task("a")
    tracker.start_task("b")
    clock.now = 508.0
    tracker.complete_task("a")  # took 6 s
    tracker.complete_task("b", duration=2.0)  # timed by the caller
    before = datetime.now(UTC)
    snapshot = tracker.get_snapshot()
    after = datetime.now(UTC)
    assert snapshot.elapsed_seconds == 8.0
    # 3 tasks left, 4 s on average, 2 at a time.
    assert snapshot.estimated_remaining_seconds == pytest.approx(6.0)
    assert snapshot.estimated_completion is not None
    assert before + timedelta(seconds=6) <= snapshot.estimated_completion
    assert snapshot.estimated_completion <= after + timedelta(seconds=6)
    assert snapshot.started_at is not None and snapshot.started_at <= before


def test_the_first_task_starts_the_run_clock() -> None:
    clock = FakeClock(10.0)
    tracker = ProgressTracker("R", total_tasks=1, clock=clock)
    clock.now = 20.0
    tracker.start_task("only")
    clock.now = 23.0
    tracker.complete_task("only")
    snapshot = tracker.get_snapshot()
    assert snapshot.elapsed_seconds == 3.0
    assert snapshot.completion_percent == 100.0
    assert snapshot.estimated_remaining_seconds == 0.0


def test_misuse_is_refused() -> None:
    tracker = ProgressTracker("R", total_tasks=2, clock=FakeClock())
    with pytest.raises(ValueError, match="no task runs"):
        tracker.update_task_progress(10.0)
    tracker.start_task("a")
    with pytest.raises(ValueError, match="'b' is not running"):
        tracker.update_task_progress(10.0, task_id="b")
    tracker.complete_task("a")
    with pytest.raises(ValueError, match="has an outcome already"):
        tracker.complete_task("a")
    with pytest.raises(ValueError, match="has an outcome already"):
        tracker.start_task("a")
    assert tracker.get_snapshot().completed_tasks == 1
    with pytest.raises(ValueError):
        ProgressTracker("R", total_tasks=-1)


def test_an_empty_run_is_complete() -> None:
    assert ProgressTracker("R", total_tasks=0).get_snapshot().completion_percent == 100.0


def test_threads_reporting_at_once_are_all_counted() -> None:
    tracker = ProgressTracker("R", total_tasks=400, clock=FakeClock())

    def work(offset: int) -> None:
        for index in range(offset, offset + 100):
            tracker.start_task(f"t{index}")
            tracker.update_task_progress(50.0, task_id=f"t{index}")
            tracker.complete_task(f"t{index}", duration=1.0)

    threads = [threading.Thread(target=work, args=(start,)) for start in range(0, 400, 100)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    snapshot = tracker.get_snapshot()
    assert (snapshot.completed_tasks, snapshot.completion_percent) == (400, 100.0)
    assert snapshot.running_tasks == ()
