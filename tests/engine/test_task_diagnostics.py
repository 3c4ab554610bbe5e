"""A real run's failed, timed-out and skipped tasks become diagnostics on their task ids."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from uet.artifacts import load_path
from uet.engine import connect, start_run, task_statuses
from uet.engine.store.task_diagnostics import log_tail, task_result_diagnostics

WORKSTREAM = """workstream_id: ws-mixed
project_id: PRJ-T
phase_id: PH-T
name: Mixed results
objective: One task of each outcome.
error_handling:
  strategy: continue
tasks:
  - task_id: good
    name: Succeeds
    kind: check
    args: ["-c", "print('fine')"]
  - task_id: bad
    name: Fails
    kind: check
    args: ["-c", "import sys; print('boom: broken', file=sys.stderr); sys.exit(3)"]
  - task_id: slow
    name: Times out
    kind: check
    args: ["-c", "import time; print('waiting'); time.sleep(30)"]
    execution:
      timeout_seconds: 1
  - task_id: after
    name: Depends on the failure
    kind: check
    depends_on: [bad]
    args: ["-c", "print('never')"]
"""


def _workspace(root: Path) -> Path:
    router = {
        "version": "1.0.0",
        "apps": {
            "python": {
                "kind": "tool",
                "command": [sys.executable],
                "capabilities": {"task_kinds": ["check"]},
                "retry": {"max_attempts": 1},
            }
        },
        "routing": {"rules": []},
    }
    (root / "router_config.json").write_text(json.dumps(router), "utf-8")
    (root / "workstreams").mkdir()
    path = root / "workstreams" / "mixed.yaml"
    path.write_text(WORKSTREAM, "utf-8")
    return path


def test_results_land_on_the_task_ids(tmp_path: Path) -> None:
    workstream = _workspace(tmp_path)
    handle = start_run(workstream)
    result = handle.wait(60)
    assert result is not None and not result.succeeded
    connection = connect(tmp_path / ".uet" / "runs.db")
    try:
        statuses = task_statuses(connection, handle.run_id)
    finally:
        connection.close()
    parsed = load_path(workstream)
    diagnostics = task_result_diagnostics(parsed, statuses, tmp_path, handle.run_id)
    by_task = {item.data["task_id"]: item for item in diagnostics}
    assert set(by_task) == {"bad", "slow", "after"}

    bad = by_task["bad"]
    assert bad.code == "UET401"
    assert WORKSTREAM[bad.span.start : bad.span.end] == "bad"
    assert bad.message.splitlines()[0] == "task 'bad' failed with exit status 3"
    assert "boom: broken" in bad.message
    assert bad.related and Path(bad.related[0].path).is_file()

    assert by_task["slow"].code == "UET402"
    assert "timed out" in by_task["slow"].message.splitlines()[0]
    assert by_task["after"].code == "UET403"
    assert by_task["after"].severity.label == "information"


def test_log_tail_keeps_the_last_lines(tmp_path: Path) -> None:
    log = tmp_path / "attempt.log"
    log.write_text("\n".join(f"line {n}" for n in range(100)) + "\n\n", "utf-8")
    assert log_tail(log, 3) == ["line 97", "line 98", "line 99"]
    assert log_tail(tmp_path / "missing.log") == []
