"""Globs from a workspace (``.gitignore`` files outside git, excluded globs) are matched in
linear time: a pattern that makes a backtracking engine run for hours must not freeze the
walk, ``uet validate`` or the server's indexing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from uet.artifacts.files import ListingOptions, list_files

# Python's ``re`` needs about n**9 steps to fail this glob's regex on n letters ``a``.
BACKTRACKING_GLOB = "*a*a*a*a*a*a*a*a*a*b"
LONG_NAME = "a" * 60 + ".yaml"


def _workspace(tmp_path: Path) -> Path:
    root = tmp_path / "w"
    (root / "workstreams").mkdir(parents=True)
    (root / "workstreams" / LONG_NAME).write_text("workstream_id: 5\n", encoding="utf-8")
    (root / ".gitignore").write_text(f"{BACKTRACKING_GLOB}\n", encoding="utf-8")
    return root


def test_a_backtracking_gitignore_glob_is_matched_in_linear_time(tmp_path: Path) -> None:
    root = _workspace(tmp_path)
    completed = subprocess.run(
        [sys.executable, "-m", "uet", "validate", str(root)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,  # a guard against a hang, not a measurement
    )
    # The glob does not match the name (no "b"), so the broken workstream is still found.
    assert completed.returncode == 1, completed.stdout + completed.stderr
    assert LONG_NAME in completed.stdout


def test_backtracking_excluded_globs_are_matched_in_linear_time(tmp_path: Path) -> None:
    root = _workspace(tmp_path)
    (root / ".gitignore").unlink()
    options = ListingOptions(use_git=False, excluded_globs=(BACKTRACKING_GLOB, "!keep"))
    listing = list_files(root, options)
    assert [entry.path for entry in listing.files] == [f"workstreams/{LONG_NAME}"]
