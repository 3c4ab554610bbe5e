"""Control across processes: cancel from another process, Ctrl-C, orphans, two engines."""

from __future__ import annotations

import os
import signal
import sqlite3
import sys
from pathlib import Path

import pytest
from engine_support import (
    check_run_artifacts,
    latest_run_id,
    process_alive,
    running_attempt_groups,
    task_states,
    uet_process,
    wait_until,
    write_workspace,
)

from uet.engine.errors import RunControlError
from uet.engine.running.control import cancel_run
from uet.engine.running.resume import resume_run
from uet.engine.workspace import Workspace

TREE = """
import subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
open(sys.argv[1], "a").write(f"{child.pid}\\n")
time.sleep(120)
"""


def _tree_workspace(root: Path, count: int = 2) -> Path:
    (root / "tree.py").write_text(TREE)
    pids = str(root / "grandchildren.txt")
    tasks = [
        {"task_id": f"tree{i}", "command": [sys.executable, str(root / "tree.py"), pids]}
        for i in range(count)
    ]
    tasks.append({"task_id": "after", "command": ["true"], "depends_on": ["tree0"]})
    return write_workspace(root, tasks, max_parallel=count)


def _grandchildren(root: Path) -> list[int]:
    path = root / "grandchildren.txt"
    return [int(line) for line in path.read_text().split()] if path.exists() else []


def _run_state(db: Path, run_id: str) -> str:
    connection = sqlite3.connect(db)
    try:
        return str(
            connection.execute("SELECT state FROM runs WHERE run_id = ?", (run_id,)).fetchone()[0]
        )
    finally:
        connection.close()


def _started_engine(root: Path, *args: str) -> tuple[object, str, Path]:
    db = root / ".uet" / "runs.db"
    engine = uet_process(root, *args)
    assert wait_until(lambda: latest_run_id(db) is not None, timeout=20)
    run_id = latest_run_id(db)
    assert run_id is not None
    assert wait_until(lambda: len(_grandchildren(root)) == 2, timeout=20)
    return engine, run_id, db


def test_cancel_from_another_process_leaves_no_child(tmp_path: Path) -> None:
    _tree_workspace(tmp_path)
    engine, run_id, db = _started_engine(tmp_path, "run", "ws.json")
    groups = running_attempt_groups(db, run_id)
    assert wait_until(lambda: len(running_attempt_groups(db, run_id)) == 2, timeout=10)
    groups = running_attempt_groups(db, run_id)
    assert cancel_run(db, run_id[:12], wait_seconds=20) == "canceled"
    assert engine.wait(timeout=20) == 1  # type: ignore[attr-defined]
    for pid in (*groups, *_grandchildren(tmp_path)):
        assert wait_until(lambda pid=pid: not process_alive(pid), timeout=5), pid
    states = task_states(db, run_id)
    assert states["tree0"][0] == states["tree1"][0] == "canceled"
    assert states["after"][0] == "canceled"
    check_run_artifacts(db, run_id)
    with pytest.raises(RunControlError, match="already finished"):
        cancel_run(db, run_id)


def test_ctrl_c_cancels_cleanly(tmp_path: Path) -> None:
    _tree_workspace(tmp_path)
    engine, run_id, db = _started_engine(tmp_path, "run", "ws.json")
    assert wait_until(lambda: len(running_attempt_groups(db, run_id)) == 2, timeout=10)
    groups = running_attempt_groups(db, run_id)
    os.kill(engine.pid, signal.SIGINT)  # type: ignore[attr-defined]
    assert engine.wait(timeout=20) == 130  # type: ignore[attr-defined]
    assert _run_state(db, run_id) == "canceled"
    for pid in (*groups, *_grandchildren(tmp_path)):
        assert wait_until(lambda pid=pid: not process_alive(pid), timeout=5), pid
    assert "interrupted (Ctrl-C)" in (tmp_path / "uet.out").read_text()


def test_resume_refuses_a_run_with_a_live_engine(tmp_path: Path) -> None:
    _tree_workspace(tmp_path)
    engine, run_id, db = _started_engine(tmp_path, "run", "ws.json")
    try:
        with pytest.raises(RunControlError, match="still being executed"):
            resume_run(run_id, workspace=Workspace(tmp_path.resolve()))
    finally:
        cancel_run(db, run_id, wait_seconds=20)
        engine.wait(timeout=20)  # type: ignore[attr-defined]


def test_cancel_of_an_orphaned_run_kills_its_leftovers(tmp_path: Path) -> None:
    _tree_workspace(tmp_path)
    engine, run_id, db = _started_engine(tmp_path, "run", "ws.json")
    assert wait_until(lambda: len(running_attempt_groups(db, run_id)) == 2, timeout=10)
    groups = running_attempt_groups(db, run_id)
    os.kill(engine.pid, signal.SIGKILL)  # type: ignore[attr-defined]
    engine.wait(timeout=10)  # type: ignore[attr-defined]
    survivors = [pid for pid in (*groups, *_grandchildren(tmp_path)) if process_alive(pid)]
    assert survivors  # kill -9 of the engine does not reach its children...
    assert cancel_run(db, run_id, wait_seconds=5) == "canceled"
    for pid in survivors:  # ...cancel does
        assert wait_until(lambda pid=pid: not process_alive(pid), timeout=5), pid
    connection = sqlite3.connect(db)
    states = {
        row[0]
        for row in connection.execute("SELECT state FROM step_attempts WHERE run_id = ?", (run_id,))
    }
    connection.close()
    assert states == {"canceled"}
    check_run_artifacts(db, run_id)


def test_two_engines_share_one_database(tmp_path: Path) -> None:
    db = tmp_path / ".uet" / "runs.db"
    write_workspace(tmp_path, [])
    for name in ("one", "two"):
        tasks = [
            {
                "task_id": f"{name}{i}",
                "command": ["true"],
                "depends_on": [f"{name}{i - 1}"] if i % 3 else [],
            }
            for i in range(30)
        ]
        path = write_workspace(tmp_path, tasks, max_parallel=2)
        path.rename(tmp_path / f"{name}.json")
    engines = [uet_process(tmp_path, "run", f"{name}.json") for name in ("one", "two")]
    assert [engine.wait(timeout=60) for engine in engines] == [0, 0]
    connection = sqlite3.connect(db)
    runs = connection.execute("SELECT run_id, state FROM runs").fetchall()
    completed = connection.execute(
        "SELECT COUNT(*) FROM step_attempts WHERE state = 'completed'"
    ).fetchone()[0]
    connection.close()
    assert sorted(state for _, state in runs) == ["succeeded", "succeeded"]
    assert completed == 60
    for run_id, _ in runs:
        check_run_artifacts(db, run_id)


def test_a_live_run_keeps_its_heartbeat_fresh(tmp_path: Path) -> None:
    from uet.engine.running.start import start_run

    path = write_workspace(tmp_path, [{"task_id": "wait", "command": ["sleep", "2.5"]}])
    handle = start_run(path)
    db = tmp_path / ".uet" / "runs.db"

    def beat() -> float:
        connection = sqlite3.connect(db)
        try:
            row = connection.execute("SELECT heartbeat_at FROM runs").fetchone()
            return float(row[0])
        finally:
            connection.close()

    first = beat()
    assert wait_until(lambda: beat() > first + 0.5, timeout=5)
    result = handle.wait(timeout=30)
    assert result is not None and result.succeeded
    connection = sqlite3.connect(db)
    owner = connection.execute("SELECT owner_pid, heartbeat_at FROM runs").fetchone()
    connection.close()
    assert owner == (None, None)  # a finished run has no live owner
