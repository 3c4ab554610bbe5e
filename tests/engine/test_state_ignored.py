"""``.uet/`` ignores itself: a run in a git repository that was never bootstrapped leaves
nothing for ``git status`` to show (``.uet/.gitignore`` holds ``*``), and a ``.gitignore``
the user put there is left alone. Real ``uet`` processes, real git repositories."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from engine_support import write_workspace


def run(root: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(argv), cwd=root, capture_output=True, text=True, check=False, timeout=120
    )


def repository(root: Path) -> None:
    """A git repository whose files (the workspace, not ``.uet``) are committed."""
    shutil.rmtree(root / ".uet")
    run(root, "git", "init", "-q")
    run(root, "git", "add", ".")
    committed = run(
        root, "git", "-c", "user.name=t", "-c", "user.email=t@example.invalid",
        "commit", "-q", "-m", "workspace",
    )  # fmt: skip
    assert committed.returncode == 0, committed.stderr


def test_a_run_leaves_no_change_for_source_control(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    write_workspace(root, [{"task_id": "hello", "command": ["sh", "-c", "echo hello"]}])
    repository(root)

    completed = run(root, sys.executable, "-m", "uet", "run", "ws.json")

    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert (root / ".uet" / "runs.db").is_file() and (root / ".uet" / "logs").is_dir()
    assert run(root, "git", "status", "--porcelain", "--untracked-files=all").stdout == ""
    assert (root / ".uet" / ".gitignore").read_text().splitlines()[-1] == "*"


def test_a_gitignore_of_the_user_in_uet_is_kept(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    write_workspace(root, [{"task_id": "hello", "command": ["sh", "-c", "echo hello"]}])
    (root / ".uet" / ".gitignore").write_text("runs.db*\n")

    completed = run(root, sys.executable, "-m", "uet", "run", "ws.json")

    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert (root / ".uet" / ".gitignore").read_text() == "runs.db*\n"
