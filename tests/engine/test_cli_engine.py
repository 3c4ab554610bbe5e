"""The engine's CLI commands, run in-process through ``uet.cli.main.main``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from engine_support import assert_valid, write_workspace

from uet.cli.main import main


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
            {"task_id": "after_bad", "command": ["true"], "depends_on": ["bad"]},
        ],
        strategy="continue",
    )
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_run_status_logs_runs(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _uet(capsys, "run", "ws.json", "--jobs", "2")
    assert code == 1
    run_id = out.split()[1]
    assert out.startswith(f"run {run_id} failed in ")
    assert "failed    bad: exit code 3" in out
    assert "skipped   after_bad: depends on 'bad', which failed" in out
    assert "[3/3]" in err  # plain progress lines off a terminal

    code, out, _ = _uet(capsys, "status", run_id[:10])
    assert code == 0
    assert f"run {run_id}  failed" in out
    assert "hello" in out and "log: .uet/logs/" in out

    code, out, _ = _uet(capsys, "logs", run_id, "hello")
    assert (code, out) == (0, "hello world\n")
    code, out, _ = _uet(capsys, "logs", run_id)
    assert "==> bad (attempt 1) <==\noops\n" in out

    code, out, _ = _uet(capsys, "runs")
    assert code == 0 and run_id in out and "1/3 tasks" in out
    code, out, _ = _uet(capsys, "runs", "--json")
    assert json.loads(out)[0]["run_id"] == run_id

    code, out, _ = _uet(capsys, "status", run_id, "--json")
    document = json.loads(out)
    assert_valid("run_record", document["run"])
    for attempt in document["step_attempts"]:
        assert_valid("step_attempt", attempt)
    for event in document["events"]:
        assert_valid("run_event", event)


def test_run_json_prints_only_json(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (workspace / "ok.json").write_text(
        (workspace / "ws.json").read_text().replace("exit 3", "exit 0")
    )
    code, out, err = _uet(capsys, "run", "ok.json", "--json")
    assert code == 0
    document = json.loads(out)
    assert document["run"]["state"] == "succeeded"
    assert len(document["step_attempts"]) == 3
    assert err == ""


def test_invalid_workstream_exits_2_with_diagnostics(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (workspace / "broken.json").write_text('{"workstream_id": "x", "tasks": [}')
    code, _, err = _uet(capsys, "run", "broken.json")
    assert code == 2
    assert err.startswith("broken.json:1:")
    assert "nothing was started" in err
    assert not (workspace / ".uet" / "runs.db").exists()
    code, _, err = _uet(capsys, "run", "missing.json")
    assert code == 2


def test_router_option(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    router = {
        "version": "1.0.0",
        "apps": {
            "echoer": {
                "kind": "tool",
                "command": ["echo", "routed"],
                "capabilities": {"task_kinds": ["speak"]},
            }
        },
        "routing": {"rules": []},
    }
    (workspace / "custom-router.json").write_text(json.dumps(router))
    (workspace / "speak.json").write_text(
        json.dumps(
            {
                "workstream_id": "ws-speak",
                "project_id": "p",
                "phase_id": "PH-1",
                "name": "Speak",
                "objective": "",
                "tasks": [{"task_id": "say", "name": "Say", "kind": "speak"}],
            }
        )
    )
    code, out, err = _uet(capsys, "run", "speak.json")
    assert code == 2 and "cannot be routed" in err
    code, out, _ = _uet(capsys, "run", "speak.json", "--router", "custom-router.json")
    assert code == 0, out
    run_id = out.split()[1]
    assert _uet(capsys, "logs", run_id, "say")[1] == "routed\n"


def test_control_commands_report_problems(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _uet(capsys, "status", "01ARZ3NDEKTSV4RRFFQ69G5FAV")
    assert code == 1 and "no runs" in err
    code, out, _ = _uet(capsys, "run", "ws.json")
    run_id = out.split()[1]
    code, _, err = _uet(capsys, "resume", run_id)
    assert code == 1 and "nothing to resume" in err
    code, _, err = _uet(capsys, "cancel", run_id)
    assert code == 1 and "already finished" in err
    code, _, err = _uet(capsys, "status", "ZZZZ")
    assert code == 1 and "no run 'ZZZZ'" in err
    code, _, err = _uet(capsys, "logs", run_id, "nope")
    assert code == 1 and "no attempt of task 'nope'" in err
