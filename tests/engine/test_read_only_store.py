"""Reading history works on a read-only store: ``uet runs``, ``status`` and ``logs`` (real
processes) with ``.uet`` mounted read-only (a private mount namespace through
``unshare``), nothing migrated, and a clear message when a migration would be needed."""

from __future__ import annotations

import shlex
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from engine_support import latest_run_id, write_workspace

from uet.engine.store.migrations import MIGRATIONS, SCHEMA_VERSION


def _can_mount_read_only(tmp_path: Path) -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = tmp_path / "probe"
    probe.mkdir()
    script = f"mount --bind -o ro {probe} {probe} && ! touch {probe}/x 2>/dev/null"
    done = subprocess.run(
        ["unshare", "-rm", "sh", "-c", script], capture_output=True, timeout=60, check=False
    )
    return done.returncode == 0


@pytest.fixture
def read_only(tmp_path: Path) -> None:
    if not _can_mount_read_only(tmp_path):
        pytest.skip("needs unshare with user and mount namespaces to mount a folder read-only")


def _uet_read_only(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``uet ARGS`` in ``root`` while ``root/.uet`` is a read-only mount (for it alone)."""
    state = shlex.quote(str(root / ".uet"))
    command = shlex.join([sys.executable, "-m", "uet", *args])
    script = f"mount --bind -o ro {state} {state} || exit 97; {command}"
    return subprocess.run(
        ["unshare", "-rm", "sh", "-c", script],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.usefixtures("read_only")
def test_runs_status_and_logs_read_a_read_only_store(tmp_path: Path) -> None:
    write_workspace(
        tmp_path,
        [
            {"task_id": "hello", "command": ["echo", "hello world"]},
            {"task_id": "bad", "command": ["sh", "-c", "echo oops >&2; exit 3"]},
        ],
        strategy="continue",
    )
    done = subprocess.run(
        [sys.executable, "-m", "uet", "run", "ws.json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    db = tmp_path / ".uet" / "runs.db"
    run_id = latest_run_id(db)
    assert run_id is not None
    assert not db.with_name("runs.db-wal").exists()  # closed cleanly: nothing but runs.db
    before = db.read_bytes()

    listed = _uet_read_only(tmp_path, "runs")
    assert listed.returncode == 0, listed.stderr
    assert f"{run_id}  failed      1/2 tasks" in listed.stdout

    status = _uet_read_only(tmp_path, "status", run_id)
    assert status.returncode == 0, status.stderr
    assert f"run {run_id}  failed" in status.stdout
    assert "exit code 3" in status.stdout

    logs = _uet_read_only(tmp_path, "logs", run_id, "hello")
    assert (logs.returncode, logs.stdout) == (0, "hello world\n"), logs.stderr
    assert db.read_bytes() == before
    # Nothing written beside what the run left (.uet ignores itself through its .gitignore).
    assert sorted(path.name for path in db.parent.iterdir()) == [".gitignore", "logs", "runs.db"]


@pytest.mark.usefixtures("read_only")
def test_a_store_needing_a_migration_is_refused_in_words_when_read_only(tmp_path: Path) -> None:
    write_workspace(tmp_path, [{"task_id": "a", "command": ["true"]}])
    db = tmp_path / ".uet" / "runs.db"
    connection = sqlite3.connect(db)
    try:
        for statement in MIGRATIONS[0].statements:  # a store an older uet wrote
            connection.execute(statement)
        connection.execute("PRAGMA user_version = 1")
        connection.commit()
    finally:
        connection.close()
    listed = _uet_read_only(tmp_path, "runs")
    assert listed.returncode == 2
    assert listed.stderr == (
        f"uet: run store {db} was written by an older uet (schema version 1; this uet reads"
        f" {SCHEMA_VERSION}) and cannot be brought up to date here, because its folder is"
        " read-only; run any uet command on it once where it is writable\n"
    )
    status = _uet_read_only(tmp_path, "status", "01")
    assert status.returncode == 2 and "cannot be brought up to date here" in status.stderr
    connection = sqlite3.connect(db)
    try:
        assert connection.execute("PRAGMA user_version").fetchone()[0] == 1
    finally:
        connection.close()
