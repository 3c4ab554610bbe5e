"""``uet.engine.RunMonitor``: answers read from the SQLite run store that real runs wrote."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from engine_support import wait_until, write_workspace

from uet.engine import (
    RunMonitor,
    RunNotFoundError,
    RunOptions,
    RunResult,
    StoreError,
    start_run,
)

ROUTER = {
    "version": "1.0.0",
    "apps": {
        "flaky-app": {
            "kind": "tool",
            "command": ["unused"],
            "capabilities": {"task_kinds": ["flaky"]},
            "retry": {"retryable_exit_codes": [75], "max_attempts": 3},
        }
    },
    "routing": {"rules": []},
}


def run(path: Path) -> RunResult:
    result = start_run(path, options=RunOptions(sleep=lambda seconds: None)).wait(timeout=60)
    assert result is not None
    return result


def test_metrics_and_summary_of_a_run_with_retries_failures_and_skips(tmp_path: Path) -> None:
    path = write_workspace(
        tmp_path,
        [
            {"task_id": "ok", "program": ["sleep", "0"]},
            {"task_id": "flaky", "kind": "flaky", "program": ["flaky", "1", "75"]},
            {"task_id": "broken", "program": ["fail", "2"]},
            {"task_id": "after", "program": ["sleep", "0"], "depends_on": ["broken"]},
        ],
        router=ROUTER,
        strategy="continue",
    )
    result = run(path)
    assert result.state == "failed"

    with RunMonitor(tmp_path / ".uet" / "runs.db") as monitor:
        metrics = monitor.get_run_metrics(result.run_id)
        assert metrics.state == "failed"
        assert metrics.task_counts == {"succeeded": 2, "failed": 1, "skipped": 1}
        # ok: 1, flaky: 2 (one retried), broken: 1; the skipped task never ran.
        assert (metrics.attempts, metrics.failed_attempts, metrics.retries) == (4, 2, 1)
        assert metrics.p50_attempt_ms is not None and metrics.p50_attempt_ms > 0

        assert monitor.get_run_summary(result.run_id[:10]).run_id == result.run_id
        summary = monitor.get_summary()
        assert summary.runs_by_state == {"failed": 1}
        assert summary.active_runs == [] == monitor.list_active_runs()
        assert summary.attempts == 4
        apps = {app.app_id: app for app in summary.apps}
        assert apps["flaky-app"].attempts == 2
        assert apps["flaky-app"].success_rate == 0.5
        assert apps["flaky-app"].circuit_state == "closed"


def test_runs_are_listed_newest_first_and_unknown_ids_are_refused(tmp_path: Path) -> None:
    path = write_workspace(tmp_path, [{"task_id": "only", "program": ["sleep", "0"]}])
    first, second = run(path), run(path)
    with RunMonitor(tmp_path / ".uet" / "runs.db") as monitor:
        assert [summary.run_id for summary in monitor.list_runs()] == [
            second.run_id,
            first.run_id,
        ]
        assert [summary.run_id for summary in monitor.list_runs(limit=1)] == [second.run_id]
        with pytest.raises(RunNotFoundError):
            monitor.get_run_metrics("0000000000")
        with pytest.raises(RunNotFoundError, match="ambiguous"):
            monitor.get_run_metrics(first.run_id[:1])


def test_a_run_executing_now_is_active(tmp_path: Path) -> None:
    path = write_workspace(tmp_path, [{"task_id": "nap", "program": ["sleep", "60"]}])
    handle = start_run(path)
    try:
        with RunMonitor(str(tmp_path / ".uet" / "runs.db")) as monitor:
            assert wait_until(lambda: monitor.get_run_summary(handle.run_id).state == "running")
            assert monitor.get_run_summary(handle.run_id).active
            assert monitor.list_active_runs() == [handle.run_id]
            assert monitor.get_summary().runs_by_state == {"running": 1}
    finally:
        handle.cancel()
        result = handle.wait(timeout=60)
    assert result is not None and result.state == "canceled"


def test_there_must_be_a_store(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="there is no run store at"):
        RunMonitor(tmp_path / "nothing.db")
    assert not (tmp_path / "nothing.db").exists()
    (tmp_path / "not-a-database.db").write_text("just text")
    with pytest.raises(StoreError):
        RunMonitor(tmp_path / "not-a-database.db")


def test_close_releases_the_connection(tmp_path: Path) -> None:
    path = write_workspace(tmp_path, [{"task_id": "only", "program": ["sleep", "0"]}])
    run(path)
    monitor = RunMonitor(tmp_path / ".uet" / "runs.db")
    assert monitor.list_runs()
    monitor.close()
    with pytest.raises(sqlite3.ProgrammingError):
        monitor.list_runs()
