"""Runs end to end: dynamic scheduling, max_parallel, error strategies, routing, refusal."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from engine_support import (
    check_run_artifacts,
    journal,
    max_concurrency,
    task_states,
    write_workspace,
)

from uet.engine.errors import CycleError, SpecError, UnroutableTaskError
from uet.engine.running.progress import EngineEvent, EngineEventKind
from uet.engine.running.session import RunOptions
from uet.engine.running.start import RunResult, start_run
from uet.engine.store.lifecycle import RunState


def run(path: Path, **options: object) -> RunResult:
    handle = start_run(path, options=RunOptions(**options))  # type: ignore[arg-type]
    result = handle.wait(timeout=60)
    assert result is not None
    return result


def test_a_task_starts_when_its_own_dependencies_finish(tmp_path: Path) -> None:
    path = write_workspace(
        tmp_path,
        [
            # slow ends only once after_fast has: the run must start after_fast while
            # slow (of fast's layer) still runs.
            {"task_id": "slow", "program": ["await", "after_fast"]},
            {"task_id": "fast", "program": ["sleep", "0"]},
            {"task_id": "after_fast", "program": ["sleep", "0"], "depends_on": ["fast"]},
            {"task_id": "after_slow", "program": ["sleep", "0"], "depends_on": ["slow"]},
        ],
        max_parallel=2,
    )
    result = run(path)
    assert result.state is RunState.SUCCEEDED
    times = {(event, name): moment for event, name, moment in journal(tmp_path)}
    # Not layer by layer: after_fast ran while slow (same layer as fast) still ran.
    assert times["start", "after_fast"] < times["end", "slow"]
    assert times["start", "after_slow"] > times["end", "slow"]
    check_run_artifacts(tmp_path / ".uet" / "runs.db", result.run_id)


@pytest.mark.parametrize("jobs", [1, 3])
def test_jobs_bound_the_parallelism(tmp_path: Path, jobs: int) -> None:
    path = write_workspace(
        tmp_path,
        # The first ``jobs`` tasks wait for each other: they must run at once.
        [{"task_id": f"t{i}", "program": ["meet", str(jobs)]} for i in range(6)],
        max_parallel=3,
    )
    result = run(path, jobs=jobs)  # --jobs may lower concurrency.max_parallel (a ceiling)
    assert result.state is RunState.SUCCEEDED
    assert max_concurrency(journal(tmp_path)) == jobs


def test_fail_fast_cancels_the_rest(tmp_path: Path) -> None:
    path = write_workspace(
        tmp_path,
        [
            {"task_id": "bad", "program": ["fail", "4"]},
            {"task_id": "long", "program": ["sleep", "30"]},
            {"task_id": "later", "program": ["sleep", "0"], "depends_on": ["long"]},
            {"task_id": "child", "program": ["sleep", "0"], "depends_on": ["bad"]},
        ],
        max_parallel=2,
    )
    result = run(path, kill_grace_seconds=1.0)
    assert result.state is RunState.FAILED
    assert result.reason == "1 task(s) failed: 'bad'"
    states = task_states(tmp_path / ".uet" / "runs.db", result.run_id)
    assert states["bad"] == ("failed", "exit code 4")
    assert states["long"][0] == "canceled"
    assert states["later"][0] == "canceled"
    assert states["child"] == ("skipped", "depends on 'bad', which failed")
    check_run_artifacts(tmp_path / ".uet" / "runs.db", result.run_id)


@pytest.mark.parametrize(
    ("strategy", "final"), [("continue", RunState.FAILED), ("escalate", RunState.QUARANTINED)]
)
def test_continue_and_escalate_run_everything_that_can_run(
    tmp_path: Path, strategy: str, final: RunState
) -> None:
    path = write_workspace(
        tmp_path,
        [
            {"task_id": "bad", "program": ["fail"]},
            {"task_id": "skipped1", "program": ["sleep", "0"], "depends_on": ["bad"]},
            {"task_id": "skipped2", "program": ["sleep", "0"], "depends_on": ["skipped1"]},
            {"task_id": "fine", "program": ["sleep", "0.2"]},
            {"task_id": "fine_child", "program": ["sleep", "0"], "depends_on": ["fine"]},
        ],
        strategy=strategy,
        max_parallel=2,
    )
    result = run(path)
    assert result.state is final
    states = task_states(tmp_path / ".uet" / "runs.db", result.run_id)
    assert states["fine"][0] == states["fine_child"][0] == "succeeded"
    assert states["skipped1"] == ("skipped", "depends on 'bad', which failed")
    assert states["skipped2"][0] == "skipped"
    assert "depends on 'skipped1', which was skipped" in str(states["skipped2"][1])
    assert result.snapshot.done == 5
    assert result.snapshot.skipped == 2


def test_progress_events_reach_subscribers(tmp_path: Path) -> None:
    path = write_workspace(
        tmp_path,
        [{"task_id": f"t{i}", "program": ["sleep", "0"]} for i in range(3)],
        max_parallel=2,
    )
    events: list[EngineEvent] = []
    handle = start_run(path, subscribers=[events.append])
    result = handle.wait(timeout=30)
    assert result is not None and result.succeeded
    kinds = [event.kind for event in events]
    assert kinds[0] is EngineEventKind.RUN_STARTED
    assert kinds[-1] is EngineEventKind.RUN_FINISHED
    assert kinds.count(EngineEventKind.TASK_STARTED) == 3
    assert kinds.count(EngineEventKind.TASK_FINISHED) == 3
    # Chunks of tasks running side by side interleave: each task's own output is whole.
    for task_id in ("t0", "t1", "t2"):
        output = b"".join(
            event.output or b""
            for event in events
            if event.kind is EngineEventKind.TASK_OUTPUT and event.task_id == task_id
        )
        assert output == f"{task_id} done\n".encode(), events
    percents = [event.snapshot.percent for event in events]
    assert percents == sorted(percents)
    assert events[-1].snapshot.percent == 100.0
    assert events[-1].snapshot.eta_seconds == 0.0


def test_a_run_whose_store_lost_a_write_does_not_succeed(
    tmp_path: Path, connection: sqlite3.Connection
) -> None:
    # The store refuses one write the run queues without waiting for it (the event of a
    # retry), as a full disk would: the run's history is incomplete, so the run cannot be
    # recorded as a success although its task succeeded.
    connection.execute(
        "CREATE TRIGGER lose_retry_events BEFORE INSERT ON run_events"
        " WHEN NEW.kind = 'retry_scheduled' BEGIN SELECT RAISE(ABORT, 'disk full'); END"
    )
    retrying = {
        "kind": "tool",
        "command": ["unused"],
        "capabilities": {"task_kinds": ["flaky"]},
        "retry": {"retryable_exit_codes": [75]},
    }
    path = write_workspace(
        tmp_path,
        [{"task_id": "flaky", "kind": "flaky", "program": ["flaky", "1", "75"]}],
        router={"version": "1.0.0", "apps": {"retrying": retrying}, "routing": {"rules": []}},
    )
    result = run(path, sleep=lambda _seconds: None)
    assert result.state is RunState.FAILED
    assert result.reason == "the run store lost a write: disk full"
    stored = connection.execute(
        "SELECT state, state_reason FROM runs WHERE run_id = ?", (result.run_id,)
    ).fetchone()
    assert tuple(stored) == ("failed", result.reason)
    assert task_states(tmp_path / ".uet" / "runs.db", result.run_id)["flaky"][0] == "succeeded"
    retries = connection.execute("SELECT COUNT(*) FROM run_events WHERE kind = 'retry_scheduled'")
    assert retries.fetchone()[0] == 0


def test_invalid_workstream_is_refused_with_diagnostics(tmp_path: Path) -> None:
    path = write_workspace(tmp_path, [{"task_id": "a", "command": ["true"]}])
    document = json.loads(path.read_text())
    document["taks"] = document.pop("tasks")
    path.write_text(json.dumps(document, indent=2))
    with pytest.raises(SpecError) as info:
        start_run(path)
    assert any(line.startswith("ws.json:") and " error " in line for line in info.value.problems)
    assert not (tmp_path / ".uet" / "runs.db").exists()


def test_cycles_are_refused_with_their_path(tmp_path: Path) -> None:
    path = write_workspace(
        tmp_path,
        [
            {"task_id": "a", "command": ["true"], "depends_on": ["b"]},
            {"task_id": "b", "command": ["true"], "depends_on": ["a"]},
        ],
    )
    with pytest.raises(CycleError) as info:
        start_run(path)
    assert set(info.value.cycle) == {"a", "b"}


def test_unroutable_task_fails_before_anything_starts(tmp_path: Path) -> None:
    path = write_workspace(
        tmp_path,
        [
            {"task_id": "ok", "program": ["sleep", "0"]},
            {"task_id": "orphan", "kind": "translate"},
        ],
        router={
            "version": "1.0.0",
            "apps": {
                "linter": {
                    "kind": "validator",
                    "command": ["true"],
                    "capabilities": {"task_kinds": ["lint"]},
                }
            },
            "routing": {"rules": []},
        },
    )
    with pytest.raises(SpecError) as info:
        start_run(path)
    assert "task 'orphan' cannot be routed" in " ".join(info.value.problems)
    assert journal(tmp_path) == []


def test_unroutable_error_names_the_task() -> None:
    error = UnroutableTaskError("t1", "no app")
    assert error.task_id == "t1"
    assert str(error) == "task 't1' cannot be routed: no app"


def test_routed_app_command_and_args(tmp_path: Path) -> None:
    marker = tmp_path / "out"
    marker.mkdir()
    path = write_workspace(
        tmp_path,
        [{"task_id": "touch", "kind": "make", "args": ["out/made"]}],
        router={
            "version": "1.0.0",
            "apps": {
                "toucher": {
                    "kind": "tool",
                    "command": "touch",
                    "capabilities": {"task_kinds": ["make"]},
                }
            },
            "routing": {"rules": []},
        },
    )
    result = run(path)
    assert result.state is RunState.SUCCEEDED, result.reason
    assert (marker / "made").exists()
    check_run_artifacts(tmp_path / ".uet" / "runs.db", result.run_id)


def test_shell_only_when_the_app_asks(tmp_path: Path) -> None:
    router = {
        "version": "1.0.0",
        "apps": {
            "sh": {
                "kind": "tool",
                "command": "echo $((6 * 7)) > answer",
                "shell": True,
                "capabilities": {"task_kinds": ["shell-app"]},
            },
        },
        "routing": {"rules": []},
    }
    path = write_workspace(
        tmp_path,
        [
            {"task_id": "with_shell", "kind": "shell-app"},
            {"task_id": "no_shell", "command": "echo $((6 * 7)) > literal"},
        ],
        router=router,
        strategy="continue",
    )
    result = run(path)
    assert (tmp_path / "answer").read_text() == "42\n"
    assert not (tmp_path / "literal").exists()  # argv: '>' was an argument to echo
    assert result.state is RunState.SUCCEEDED


def test_cwd_outside_the_workspace_is_refused(tmp_path: Path) -> None:
    inner = tmp_path / "ws"
    inner.mkdir()
    path = write_workspace(inner, [{"task_id": "a", "command": ["true"], "cwd": "sub/../.."}])
    with pytest.raises(SpecError):
        start_run(path)


def test_empty_workstream_succeeds(tmp_path: Path) -> None:
    result = run(write_workspace(tmp_path, []))
    assert result.state is RunState.SUCCEEDED
    assert result.snapshot.percent == 100.0


def test_app_limits_bound_its_parallelism(tmp_path: Path) -> None:
    path = write_workspace(
        tmp_path,
        [{"task_id": f"t{i}", "kind": "single", "program": ["sleep", "0.15"]} for i in range(3)],
        router={
            "version": "1.0.0",
            "apps": {
                "one-at-a-time": {
                    "kind": "tool",
                    "command": ["unused"],
                    "capabilities": {"task_kinds": ["single"]},
                    "limits": {"max_parallel": 1},
                }
            },
            "routing": {"rules": []},
        },
    )
    result = run(path, jobs=3)
    assert result.state is RunState.SUCCEEDED
    assert max_concurrency(journal(tmp_path)) == 1
