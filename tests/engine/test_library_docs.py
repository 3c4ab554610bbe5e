"""The examples of docs/library.md run as they are and print what the document shows.

Each ```python block is a complete program: it runs in a fresh interpreter, in an empty
folder, and its output is compared with the ```text block that follows it (``...`` in the
document stands for text that changes from run to run, as in doctest's ELLIPSIS).
"""

from __future__ import annotations

import doctest
import re
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

import pytest

DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "library.md"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```\n", re.MULTILINE | re.DOTALL)


class Example(NamedTuple):
    line: int
    code: str
    output: str


def examples(text: str) -> list[Example]:
    """Each python block with the text block after it (before the next python block)."""
    found: list[Example] = []
    blocks = [
        (text.count("\n", 0, match.start()) + 1, match.group(1), match.group(2))
        for match in FENCE.finditer(text)
    ]
    for index, (line, language, body) in enumerate(blocks):
        if language != "python":
            continue
        following = blocks[index + 1] if index + 1 < len(blocks) else None
        assert following is not None and following[1] == "text", (
            f"docs/library.md:{line}: a python example needs a text block with its output"
        )
        found.append(Example(line, body, following[2]))
    return found


EXAMPLES = examples(DOCUMENT.read_text("utf-8"))


def test_the_document_has_an_example_for_every_class() -> None:
    code = "\n".join(example.code for example in EXAMPLES)
    for name in (
        "ExecutionScheduler",
        "ProgressTracker",
        "ResilientExecutor",
        "AdapterRegistry",
        "RunMonitor",
    ):
        assert f"from uet.engine import {name}" in code or f"    {name},\n" in code, name


def run(code: str, folder: Path) -> subprocess.CompletedProcess[str]:
    """``code`` as a program of its own, in ``folder``."""
    program = folder / "example.py"
    program.write_text(code, "utf-8")
    return subprocess.run(
        [sys.executable, str(program)],
        cwd=folder,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def matches(expected: str, printed: str) -> bool:
    return doctest.OutputChecker().check_output(expected, printed, doctest.ELLIPSIS)


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda example: f"line-{example.line}")
def test_example_prints_what_the_document_shows(example: Example, tmp_path: Path) -> None:
    completed = run(example.code, tmp_path)
    assert completed.returncode == 0, completed.stderr
    assert matches(example.output, completed.stdout), (
        f"docs/library.md:{example.line} printed:\n{completed.stdout}instead of:\n{example.output}"
    )


def test_an_output_that_differs_from_the_document_is_noticed(tmp_path: Path) -> None:
    first = EXAMPLES[0]
    printed = run(first.code, tmp_path).stdout
    assert matches(first.output, printed)
    assert not matches(first.output, printed.replace("completed: test", "completed: tests"))
    assert not matches(first.output, printed.rsplit("\n", 2)[0] + "\n")  # a line missing
    assert not matches("elapsed: ... s\n", "elapsed: 0.1 ms\n")
