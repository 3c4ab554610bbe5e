"""A run whose engine is gone is shown as ``interrupted`` with the command that resumes it:
``uet runs``, ``uet runs --json`` and ``uet status``, as real processes, after a real
``kill -9`` of ``uet run``; a pid reused by a newer process does not keep it ``running``."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from engine_support import (
    latest_run_id,
    running_attempt_groups,
    uet_process,
    wait_until,
    write_workspace,
)

from uet.engine.store.ids import ulid_seconds


def _uet(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "uet", *args],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _ulid_at(seconds: float) -> str:
    """A ULID made at ``seconds`` since the epoch (random part zero)."""
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    value = int(seconds * 1000) << 80
    return "".join(alphabet[(value >> shift) & 31] for shift in range(125, -1, -5))


@pytest.fixture
def killed_run(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A workspace whose ``uet run`` was killed with SIGKILL while a task ran; the task's
    leftover process group is killed afterwards."""
    write_workspace(
        tmp_path,
        [
            {"task_id": "nap", "command": ["sleep", "60"]},
            {"task_id": "after", "command": ["true"], "depends_on": ["nap"]},
        ],
    )
    db = tmp_path / ".uet" / "runs.db"
    engine = uet_process(tmp_path, "run", "ws.json")
    groups: list[int] = []
    try:
        assert wait_until(lambda: latest_run_id(db) is not None, timeout=60)
        run_id = latest_run_id(db)
        assert run_id is not None
        assert wait_until(lambda: bool(running_attempt_groups(db, run_id)), timeout=60)
        groups = running_attempt_groups(db, run_id)
        listed = _uet(tmp_path, "runs")
        assert f"{run_id}  running" in listed.stdout and "(active)" in listed.stdout
        assert "resume it" not in listed.stdout
        engine.send_signal(signal.SIGKILL)
        engine.wait(timeout=60)
        yield tmp_path, run_id
    finally:
        if engine.poll() is None:
            engine.kill()
            engine.wait()
        for group in groups:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(group, signal.SIGKILL)


def test_a_killed_run_is_listed_as_interrupted_with_the_resume_command(
    killed_run: tuple[Path, str],
) -> None:
    root, run_id = killed_run
    listed = _uet(root, "runs")
    assert listed.returncode == 0, listed.stderr
    assert f"{run_id}  interrupted 0/2 tasks" in listed.stdout
    assert f"resume it: uet resume {run_id}\n" in listed.stdout
    assert "(active)" not in listed.stdout

    (row,) = json.loads(_uet(root, "runs", "--json").stdout)
    assert (row["state"], row["active"]) == ("interrupted", False)
    assert row["resume_command"] == f"uet resume {run_id}"
    assert "stopped before the run ended" in row["state_reason"]

    status = _uet(root, "status", run_id[:12])
    assert status.returncode == 0, status.stderr
    lines = status.stdout.splitlines()
    assert lines[0].startswith(f"run {run_id}  interrupted")
    assert f"  resume it: uet resume {run_id}" in lines
    assert any(line.split()[:2] == ["nap", "interrupted"] for line in lines)

    # From elsewhere, the hint names the workspace too.
    elsewhere = _uet(root.parent, "runs", "--workspace", str(root))
    assert f"resume it: uet resume {run_id} --workspace {root}" in elsewhere.stdout


def test_a_pid_reused_by_a_newer_process_does_not_keep_a_run_running(
    killed_run: tuple[Path, str],
) -> None:
    root, run_id = killed_run
    stand_in = subprocess.Popen(["sleep", "60"])  # a live process the dead pid could be
    try:
        owner_made = time.time() - 60  # the engine's identity, made before stand_in started
        owner_id = _ulid_at(owner_made)
        assert ulid_seconds(owner_id) == pytest.approx(owner_made, abs=0.01)
        connection = sqlite3.connect(root / ".uet" / "runs.db")
        try:
            with connection:
                connection.execute(
                    "UPDATE runs SET owner_id = ?, owner_pid = ?, heartbeat_at = ?"
                    " WHERE run_id = ?",
                    (owner_id, stand_in.pid, time.time(), run_id),
                )
        finally:
            connection.close()
        (row,) = json.loads(_uet(root, "runs", "--json").stdout)
        assert (row["state"], row["active"]) == ("interrupted", False)
        canceled = _uet(root, "cancel", run_id)  # a dead owner: canceled here, not waited for
        assert canceled.stdout.strip() == f"run {run_id}: canceled"
    finally:
        stand_in.kill()
        stand_in.wait()


def test_a_live_owner_started_before_its_identity_keeps_the_run_running(
    tmp_path: Path,
) -> None:
    """The start-time check does not mistake the live engine for a newer process."""
    write_workspace(tmp_path, [{"task_id": "nap", "command": ["sleep", "60"]}])
    db = tmp_path / ".uet" / "runs.db"
    engine = uet_process(tmp_path, "run", "ws.json")
    try:
        assert wait_until(lambda: bool(latest_run_id(db)), timeout=60)
        run_id = latest_run_id(db)
        assert run_id is not None
        assert wait_until(lambda: bool(running_attempt_groups(db, run_id)), timeout=60)
        (row,) = json.loads(_uet(tmp_path, "runs", "--json").stdout)
        assert (row["state"], row["active"], row["resume_command"]) == ("running", True, None)
        canceled = _uet(tmp_path, "cancel", run_id)
        assert canceled.stdout.strip() == f"run {run_id}: canceled"
    finally:
        if engine.poll() is None:
            engine.kill()
        engine.wait()
