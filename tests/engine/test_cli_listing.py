"""``uet runs --limit``, ``uet logs --json`` and ``uet cancel --json`` on real runs: what
they print is true of the run store."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from engine_support import write_workspace

from uet.cli.main import main
from uet.engine import connect


def _uet(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    write_workspace(
        tmp_path,
        [
            {"task_id": "hello", "command": ["echo", "hello world"]},
            {"task_id": "bad", "command": ["sh", "-c", "echo oops >&2; exit 3"]},
        ],
        strategy="continue",
    )
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_runs_limit_zero_lists_every_run_and_a_limit_says_what_it_left_out(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_ids = []
    for _ in range(3):
        _, out, _ = _uet(capsys, "run", "ws.json")
        run_ids.append(out.split()[1])
    code, out, err = _uet(capsys, "runs", "--limit", "0")
    assert code == 0
    assert [line.split()[0] for line in out.splitlines()] == run_ids[::-1]
    assert err == ""
    code, out, err = _uet(capsys, "runs", "--limit", "1")
    assert [line.split()[0] for line in out.splitlines()] == [run_ids[-1]]
    assert err == "(1 most recent of 3 runs; --limit 0 lists every run)\n"
    code, out, err = _uet(capsys, "runs", "--limit", "1", "-q")
    assert (len(out.splitlines()), err) == (1, "")
    with pytest.raises(SystemExit) as usage:
        main(["runs", "--limit", "-1"])
    assert usage.value.code == 2
    assert "expected a whole number of 0 or more" in capsys.readouterr().err


def test_runs_in_a_store_without_runs_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    connect(tmp_path / ".uet" / "runs.db").close()  # the store as the engine creates it
    monkeypatch.chdir(tmp_path)
    code, out, _ = _uet(capsys, "runs", "--limit", "0")
    assert (code, out) == (0, "no runs yet\n")


def test_logs_json(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = _uet(capsys, "run", "ws.json")
    run_id = out.split()[1]
    code, out, _ = _uet(capsys, "logs", run_id, "--json")
    assert code == 0
    records = {record["task_id"]: record for record in json.loads(out)}
    assert records["hello"]["output"] == "hello world\n"
    assert records["bad"]["output"] == "oops\n"
    assert records["bad"]["attempt"] == 1 and records["bad"]["error"] is None
    assert records["bad"]["logs_path"].startswith(".uet/logs/")


def test_cancel_json_from_another_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    write_workspace(tmp_path, [{"task_id": "slow", "command": ["sleep", "60"]}])
    monkeypatch.chdir(tmp_path)
    running = subprocess.Popen(
        [sys.executable, "-m", "uet", "run", "ws.json"],
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        run_id = None
        for _ in range(600):  # a guard of 60 s, not a measure
            code, out, _ = _uet(capsys, "runs", "--json")
            runs = json.loads(out) if code == 0 else []
            if runs and runs[0]["state"] == "running":
                run_id = runs[0]["run_id"]
                break
            time.sleep(0.1)
        assert run_id is not None, "the run never started"
        code, out, err = _uet(capsys, "cancel", run_id, "--json")
        assert code == 0, err
        assert json.loads(out) == {"run_id": run_id, "state": "canceled"}
    finally:
        if running.poll() is None:
            running.kill()
        running.communicate(timeout=60)
