"""Refusals are sentences: a working directory that escapes the workspace, or any value
that misses a schema ``pattern``, is refused in words, never with a regular expression."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from engine_support import write_workspace

from uet.resources import schemas_dir

# What a regular expression leaks into a message: look-arounds, anchors, classes.
_REGEX_MARKS = ("(?", "^[", "]*$", "]+$", "\\S", "[/\\\\]")


def _run(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "uet", "run", "ws.json"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("cwd", ["../elsewhere", "/etc", "sub/../../elsewhere", "C:/Windows"])
def test_a_cwd_escaping_the_workspace_is_refused_in_words(tmp_path: Path, cwd: str) -> None:
    root = tmp_path / "ws"
    write_workspace(root, [{"task_id": "a", "command": ["true"], "cwd": cwd}])
    done = _run(root)
    assert done.returncode == 2
    assert "'tasks[0].cwd' must be a path inside the workspace" in done.stderr
    assert not any(mark in done.stderr for mark in _REGEX_MARKS), done.stderr
    assert "nothing was started" in done.stderr


def test_a_cwd_linked_out_of_the_workspace_is_refused_in_words(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "out").symlink_to(tmp_path)
    write_workspace(
        root,
        [
            {"task_id": "a", "command": ["true"], "cwd": "sub/out"},
            {"task_id": "b", "command": ["true"], "cwd": "missing"},
        ],
    )
    done = _run(root)
    assert done.returncode == 2
    assert (
        f"task 'a' on its command: the working directory 'sub/out' leads outside the workspace"
        f" {root} (to {tmp_path}); tasks run inside the workspace only"
    ) in done.stderr
    assert "the working directory 'missing' does not exist in the workspace" in done.stderr


def _patterns(value: Any, where: str) -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(value, dict):
        if isinstance(value.get("pattern"), str):
            yield where, value
        for key, item in value.items():
            if key not in ("examples", "default", "const", "enum"):
                yield from _patterns(item, f"{where}/{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _patterns(item, f"{where}/{index}")


def test_every_schema_pattern_has_a_hint_in_words() -> None:
    found = 0
    files = [item for item in schemas_dir().iterdir() if item.name.endswith(".schema.json")]
    for path in sorted(files, key=lambda item: item.name):
        for where, schema in _patterns(json.loads(path.read_text()), path.name):
            found += 1
            hint = schema.get("x-pattern-hint")
            assert isinstance(hint, str) and hint, f"{where}: pattern without x-pattern-hint"
            assert not any(mark in hint for mark in _REGEX_MARKS), f"{where}: {hint}"
    assert found >= 30
