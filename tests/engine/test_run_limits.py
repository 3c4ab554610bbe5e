"""One precedence for limits, through the real ``uet`` command: the workstream's
``concurrency.max_parallel`` and an app's ``limits.timeout_seconds`` are ceilings that
``--jobs`` and a task's ``timeout_seconds`` may lower, never raise."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from engine_support import journal, latest_run_id, max_concurrency, task_states, write_workspace

from uet.engine.planning.plan import attempt_timeout, run_jobs


def _uet(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "uet", *args],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _sleepers(count: int, seconds: float) -> list[dict[str, Any]]:
    return [{"task_id": f"t{i}", "program": ["sleep", str(seconds)]} for i in range(count)]


def test_jobs_cannot_exceed_the_workstreams_max_parallel(tmp_path: Path) -> None:
    # The first two wait for each other: two must run at once, and never more.
    tasks = [{"task_id": f"t{i}", "program": ["meet", "2"]} for i in range(6)]
    write_workspace(tmp_path, tasks, max_parallel=2)
    done = _uet(tmp_path, "run", "ws.json", "--jobs", "5")
    assert done.returncode == 0, done.stdout + done.stderr
    assert max_concurrency(journal(tmp_path)) == 2


def test_jobs_may_ask_for_less_than_max_parallel(tmp_path: Path) -> None:
    write_workspace(tmp_path, _sleepers(4, 0.3), max_parallel=4)
    done = _uet(tmp_path, "run", "ws.json", "--jobs", "1")
    assert done.returncode == 0, done.stdout + done.stderr
    assert max_concurrency(journal(tmp_path)) == 1


def test_a_max_parallel_of_one_runs_one_task_at_a_time_whatever_jobs_says(
    tmp_path: Path,
) -> None:
    write_workspace(tmp_path, _sleepers(4, 0.3), max_parallel=1)
    done = _uet(tmp_path, "run", "ws.json", "--jobs", "8")
    assert done.returncode == 0, done.stdout + done.stderr
    assert max_concurrency(journal(tmp_path)) == 1


def _app_router(app_timeout: float) -> dict[str, Any]:
    return {
        "version": "1.0.0",
        "apps": {
            "sleeper": {
                "kind": "tool",
                "command": ["sleep"],
                "capabilities": {"task_kinds": ["shell"]},
                "limits": {"timeout_seconds": app_timeout},
                "retry": {"max_attempts": 1},
            }
        },
        "routing": {"rules": []},
    }


@pytest.mark.parametrize(
    ("task_timeout", "app_timeout"),
    [(60, 1), (1, 60)],
    ids=["app-limit-wins-over-a-longer-task-timeout", "task-may-ask-for-less"],
)
def test_the_shorter_of_task_and_app_timeout_applies(
    tmp_path: Path, task_timeout: int, app_timeout: int
) -> None:
    write_workspace(
        tmp_path,
        [
            {
                "task_id": "long",
                "tool": "sleeper",
                "args": ["30"],
                "execution": {"timeout_seconds": task_timeout, "max_attempts": 1},
            }
        ],
        router=_app_router(app_timeout),
    )
    done = _uet(tmp_path, "run", "ws.json")
    assert done.returncode == 1, done.stdout + done.stderr
    run_id = latest_run_id(tmp_path / ".uet" / "runs.db")
    assert run_id is not None
    state, reason = task_states(tmp_path / ".uet" / "runs.db", run_id)["long"]
    assert state == "failed"
    assert reason is not None and "timed out after 1" in reason


def test_attempt_timeout_rule() -> None:
    assert attempt_timeout(None, None, 7.0) == 7.0
    assert attempt_timeout(5.0, None, 7.0) == 5.0
    assert attempt_timeout(None, 3.0, 7.0) == 3.0
    assert attempt_timeout(10.0, 3.0, 7.0) == 3.0
    assert attempt_timeout(2.0, 3.0, 7.0) == 2.0
    assert run_jobs(None, None) == 1
    assert run_jobs(None, 3) == 3
    assert run_jobs(4, None) == 4
