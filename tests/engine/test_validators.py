"""Routing rules' ``validate_with``: validator apps run on a task's result, inside its
attempt; a required one that fails fails the task, an optional one is recorded only."""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path
from typing import Any

from engine_support import check_run_artifacts, task_states, write_workspace

from uet.engine.running.start import start_run
from uet.engine.store.lifecycle import RunState

# The validator: succeeds when the task left its marker file, fails with status 7 otherwise.
CHECKER = (
    "import pathlib, sys\n"
    "ok = pathlib.Path('marker.txt').exists()\n"
    "print('checked: marker ' + ('found' if ok else 'missing'))\n"
    "sys.exit(0 if ok else 7)\n"
)


def router(required: bool) -> dict[str, Any]:
    return {
        "version": "1.0.0",
        "apps": {
            "checker": {
                "kind": "validator",
                "command": [sys.executable, "checker.py"],
                "capabilities": {"task_kinds": ["check"]},
            },
        },
        "routing": {
            "rules": [
                {
                    "id": "check-shell-work",
                    "match": {"task_kind": ["shell"]},
                    "validate_with": ["checker"],
                    "required": required,
                }
            ]
        },
    }


def workspace(root: Path, *, leaves_marker: bool, required: bool) -> Path:
    (root / "checker.py").write_text(CHECKER)
    writes = "open('marker.txt', 'w').write('x')" if leaves_marker else "pass"
    tasks = [
        {"task_id": "work", "command": [sys.executable, "-c", writes]},
        {"task_id": "after", "program": ["sleep", "0"], "depends_on": ["work"]},
    ]
    return write_workspace(root, tasks, router=router(required))


def validation_notes(db_path: Path, run_id: str) -> list[dict[str, Any]]:
    connection = sqlite3.connect(db_path)
    try:
        rows = connection.execute(
            "SELECT payload_json FROM run_events WHERE run_id = ? AND kind = 'note'", (run_id,)
        ).fetchall()
    finally:
        connection.close()
    notes = [json.loads(text) for (text,) in rows]
    return [note for note in notes if note.get("note") == "validation"]


def test_a_passing_validation_lets_the_task_succeed(tmp_path: Path) -> None:
    path = workspace(tmp_path, leaves_marker=True, required=True)
    result = start_run(path).wait(timeout=30)
    assert result is not None and result.state is RunState.SUCCEEDED
    db_path = tmp_path / ".uet" / "runs.db"
    notes = validation_notes(db_path, result.run_id)
    assert [(n["task_id"], n["validator"], n["status"]) for n in notes] == [
        ("work", "checker", "completed"),
        ("after", "checker", "completed"),
    ]
    log = Path(notes[0]["log"])
    assert log.name == "work.1.checker.log"
    assert "checked: marker found" in log.read_text()
    check_run_artifacts(db_path, result.run_id)


def test_a_failed_required_validation_fails_the_task_once(tmp_path: Path) -> None:
    path = workspace(tmp_path, leaves_marker=False, required=True)
    result = start_run(path).wait(timeout=30)
    assert result is not None and result.state is RunState.FAILED
    db_path = tmp_path / ".uet" / "runs.db"
    states = task_states(db_path, result.run_id)
    assert states["work"][0] == "failed"
    assert "validation by checker failed" in (states["work"][1] or "")
    assert states["after"][0] == "skipped"  # it depends on a failed task
    connection = sqlite3.connect(db_path)
    try:
        attempts = connection.execute(
            "SELECT state, exit_code, logs_path FROM step_attempts WHERE run_id = ? "
            "AND task_id = 'work'",
            (result.run_id,),
        ).fetchall()
    finally:
        connection.close()
    # One attempt: the validator's status and log are the attempt's (the task's
    # diagnostic shows them); the command worked, so it is not retried.
    assert len(attempts) == 1
    state, exit_code, logs_path = attempts[0]
    assert (state, exit_code) == ("error", 7)
    assert "checked: marker missing" in (tmp_path / logs_path).read_text()  # relative
    check_run_artifacts(db_path, result.run_id)


def test_a_failed_optional_validation_is_recorded_only(tmp_path: Path) -> None:
    path = workspace(tmp_path, leaves_marker=False, required=False)
    result = start_run(path).wait(timeout=30)
    assert result is not None and result.state is RunState.SUCCEEDED
    notes = validation_notes(tmp_path / ".uet" / "runs.db", result.run_id)
    assert {(n["task_id"], n["status"], n["exit_code"], n["required"]) for n in notes} == {
        ("work", "failed", 7, False),
        ("after", "failed", 7, False),
    }
