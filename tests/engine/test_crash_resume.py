"""Crash safety: kill -9 the engine at random points, resume, and check exactly-once."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
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

from uet.engine.store.database import connect, integrity_problems

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


def test_a_run_interrupted_under_schema_version_1_resumes_after_the_upgrade(
    tmp_path: Path,
) -> None:
    # A run recorded by a uet whose store kept the plan inside the runs row (version 1),
    # interrupted before it started; this uet migrates the store (version 2: plans in
    # run_plans) on the first open and resumes the run from the moved plan.
    from uet.engine.planning.plan import plan_run
    from uet.engine.running.resume import resume_run
    from uet.engine.store.database import compact_json, transaction
    from uet.engine.store.ids import new_ulid
    from uet.engine.store.migrations import MIGRATIONS
    from uet.engine.workspace import find_workspace

    write_workspace(
        tmp_path,
        [
            {"task_id": "a", "command": ["sh", "-c", "echo a >> done.txt"]},
            {"task_id": "b", "command": ["sh", "-c", "echo b >> done.txt"], "depends_on": ["a"]},
        ],
    )
    workspace = find_workspace(tmp_path / "ws.json")
    plan = plan_run(workspace, tmp_path / "ws.json")
    db_path = tmp_path / ".uet" / "runs.db"
    old = sqlite3.connect(db_path, isolation_level=None)
    for statement in MIGRATIONS[0].statements:
        old.execute(statement)
    old.execute("PRAGMA user_version = 1")
    run_id = new_ulid()
    workstream = plan.workstream
    tasks = [
        (run_id, task.task_id, number, task.name) for number, task in enumerate(workstream.tasks)
    ]
    with transaction(old):
        old.execute(
            "INSERT INTO runs (run_id, project_id, phase_id, workstream_id, workstream_path,"
            " workspace, state, created_at, plan_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                run_id,
                workstream.project_id,
                workstream.phase_id,
                workstream.workstream_id,
                "ws.json",
                str(workspace.root),
                "pending",
                "2026-01-01T00:00:00.000Z",
                compact_json(plan.document),
            ),
        )
        old.executemany(
            "INSERT INTO run_tasks (run_id, task_id, position, name, state)"
            " VALUES (?, ?, ?, ?, 'pending')",
            tasks,
        )
    old.close()

    result = resume_run(run_id, workspace=workspace).wait(timeout=60)
    assert result is not None and result.succeeded, result
    assert (tmp_path / "done.txt").read_text().split() == ["a", "b"]
    connection = connect(db_path)
    try:
        assert connection.execute("PRAGMA user_version").fetchone()[0] == 2
        assert connection.execute("SELECT plan_json FROM runs").fetchone()[0] == ""
        (moved,) = connection.execute(
            "SELECT plan_json FROM run_plans WHERE run_id = ?", (run_id,)
        ).fetchone()
        assert json.loads(moved) == json.loads(compact_json(plan.document))
        assert integrity_problems(connection) == []
    finally:
        connection.close()
    check_run_artifacts(db_path, run_id)
