"""Per-app ``limits.max_parallel``: a task waiting for its app's slot is parked, not
blocking a worker, so other ready tasks run meanwhile; parked tasks are canceled with the
run. Real subprocesses (the journaling program of ``engine_support``)."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from engine_support import check_run_artifacts, journal, task_states, write_workspace

from uet.engine.running.progress import EngineEvent, EngineEventKind
from uet.engine.running.session import RunOptions
from uet.engine.running.slots import AppSlots
from uet.engine.running.start import start_run
from uet.engine.store.lifecycle import RunState

ROUTER: dict[str, Any] = {
    "version": "1.0.0",
    "apps": {
        "single": {
            "kind": "tool",
            "command": ["false"],  # never used: every task brings its own command
            "capabilities": {"task_kinds": ["slow"]},
            "limits": {"max_parallel": 1},
        }
    },
    "routing": {"rules": []},
}


def _slow(task_id: str, seconds: str) -> dict[str, Any]:
    return {"task_id": task_id, "kind": "slow", "tool": "single", "program": ["sleep", seconds]}


def test_a_task_waiting_for_its_app_lets_other_ready_tasks_run(tmp_path: Path) -> None:
    path = write_workspace(
        tmp_path,
        [
            _slow("s1", "0.6"),
            _slow("s2", "0.6"),
            *({"task_id": f"f{i}", "program": ["sleep", "0"]} for i in range(3)),
        ],
        router=ROUTER,
        max_parallel=2,
    )
    handle = start_run(path, options=RunOptions(jobs=2))
    result = handle.wait(timeout=60)
    assert result is not None and result.state is RunState.SUCCEEDED
    times = {(event, name): moment for event, name, moment in journal(tmp_path)}
    # The second worker did not sit on s2's slot: the fast tasks ran while s1 ran.
    for fast in ("f0", "f1", "f2"):
        assert times["end", fast] < times["end", "s1"]
    # The app never ran two attempts at once.
    assert times["start", "s2"] >= times["end", "s1"]
    check_run_artifacts(tmp_path / ".uet" / "runs.db", result.run_id)


def test_parked_tasks_are_canceled_with_the_run(tmp_path: Path) -> None:
    path = write_workspace(
        tmp_path,
        [_slow("s1", "30"), _slow("s2", "0"), _slow("s3", "0")],
        router=ROUTER,
    )
    started = threading.Event()

    def on_event(event: EngineEvent) -> None:
        if event.kind is EngineEventKind.TASK_STARTED and event.task_id == "s1":
            started.set()

    handle = start_run(
        path,
        options=RunOptions(jobs=3, kill_grace_seconds=1.0),
        subscribers=[on_event],
    )
    assert started.wait(30)
    time.sleep(0.2)  # let the other workers take s2 and s3 and park them
    handle.cancel("stop")
    result = handle.wait(timeout=30)
    assert result is not None and result.state is RunState.CANCELED
    states = task_states(tmp_path / ".uet" / "runs.db", result.run_id)
    assert states["s1"][0] == "canceled"
    assert states["s2"] == ("canceled", "canceled before it started: stop")
    assert states["s3"] == ("canceled", "canceled before it started: stop")
    started_tasks = {name for event, name, _ in journal(tmp_path) if event == "start"}
    assert started_tasks == {"s1"}
    connection = sqlite3.connect(tmp_path / ".uet" / "runs.db")
    try:
        attempted = {row[0] for row in connection.execute("SELECT task_id FROM step_attempts")}
    finally:
        connection.close()
    assert attempted == {"s1"}  # a parked task never got an attempt
    check_run_artifacts(tmp_path / ".uet" / "runs.db", result.run_id)


def test_slots_hand_parked_tasks_back_one_release_at_a_time() -> None:
    slots = AppSlots({"app": 1})
    assert slots.limited("app") and not slots.limited("other") and not slots.limited(None)
    assert slots.take_or_park("app", "a")
    assert not slots.take_or_park("app", "b")
    assert not slots.take_or_park("app", "c")
    assert slots.release("app") == "b"  # the slot is free again; b asks for it
    assert slots.take_or_park("app", "b")
    assert slots.release("app") == "c"
    assert slots.drain() == []
    assert slots.take_or_park("app", "c")
    assert not slots.take_or_park("app", "d")
    assert slots.drain() == ["d"]
    assert slots.release("app") is None
