"""A failed task shows the last lines of its output in ``uet run``'s summary and in
``uet status`` (bounded, like ninja), with its log path and the command for the rest."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from engine_support import write_workspace

from uet.cli.main import main
from uet.cli.run_display import TAIL_LINES, TAIL_WIDTH

MISSING_MODULE = ["python3", "-c", "import no_such_module_for_uet"]
MANY_LINES = ["sh", "-c", "for i in $(seq 1 40); do echo line $i; done; echo last >&2; exit 2"]


def _uet(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(list(args))
    return code, capsys.readouterr().out


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    write_workspace(
        tmp_path,
        [
            {"task_id": "imports", "command": MISSING_MODULE},
            {"task_id": "chatty", "command": MANY_LINES},
            {"task_id": "wide", "command": ["sh", "-c", "printf 'x%.0s' $(seq 1 1000); exit 1"]},
            {"task_id": "fine", "command": ["echo", "not shown"]},
        ],
        strategy="continue",
    )
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _task_block(output: str, marker: str) -> list[str]:
    """The lines of ``output`` from the one containing ``marker`` to the next task."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if marker in line)
    block = [lines[start]]
    for line in lines[start + 1 :]:
        if not line.startswith("    | "):
            break
        block.append(line)
    return block


def test_run_summary_and_status_show_the_end_of_a_failed_tasks_output(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = _uet(capsys, "run", "ws.json")
    assert code == 1
    run_id = out.split()[1]
    code, status = _uet(capsys, "status", run_id)
    assert code == 0
    for output, marker in ((out, "failed    imports:"), (status, "  imports  failed")):
        block = _task_block(output, marker)
        assert "log: .uet/logs/" in block[0]
        assert block[-1] == "    | ModuleNotFoundError: No module named 'no_such_module_for_uet'"
    for output, marker in ((out, "failed    chatty:"), (status, "  chatty   failed")):
        block = _task_block(output, marker)
        assert block[1] == f"    | … (earlier output: uet logs {run_id} chatty)"
        assert len(block) == 2 + TAIL_LINES
        assert block[-2:] == ["    | line 40", "    | last"]
        assert "    | line 1" not in block
    wide = _task_block(out, "failed    wide:")
    assert wide[1] == "    | " + "x" * TAIL_WIDTH + "…"
    assert "not shown" not in out and "not shown" not in status


def test_a_log_that_is_not_a_regular_file_is_not_read(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = _uet(capsys, "run", "ws.json", "--task", "imports")
    assert code == 1
    run_id = out.split()[1]
    log = next((workspace / ".uet" / "logs").rglob("imports.1.log"))
    log.unlink()
    os.mkfifo(log)  # reading it would block until a writer came
    status = subprocess.run(
        [sys.executable, "-m", "uet", "status", run_id],
        cwd=workspace,
        capture_output=True,
        text=True,
        timeout=60,  # a guard against a hang, not a measure
        check=False,
    )
    assert status.returncode == 0, status.stderr
    block = _task_block(status.stdout, "  imports  failed")
    assert block == [block[0]] and "log: .uet/logs/" in block[0]
