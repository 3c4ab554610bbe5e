"""Running a real command on a pseudo-terminal, as a person at a terminal would see it."""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

# Any SGR sequence (styles and colours).
SGR = re.compile(r"\x1b\[[0-9;]*m")


def terminal_env(**changes: str) -> dict[str, str]:
    """This process's environment without colour overrides, with a known terminal."""
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    env.update({"TERM": "xterm-256color", "COLUMNS": "200", **changes})
    return env


def run_on_terminal(argv: Sequence[str], *, cwd: Path, env: Mapping[str, str]) -> tuple[int, str]:
    """``argv`` with stdout and stderr on a pseudo-terminal: its exit status and output
    (line ends as ``\\n``)."""
    master, slave = pty.openpty()
    process = subprocess.Popen(
        list(argv), cwd=cwd, env=dict(env), stdin=subprocess.DEVNULL, stdout=slave, stderr=slave
    )
    os.close(slave)
    chunks: list[bytes] = []
    try:
        while True:
            ready, _, _ = select.select([master], [], [], 120)  # a guard, not a measure
            assert ready, f"{argv} wrote nothing for 120 s"
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
    finally:
        os.close(master)
    code = process.wait(timeout=120)
    return code, b"".join(chunks).decode("utf-8").replace("\r\n", "\n")
