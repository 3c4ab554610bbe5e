"""The engine's state (``.uet/runs.db``, ``.uet/logs``) never leaves the workspace: with
``.uet`` or ``.uet/logs`` a symbolic link to a folder outside, ``uet run`` refuses before
anything runs, and ``uet runs``/``status``/``logs``/``resume`` refuse to read or write the
store there; the outside folder is left exactly as it was. Real ``uet`` processes."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from engine_support import write_workspace


def uet(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "uet", *args],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def snapshot(folder: Path) -> dict[str, str]:
    """Every file below ``folder`` and the hash of its content."""
    return {
        path.relative_to(folder).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    marker = root / "ran.txt"
    command = ["sh", "-c", f"echo hello; touch '{marker}'"]
    write_workspace(root, [{"task_id": "touch", "command": command}])
    return root


@pytest.mark.parametrize("linked", [".uet", ".uet/logs"])
def test_run_refuses_a_state_folder_linked_outside(
    workspace: Path, tmp_path: Path, linked: str
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    shutil.rmtree(workspace / ".uet")
    if linked == ".uet/logs":
        (workspace / ".uet").mkdir()
    (workspace / linked).symlink_to(outside, target_is_directory=True)

    completed = uet(workspace, "run", "ws.json")

    assert completed.returncode == 2, completed.stdout + completed.stderr
    assert f"refusing to use {linked}" in completed.stderr
    assert "outside the workspace" in completed.stderr
    assert snapshot(outside) == {}
    assert not (workspace / "ran.txt").exists()  # refused before any task started


def test_run_refuses_a_dangling_link_and_creates_nothing_through_it(
    workspace: Path, tmp_path: Path
) -> None:
    shutil.rmtree(workspace / ".uet")
    (workspace / ".uet").symlink_to(tmp_path / "outside", target_is_directory=True)

    completed = uet(workspace, "run", "ws.json")

    assert completed.returncode == 2
    assert "outside the workspace" in completed.stderr
    assert not (tmp_path / "outside").exists()


def test_a_plain_state_folder_still_works(workspace: Path) -> None:
    shutil.rmtree(workspace / ".uet")
    completed = uet(workspace, "run", "ws.json")
    assert completed.returncode == 0, completed.stderr
    assert (workspace / ".uet" / "runs.db").is_file()
    assert (workspace / "ran.txt").exists()


@pytest.mark.parametrize("command", ["runs", "status", "logs", "resume"])
def test_reading_commands_refuse_a_store_linked_outside(
    workspace: Path, tmp_path: Path, command: str
) -> None:
    assert uet(workspace, "run", "ws.json").returncode == 0
    run_id = uet(workspace, "runs", "--json").stdout.split('"run_id": "')[1].split('"')[0]
    outside = tmp_path / "outside"
    (workspace / ".uet").rename(outside)
    (workspace / ".uet").symlink_to(outside, target_is_directory=True)
    before = snapshot(outside)

    completed = uet(workspace, command, *(() if command == "runs" else (run_id,)))

    assert completed.returncode == 2, completed.stdout + completed.stderr
    assert "refusing to use .uet" in completed.stderr
    assert snapshot(outside) == before


def test_logs_refuses_a_log_folder_linked_outside(workspace: Path, tmp_path: Path) -> None:
    assert uet(workspace, "run", "ws.json").returncode == 0
    run_id = uet(workspace, "runs", "--json").stdout.split('"run_id": "')[1].split('"')[0]
    outside = tmp_path / "outside"
    (workspace / ".uet" / "logs").rename(outside)
    (workspace / ".uet" / "logs").symlink_to(outside, target_is_directory=True)
    (outside / "secret.txt").write_text("not a log\n", "utf-8")

    logs = uet(workspace, "logs", run_id)
    assert "not a log" not in logs.stdout
    assert logs.returncode == 2, logs.stdout + logs.stderr
    assert "refusing to use .uet/logs" in logs.stderr
