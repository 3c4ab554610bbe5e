"""Nothing of an attempt outlives it: escaped grandchildren, background members of the
group, the parent-death signal and the process-group record, with real processes."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from engine_support import process_alive, wait_until, write_workspace

from uet.engine.adapters.base import AdapterRequest, AdapterResult, AttemptStatus
from uet.engine.adapters.spawn import Child, spawn
from uet.engine.adapters.subprocess import SubprocessAdapter
from uet.engine.cancel import CancelToken
from uet.engine.runner import start_run
from uet.engine.session import RunOptions, process_record_path
from uet.engine.states import RunState
from uet.engine.workspace import Workspace

# A failure guard only: every attempt below ends in about a second when the engine works,
# and would hang for 300 s when it does not.
GUARD_SECONDS = 60


def _execute(
    tmp_path: Path, script: str, cancel_after: float | None = None, **fields: object
) -> AdapterResult:
    """Run ``sh -c script`` through the adapter on another thread (canceled after
    ``cancel_after`` seconds), failing instead of hanging."""
    request = AdapterRequest(
        argv=("sh", "-c", script),
        cwd=tmp_path,
        log_path=tmp_path / "attempt.log",
        **fields,  # type: ignore[arg-type]
    )
    with CancelToken() as token, ThreadPoolExecutor(1) as pool:
        timer = None
        if cancel_after is not None:
            timer = threading.Timer(cancel_after, token.cancel, args=("stop",))
            timer.start()
        try:
            return pool.submit(SubprocessAdapter().execute, request, token).result(
                timeout=GUARD_SECONDS
            )
        finally:
            if timer is not None:
                timer.cancel()


def _pid(path: Path) -> int:
    assert wait_until(lambda: path.exists() and path.read_text().strip() != "", timeout=10)
    return int(path.read_text())


def _gone(pid: int) -> bool:
    """Neither running nor a zombie waiting for us: killed and reaped."""
    return not Path(f"/proc/{pid}").exists() or not process_alive(pid)


def test_cancel_ends_although_a_grandchild_left_the_group_holding_the_output(
    tmp_path: Path,
) -> None:
    escaped = tmp_path / "escaped.pid"
    result = _execute(
        tmp_path, f"setsid sleep 300 & echo $! > {escaped}; sleep 300", cancel_after=0.5
    )
    pid = _pid(escaped)
    assert result.status is AttemptStatus.CANCELED
    assert wait_until(lambda: _gone(pid), timeout=5)
    assert result.escaped == (f"pid {pid} (sleep)",)
    assert f"left its process group: pid {pid} (sleep)" in result.reason
    assert f"pid {pid} (sleep)" in (tmp_path / "attempt.log").read_text()


def test_a_timeout_ends_although_an_escaped_grandchild_holds_the_output(tmp_path: Path) -> None:
    # `setsid sleep 300 & true` with a 3 s timeout: the leader is done at once, the
    # escaped sleep keeps the output open; the attempt ends without waiting for it.
    escaped = tmp_path / "escaped.pid"
    result = _execute(tmp_path, f"setsid sleep 300 & echo $! > {escaped}; true", timeout_seconds=3)
    pid = _pid(escaped)
    assert result.status in (AttemptStatus.COMPLETED, AttemptStatus.TIMED_OUT)
    assert result.escaped == (f"pid {pid} (sleep)",)
    assert wait_until(lambda: _gone(pid), timeout=5)


def test_background_members_of_the_group_do_not_outlive_a_finished_attempt(
    tmp_path: Path,
) -> None:
    # The background sleep closed its output: the attempt ends with its leader, and the
    # group is swept; the sleep, re-parented to the engine, is reaped (no zombie left).
    background = tmp_path / "background.pid"
    result = _execute(tmp_path, f"sleep 300 >/dev/null 2>&1 & echo $! > {background}")
    assert result.status is AttemptStatus.COMPLETED
    pid = _pid(background)
    assert wait_until(lambda: not Path(f"/proc/{pid}").exists(), timeout=5)


def test_a_child_dies_with_the_thread_that_started_it(tmp_path: Path) -> None:
    started: list[Child] = []
    thread = threading.Thread(
        target=lambda: started.append(spawn(("sleep", "300"), tmp_path, None))
    )
    thread.start()
    thread.join(GUARD_SECONDS)
    child = started[0]
    try:
        # The parent-death signal: the thread that started it ended.
        assert wait_until(lambda: child.poll() is not None, timeout=10)
        assert child.wait() == -signal.SIGKILL
    finally:
        child.abandon()
        child.close_output()


def _run(root: Path, tasks: list[dict[str, object]]) -> tuple[str, RunState]:
    write_workspace(root, tasks)
    handle = start_run(root / "ws.json", workspace=Workspace(root), options=RunOptions(jobs=2))
    result = handle.wait(GUARD_SECONDS)
    assert result is not None, "the run hung"
    return result.run_id, result.state


def _events(root: Path, run_id: str) -> list[dict[str, object]]:
    connection = sqlite3.connect(root / ".uet" / "runs.db")
    try:
        return [
            json.loads(row[0])
            for row in connection.execute(
                "SELECT payload_json FROM run_events WHERE run_id = ?", (run_id,)
            )
        ]
    finally:
        connection.close()


def test_every_child_is_recorded_before_its_command_runs(tmp_path: Path) -> None:
    # Each task checks that its own process group is in the run's record when it starts.
    check = 'grep -q "^$$ " .uet/logs/$UET_RUN_ID/process-groups && echo "$UET_ATTEMPT_ID"'
    tasks = [{"task_id": f"t{i}", "command": ["sh", "-c", check]} for i in range(6)]
    run_id, state = _run(tmp_path, tasks)
    assert state is RunState.SUCCEEDED
    record = process_record_path(tmp_path / ".uet" / "logs" / run_id).read_text().splitlines()
    assert len(record) == 6
    connection = sqlite3.connect(tmp_path / ".uet" / "runs.db")
    try:
        attempts = {
            row[0]: row[1]
            for row in connection.execute(
                "SELECT step_attempt_id, process_group FROM step_attempts WHERE run_id = ?",
                (run_id,),
            )
        }
    finally:
        connection.close()
    assert {(int(line.split()[0]), line.split()[2]) for line in record} == {
        (group, attempt) for attempt, group in attempts.items()
    }


def test_a_run_kills_what_left_its_group_and_closed_its_output(tmp_path: Path) -> None:
    escaped = tmp_path / "escaped.pid"
    script = f"setsid sleep 300 >/dev/null 2>&1 & echo $! > {escaped}; sleep 0.5"
    run_id, state = _run(tmp_path, [{"task_id": "leaves", "command": ["sh", "-c", script]}])
    assert state is RunState.SUCCEEDED
    pid = _pid(escaped)
    assert wait_until(lambda: _gone(pid), timeout=5)
    notes = [event for event in _events(tmp_path, run_id) if "processes" in event]
    assert notes and f"pid {pid} (sleep)" in notes[0]["processes"]  # type: ignore[operator]
    assert os.environ.get("UET_RUN_ID") != run_id  # the engine itself is not marked
