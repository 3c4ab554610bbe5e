"""Per-app ``limits.max_parallel``: a task waiting for its app's slot is parked, not
blocking a worker, so other ready tasks run meanwhile; parked tasks are canceled with the
run. Real subprocesses (the journaling program of ``engine_support``)."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

from engine_support import (
    check_run_artifacts,
    journal,
    task_states,
    wait_until,
    write_workspace,
)

from uet.engine.running.jobs import Job, JobHandler, ThreadPoolExecutor
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


def _slow(task_id: str, *program: str) -> dict[str, Any]:
    return {"task_id": task_id, "kind": "slow", "tool": "single", "program": list(program)}


class WatchedExecutor(ThreadPoolExecutor):
    """The run's executor, telling which jobs have returned to it: a job of a task that
    returned without an outcome was parked."""

    def __init__(self, workers: int) -> None:
        super().__init__(workers)
        self.returned: list[str] = []
        self.changed = threading.Condition()

    def start(self, handler: JobHandler) -> None:
        def watched(job: Job) -> None:
            handler(job)
            with self.changed:
                self.returned.append(job.task_id)
                self.changed.notify_all()

        super().start(watched)

    def wait_returned(self, *task_ids: str) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: set(task_ids) <= set(self.returned), 30)


def test_a_task_waiting_for_its_app_lets_other_ready_tasks_run(tmp_path: Path) -> None:
    # Whichever slow task gets the app's slot ends only once the fast tasks have ended: they
    # must run on the other worker meanwhile, which cannot wait for the slot itself.
    fast = [f"f{i}" for i in range(3)]
    path = write_workspace(
        tmp_path,
        [
            _slow("s1", "await", *fast),
            _slow("s2", "await", *fast),
            *({"task_id": name, "program": ["sleep", "0"]} for name in fast),
        ],
        router=ROUTER,
        max_parallel=2,
    )
    handle = start_run(path, options=RunOptions(jobs=2))
    result = handle.wait(timeout=60)
    assert result is not None and result.state is RunState.SUCCEEDED
    entries = journal(tmp_path)
    # The app never ran two attempts at once.
    slow = [(event, name) for event, name, _ in entries if name.startswith("s")]
    assert slow in (
        [("start", "s1"), ("end", "s1"), ("start", "s2"), ("end", "s2")],
        [("start", "s2"), ("end", "s2"), ("start", "s1"), ("end", "s1")],
    )
    check_run_artifacts(tmp_path / ".uet" / "runs.db", result.run_id)


def test_parked_tasks_are_canceled_with_the_run(tmp_path: Path) -> None:
    path = write_workspace(
        tmp_path,
        [_slow("s1", "sleep", "30"), _slow("s2", "sleep", "0"), _slow("s3", "sleep", "0")],
        router=ROUTER,
    )
    finished: list[str] = []

    def on_event(event: EngineEvent) -> None:
        if event.kind is EngineEventKind.TASK_FINISHED and event.task_id is not None:
            finished.append(event.task_id)

    executors: list[WatchedExecutor] = []

    def executor(workers: int) -> WatchedExecutor:
        executors.append(WatchedExecutor(workers))
        return executors[-1]

    handle = start_run(
        path,
        options=RunOptions(jobs=3, kill_grace_seconds=1.0, executor_factory=executor),
        subscribers=[on_event],
    )
    assert wait_until(lambda: ("start", "s1") in [entry[:2] for entry in journal(tmp_path)], 30)
    # s2 and s3 went back to the executor without an outcome: parked while s1 holds the slot.
    assert executors[0].wait_returned("s2", "s3")
    assert finished == []
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
