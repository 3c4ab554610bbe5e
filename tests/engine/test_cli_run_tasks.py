"""``uet run WORKSTREAM --task TASK_ID`` end to end: a real ``uet`` process running real
task processes; only the named tasks and what they depend on run."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from engine_support import check_run_artifacts, journal, task_states, write_workspace

TASKS = [
    {"task_id": "setup", "program": ["sleep", "0"]},
    {"task_id": "build", "program": ["sleep", "0"], "depends_on": ["setup"]},
    {"task_id": "lint", "program": ["sleep", "0"]},
    {"task_id": "test", "program": ["sleep", "0"], "depends_on": ["build"]},
    {"task_id": "docs", "program": ["sleep", "0"], "depends_on": ["build", "lint"]},
    {"task_id": "deploy", "program": ["sleep", "0"], "depends_on": ["test", "docs"]},
]


def _uet(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "uet", *args],
        cwd=root,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_run_task_runs_the_named_tasks_and_their_dependencies(tmp_path: Path) -> None:
    write_workspace(tmp_path, TASKS)
    done = _uet(tmp_path, "run", "ws.json", "--task", "test", "-t", "lint", "--json")
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    run_id = document["run"]["run_id"]
    assert document["run"]["state"] == "succeeded"
    started = [name for event, name, _ in journal(tmp_path) if event == "start"]
    assert sorted(started) == ["build", "lint", "setup", "test"]
    assert started.index("setup") < started.index("build") < started.index("test")
    db_path = tmp_path / ".uet" / "runs.db"
    assert {task: state for task, (state, _) in task_states(db_path, run_id).items()} == {
        "setup": "succeeded",
        "build": "succeeded",
        "lint": "succeeded",
        "test": "succeeded",
    }
    check_run_artifacts(db_path, run_id)


def test_run_task_refuses_an_unknown_task_before_anything_starts(tmp_path: Path) -> None:
    write_workspace(tmp_path, TASKS)
    done = _uet(tmp_path, "run", "ws.json", "--task", "test", "--task", "release")
    assert done.returncode == 2
    assert "the workstream has no task 'release'" in done.stderr
    assert "nothing was started" in done.stderr
    assert journal(tmp_path) == []


def test_run_help_documents_task(tmp_path: Path) -> None:
    done = _uet(tmp_path, "run", "--help")
    assert done.returncode == 0
    assert "--task TASK_ID" in done.stdout
    assert "only the named tasks run, with everything they depend on" in " ".join(
        done.stdout.split()
    )


def test_a_run_process_ends_with_its_output_status_and_a_closed_store(tmp_path: Path) -> None:
    # The process ends without the interpreter's teardown (uet.cli.main): everything it
    # printed must still arrive, its exit status must be the run's, and the store must
    # have been closed (the last connection's close checkpoints the WAL and removes it).
    write_workspace(
        tmp_path,
        [
            {"task_id": "ok", "command": ["true"]},
            {"task_id": "broken", "command": ["false"]},
            {"task_id": "after", "command": ["true"], "depends_on": ["broken"]},
        ],
        strategy="continue",
    )
    done = _uet(tmp_path, "run", "ws.json")
    assert done.returncode == 1
    assert "1 succeeded, 1 failed, 1 skipped, 0 canceled (of 3)" in done.stdout
    assert "broken: exit code 1" in done.stdout
    last_line = done.stdout.rstrip().splitlines()[-1]
    assert last_line.startswith("details: uet status ")
    assert "[3/3]" in done.stderr
    assert not (tmp_path / ".uet" / "runs.db-wal").exists()
    check_run_artifacts(tmp_path / ".uet" / "runs.db", last_line.split()[-1])
