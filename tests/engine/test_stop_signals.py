"""``uet run`` stopped by each signal a terminal sends: SIGINT (Ctrl-C), SIGTERM and SIGHUP
(the terminal closed, for real: a pseudo-terminal whose master side is closed). Each
cancels the run, is recorded as what it was, and leaves no process of the run behind."""

from __future__ import annotations

import os
import pty
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from engine_support import (
    latest_run_id,
    process_alive,
    running_attempt_groups,
    wait_until,
    write_workspace,
)

# Each task starts a grandchild in its group and one that leaves it (setsid), and writes
# their pids; then sleeps.
TREE = "sleep 300 & echo $! >> {pids}; setsid sleep 300 & echo $! >> {pids}; sleep 300"


def _workspace(root: Path) -> Path:
    pids = root / "pids.txt"
    tasks = [
        {"task_id": f"tree{i}", "command": ["sh", "-c", TREE.format(pids=pids)]} for i in range(2)
    ]
    write_workspace(root, tasks, max_parallel=2)
    return pids


def _run_row(db: Path, run_id: str) -> tuple[str, str]:
    connection = sqlite3.connect(db)
    try:
        row = connection.execute(
            "SELECT state, state_reason FROM runs WHERE run_id = ?", (run_id,)
        ).fetchone()
        return str(row[0]), str(row[1])
    finally:
        connection.close()


def _started(root: Path, pids: Path, engine: subprocess.Popen[bytes]) -> tuple[str, list[int]]:
    """The run's id and the pids of its processes, once both tasks run."""
    db = root / ".uet" / "runs.db"
    assert wait_until(lambda: latest_run_id(db) is not None, timeout=30)
    run_id = latest_run_id(db)
    assert run_id is not None
    assert wait_until(lambda: len(running_attempt_groups(db, run_id)) == 2, timeout=30)
    assert wait_until(lambda: pids.exists() and len(pids.read_text().split()) == 4, timeout=30)
    assert engine.poll() is None
    return run_id, [*running_attempt_groups(db, run_id), *map(int, pids.read_text().split())]


def _uet_run(root: Path, **streams: object) -> subprocess.Popen[bytes]:
    return subprocess.Popen(  # type: ignore[call-overload, no-any-return]
        [sys.executable, "-m", "uet", "run", "ws.json"], cwd=root, **streams
    )


@pytest.mark.parametrize(
    ("signum", "reason"),
    [
        (signal.SIGINT, "interrupted (Ctrl-C)"),
        (signal.SIGTERM, "terminated (SIGTERM)"),
        (signal.SIGHUP, "hung up (SIGHUP: the terminal was closed)"),
    ],
)
def test_each_stop_signal_cancels_the_run_as_what_it_was(
    tmp_path: Path, signum: signal.Signals, reason: str
) -> None:
    pids = _workspace(tmp_path)
    with (tmp_path / "uet.out").open("wb") as out:
        engine = _uet_run(tmp_path, stdin=subprocess.DEVNULL, stdout=out, stderr=out)
    run_id, processes = _started(tmp_path, pids, engine)
    engine.send_signal(signum)
    assert engine.wait(timeout=60) == 128 + signum
    assert _run_row(tmp_path / ".uet" / "runs.db", run_id) == ("canceled", reason)
    for pid in processes:
        assert wait_until(lambda pid=pid: not process_alive(pid), timeout=10), pid
    assert reason in (tmp_path / "uet.out").read_text()


def test_closing_the_terminal_cancels_the_run(tmp_path: Path) -> None:
    pids = _workspace(tmp_path)
    master, terminal = pty.openpty()
    try:
        # `setsid -c`: uet leads a new session whose controlling terminal is the pty.
        engine = subprocess.Popen(
            ["setsid", "-c", sys.executable, "-m", "uet", "run", "ws.json"],
            cwd=tmp_path,
            stdin=terminal,
            stdout=terminal,
            stderr=terminal,
        )
    finally:
        os.close(terminal)
    try:
        run_id, processes = _started(tmp_path, pids, engine)
    finally:
        os.close(master)  # the terminal is gone: the kernel sends SIGHUP
    # setsid -c execs uet in place: the exit status is uet's own.
    assert engine.wait(timeout=60) == 128 + signal.SIGHUP
    assert _run_row(tmp_path / ".uet" / "runs.db", run_id) == (
        "canceled",
        "hung up (SIGHUP: the terminal was closed)",
    )
    for pid in processes:
        assert wait_until(lambda pid=pid: not process_alive(pid), timeout=10), pid
