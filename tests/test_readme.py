"""The README's command-line examples work exactly as written.

``make demo`` is run for real (``python -m uet.cli.demo``, into a copy of the clone's
layout), then every ``console`` block of the README is replayed from the clone's root on a
pseudo-terminal, command by command: the output a block shows must be the output, and a
command shown without output must work (no usage or internal error, exit status 0 or 1).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

import pytest

from tests.terminal import SGR, run_on_terminal, terminal_env

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"


class Command(NamedTuple):
    line: str
    expected: list[str]  # empty: the block shows no output for it


def _console_blocks(text: str) -> list[list[Command]]:
    blocks = []
    for body in re.findall(r"^```console\n(.*?)^```", text, flags=re.M | re.S):
        commands: list[Command] = []
        for line in body.splitlines():
            if line.startswith("$ "):
                commands.append(Command(line[2:], []))
            elif commands:
                commands[-1].expected.append(line)
        blocks.append(commands)
    return blocks


def _trimmed(lines: list[str]) -> list[str]:
    lines = [line.rstrip() for line in lines]
    while lines and not lines[-1]:
        lines.pop()
    return lines


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder laid out as the clone after ``make demo``: ``examples/`` and ``build/demo/``."""
    root = tmp_path_factory.mktemp("clone")
    shutil.copytree(REPO / "examples", root / "examples")
    demo = subprocess.run(
        [sys.executable, "-m", "uet.cli.demo", "build/demo"],
        cwd=root,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
    assert "The demo's workspaces are in build/demo:" in demo.stdout
    return root


def test_the_readme_says_how_uet_gets_on_path() -> None:
    text = README.read_text("utf-8")
    assert '$ alias uet="$PWD/.venv/bin/uet"' in text
    # make installs the project into .venv, which creates the uet script there
    assert 'uet = "uet.cli.main:main"' in (REPO / "pyproject.toml").read_text("utf-8")
    assert "$(BIN)/python -m pip install" in (REPO / "Makefile").read_text("utf-8")


def test_every_console_example_works_as_written(clone: Path) -> None:
    blocks = _console_blocks(README.read_text("utf-8"))
    assert len(blocks) >= 3
    env = terminal_env(NO_COLOR="1", UET_PYTHON=sys.executable)
    replayed = 0
    for block in blocks:
        cwd = clone
        for command in block:
            if command.line.startswith("alias uet="):
                continue  # the same uet, as a shell function below
            if command.line.startswith("cd "):
                cwd = (cwd / command.line[3:].strip()).resolve()
                assert cwd.is_dir(), command.line
                continue
            script = f'uet() {{ "$UET_PYTHON" -m uet "$@"; }}\n{command.line}\n'
            code, output = run_on_terminal(["bash", "-c", script], cwd=cwd, env=env)
            shown = _trimmed(SGR.sub("", output).splitlines())
            where = f"{command.line} (in {cwd.relative_to(clone)})"
            if command.expected:
                assert shown == _trimmed(command.expected), where
            else:
                assert code in (0, 1), f"{where}: exit status {code}\n{output}"
                assert "internal error" not in output and "usage:" not in output, where
            replayed += 1
    assert replayed >= 8


def test_the_demo_leaves_its_workspaces_and_lists_both_runs(clone: Path) -> None:
    demo = clone / "build" / "demo"
    assert (demo / "broken-workspace" / "workstreams" / "ws-broken.yaml").is_file()
    listed = subprocess.run(
        [sys.executable, "-m", "uet", "runs", "--json"],
        cwd=demo / "tinycalc",
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    runs = json.loads(listed.stdout)
    assert [run["workstream_id"] for run in runs] == ["WS-PH-PY-LINT", "WS-PH-PY-TEST"]
    assert {run["state"] for run in runs} == {"succeeded"}


def test_the_demo_replaces_only_its_own_folder(tmp_path: Path) -> None:
    (tmp_path / "mine.txt").write_text("not the demo's", "utf-8")
    refused = subprocess.run(
        [sys.executable, "-m", "uet.cli.demo", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert refused.returncode == 2
    assert "is not empty and was not made by the demo" in refused.stderr
    assert (tmp_path / "mine.txt").read_text("utf-8") == "not the demo's"
