"""Crash safety: kill -9 the engine at random points, resume, and check exactly-once."""

from __future__ import annotations

import os
import random
import signal
import time
from pathlib import Path

import pytest
from engine_support import (
    check_run_artifacts,
    latest_run_id,
    process_alive,
    uet_process,
    write_workspace,
)

from uet.engine.store import connect, integrity_problems

KILL_CYCLES = 24


def _dag() -> list[dict[str, object]]:
    """Layers of width 4, each task depending on two of the layer before; one slow task."""
    tasks: list[dict[str, object]] = []
    for layer in range(6):
        for index in range(4):
            task_id = f"L{layer}T{index}"
            depends = [f"L{layer - 1}T{index}", f"L{layer - 1}T{(index + 1) % 4}"] if layer else []
            tasks.append(
                {
                    "task_id": task_id,
                    "command": ["sh", "-c", f"sleep 0.05; echo {task_id} >> done.txt"],
                    "depends_on": depends,
                }
            )
    tasks.append({"task_id": "slow", "command": ["sleep", "1.5"], "depends_on": ["L1T0"]})
    return tasks


@pytest.mark.slow
def test_kill_minus_nine_at_random_points_then_resume_is_exactly_once(tmp_path: Path) -> None:
    rng = random.Random(int(os.environ.get("UET_CRASH_SEED", "20250124")))
    write_workspace(tmp_path, _dag(), max_parallel=2)
    db = tmp_path / ".uet" / "runs.db"
    run_id: str | None = None
    finished = False
    kills = 0
    for _cycle in range(KILL_CYCLES):
        engine = uet_process(tmp_path, *(("resume", run_id) if run_id else ("run", "ws.json")))
        time.sleep(rng.uniform(0.35, 1.0))
        if engine.poll() is None:
            engine.send_signal(signal.SIGKILL)
            kills += 1
        code = engine.wait(timeout=30)
        run_id = run_id or latest_run_id(db)
        if code == 0:
            finished = True
            break
    if not finished:
        assert run_id is not None
        final = uet_process(tmp_path, "resume", run_id)
        assert final.wait(timeout=60) == 0, (tmp_path / "uet.out").read_text()[-3000:]
    assert kills >= KILL_CYCLES // 2
    assert run_id is not None

    connection = connect(db)
    try:
        assert connection.execute("SELECT state FROM runs").fetchall()[0][0] == "succeeded"
        task_ids = [task["task_id"] for task in _dag()]
        completed = dict(
            connection.execute(
                "SELECT task_id, COUNT(*) FROM step_attempts WHERE state = 'completed'"
                " GROUP BY task_id"
            ).fetchall()
        )
        # Exactly once: every task has one completed attempt, none has two, none is lost.
        assert completed == dict.fromkeys(task_ids, 1)
        assert (
            connection.execute(
                "SELECT COUNT(*) FROM step_attempts WHERE state IN ('pending', 'running')"
            ).fetchone()[0]
            == 0
        )
        assert {row[0] for row in connection.execute("SELECT state FROM run_tasks")} == {
            "succeeded"
        }
        interrupted = connection.execute(
            "SELECT COUNT(*) FROM step_attempts WHERE state_reason LIKE 'interrupted%'"
        ).fetchone()[0]
        resumed = connection.execute(
            "SELECT COUNT(*) FROM run_events WHERE kind = 'run_resumed'"
        ).fetchone()[0]
        assert interrupted >= 1
        # A kill during start-up may come before the resume is recorded.
        assert 1 <= resumed <= kills
        groups = [
            row[0]
            for row in connection.execute(
                "SELECT process_group FROM step_attempts WHERE process_group IS NOT NULL"
            )
        ]
        assert integrity_problems(connection) == []
    finally:
        connection.close()
    assert not [pid for pid in groups if process_alive(pid)]
    check_run_artifacts(db, run_id)
    lines = (tmp_path / "done.txt").read_text().split()
    assert set(lines) == {task for task in task_ids if task != "slow"}
