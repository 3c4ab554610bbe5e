"""Nothing a repository configures runs when uet asks git (``uet.artifacts.git``).

Each hostile repository below makes plain git create a marker file (checked first, so the
set-up is known to be live); the same git command through ``run_git``, and ``uet validate``,
``uet scan`` and ``uet profiles`` on the folder as real processes, create nothing, while the
listing still comes from git (``.git/info/exclude``, which only git reads, is honoured).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.bootstrap import support
from uet.artifacts.files import list_files
from uet.artifacts.git import run_git

MARKER = "PWNED"


def plain_git(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """git as a user would run it in ``root`` (no neutralisation; never raises)."""
    env = {**os.environ, **support.GIT_ENV, "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(root)}
    return subprocess.run(
        ["git", *args], cwd=root, env=env, capture_output=True, text=True, check=False
    )


def config(root: Path, key: str, value: str) -> None:
    support.git(root, "config", key, value)


def repository(tmp_path: Path) -> tuple[Path, Path]:
    """A committed repository ``W`` with a tracked text file; the marker path beside it."""
    root = support.git_repository(
        support.write(tmp_path / "W", {"notes.txt": "one\n", "ws.json": "{}\n"})
    )
    config(root, "user.name", "t")
    config(root, "user.email", "t@example.invalid")
    return root, tmp_path / MARKER


def fsmonitor(root: Path, marker: Path) -> tuple[str, ...]:
    config(root, "core.fsmonitor", f"touch {marker}; false")
    return ("ls-files",)


def included_fsmonitor(root: Path, marker: Path) -> tuple[str, ...]:
    elsewhere = root.parent / "elsewhere.gitconfig"
    elsewhere.write_text(f"[core]\n\tfsmonitor = touch {marker}; false\n", encoding="utf-8")
    config(root, "include.path", str(elsewhere))
    return ("status", "--porcelain")


def clean_filter(root: Path, marker: Path, driver: str = "evil") -> tuple[str, ...]:
    support.write(root, {".gitattributes": f"*.txt filter={driver}\n", "notes.txt": "two\n"})
    config(root, f"filter.{driver}.clean", f"touch {marker}; cat")
    return ("diff", "--quiet")


def clean_filter_named_with_equals(root: Path, marker: Path) -> tuple[str, ...]:
    return clean_filter(root, marker, driver="a=b")


def textconv(root: Path, marker: Path) -> tuple[str, ...]:
    support.write(root, {".gitattributes": "*.txt diff=evil\n", "notes.txt": "two\n"})
    config(root, "diff.evil.textconv", f"touch {marker}; cat")
    return ("diff",)


def diff_driver_command(root: Path, marker: Path) -> tuple[str, ...]:
    support.write(root, {".gitattributes": "*.txt diff=evil\n", "notes.txt": "two\n"})
    config(root, "diff.evil.command", f"touch {marker}; true")
    return ("diff",)


def external_diff(root: Path, marker: Path) -> tuple[str, ...]:
    support.write(root, {"notes.txt": "two\n"})
    config(root, "diff.external", f"touch {marker}; true")
    return ("diff",)


def hooks_path(root: Path, marker: Path) -> tuple[str, ...]:
    hooks = root / "hooks"
    hook = support.write(hooks, {"pre-commit": f"#!/bin/sh\ntouch {marker}\n"}) / "pre-commit"
    hook.chmod(0o755)
    config(root, "core.hooksPath", str(hooks))
    return ("commit", "-q", "--allow-empty", "-m", "hooked")


HOSTILE: dict[str, Callable[[Path, Path], tuple[str, ...]]] = {
    "core.fsmonitor": fsmonitor,
    "include.path": included_fsmonitor,
    "filter.clean": clean_filter,
    "filter.clean named a=b": clean_filter_named_with_equals,
    "diff.textconv": textconv,
    "diff.command": diff_driver_command,
    "diff.external": external_diff,
    "core.hooksPath": hooks_path,
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_run_git_runs_nothing_the_repository_configures(tmp_path: Path, name: str) -> None:
    root, marker = repository(tmp_path)
    args = HOSTILE[name](root, marker)
    plain_git(root, *args)
    assert marker.exists(), f"the {name} set-up does not make plain git run anything"
    marker.unlink()

    result = run_git(args, root)

    assert result is not None
    assert not marker.exists()


def test_inherited_git_variables_do_not_redirect_or_extend_git(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, marker = repository(tmp_path)
    other = support.git_repository(support.write(tmp_path / "other", {"other.json": "{}\n"}))
    monkeypatch.setenv("GIT_DIR", str(other / ".git"))
    monkeypatch.setenv("GIT_WORK_TREE", str(other))
    monkeypatch.setenv("GIT_CONFIG_PARAMETERS", f"'core.fsmonitor'='touch {marker}; false'")

    listing = list_files(root)

    assert (listing.mode, [entry.path for entry in listing.files]) == (
        "git",
        ["notes.txt", "ws.json"],
    )
    assert not marker.exists()


def test_reading_never_rewrites_the_index(tmp_path: Path) -> None:
    root, _ = repository(tmp_path)
    index = root / ".git" / "index"

    def digest() -> str:
        return hashlib.sha256(index.read_bytes()).hexdigest()

    os.utime(root / "notes.txt", (1, 1))  # stat data no longer matches the index
    before = digest()
    assert run_git(("status", "--porcelain"), root) is not None
    assert digest() == before
    plain_git(root, "status", "--porcelain")
    assert digest() != before, "plain git status did not refresh the index: no control"


def uet(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "uet", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


@pytest.mark.parametrize("command", ["validate", "scan", "profiles"])
def test_cli_commands_on_a_hostile_repository_run_nothing(tmp_path: Path, command: str) -> None:
    root, marker = repository(tmp_path)
    config(root, "core.fsmonitor", f"touch {marker}; false")
    # A broken workstream that only git's exclude file hides.
    support.write(root, {"workstreams/ignored-by-git-only.json": "{"})
    (root / ".git" / "info" / "exclude").write_text(
        "workstreams/ignored-by-git-only.json\n", "utf-8"
    )

    completed = uet(command, "W", cwd=tmp_path)

    assert not marker.exists()
    if command == "validate":  # git's listing was used: its exclude file was honoured
        assert "ignored-by-git-only" not in completed.stdout + completed.stderr
        assert completed.returncode == 5, completed.stdout  # no artifact left to check
    else:
        assert completed.returncode in (0, 1), completed.stderr
