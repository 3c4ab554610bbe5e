"""``auto`` routing through the real ``uet run``: an app with no history is tried before
the scores decide, then success rate and latency choose (docs/schema-conventions.md)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

from engine_support import write_workspace


def _router() -> dict[str, object]:
    capable = {"task_kinds": ["build"]}
    return {
        "version": "1.0.0",
        "apps": {
            # Listed first: with scores alone every attempt went to it.
            "slow": {"kind": "tool", "command": ["sleep", "0.4"], "capabilities": capable},
            "fast": {"kind": "tool", "command": ["true"], "capabilities": capable},
        },
        "routing": {"rules": []},
        "defaults": {"strategy": "auto"},
    }


def _attempts_per_app(root: Path) -> dict[str, int]:
    connection = sqlite3.connect(root / ".uet" / "runs.db")
    try:
        rows = connection.execute(
            "SELECT tool_id, COUNT(*) FROM step_attempts GROUP BY tool_id"
        ).fetchall()
    finally:
        connection.close()
    return {str(app): int(count) for app, count in rows}


def test_auto_tries_the_untried_app_then_keeps_the_faster_one(tmp_path: Path) -> None:
    write_workspace(
        tmp_path,
        [{"task_id": f"t{i}", "kind": "build"} for i in range(6)],
        router=_router(),
    )
    command = [sys.executable, "-m", "uet", "run", "ws.json", "--jobs", "1"]
    done = subprocess.run(
        command, cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    # One attempt each while neither had a record, then the faster one every time.
    assert _attempts_per_app(tmp_path) == {"slow": 1, "fast": 5}
    again = subprocess.run(
        command, cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False
    )
    assert again.returncode == 0, again.stdout + again.stderr
    assert _attempts_per_app(tmp_path) == {"slow": 1, "fast": 11}
