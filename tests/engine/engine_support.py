"""Helpers shared by the engine tests: artifact validation and workspace builders."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from uet.artifacts.registry import bundled_registry
from uet.engine.store.database import compact_json, connect, integrity_problems
from uet.engine.store.ids import utc_timestamp
from uet.engine.store.lifecycle import NewStep
from uet.engine.store.records import run_event_records, run_record, step_attempt_records
from uet.engine.store.transitions import apply_step_changes


def assert_valid(schema_name: str, value: Any) -> None:
    """Validate ``value`` against the bundled schema ``schema_name``."""
    registry = bundled_registry()
    assert schema_name in registry, f"schema {schema_name} is not bundled"
    errors = sorted(
        registry.validator(schema_name).iter_errors(value), key=lambda error: error.json_path
    )
    assert not errors, [f"{error.json_path}: {error.message}" for error in errors]


def create_attempt(
    connection: sqlite3.Connection,
    attempt_id: str,
    run_id: str,
    task_id: str,
    sequence: int = 1,
    attempt: int = 1,
    tool_id: str = "tool",
    execution_request: Mapping[str, Any] | None = None,
) -> None:
    """Create a ``pending`` step attempt the way the engine does (inside a transaction)."""
    request_id = None if execution_request is None else execution_request.get("request_id")
    request_json = None if execution_request is None else compact_json(execution_request)
    step = NewStep(
        attempt_id, run_id, task_id, sequence, attempt, tool_id, utc_timestamp(),
        request_id, request_json,
    )  # fmt: skip
    apply_step_changes(connection, [], created=[step])


def process_alive(pid: int) -> bool:
    """Whether ``pid`` is a live process (zombies waiting for their reaper count as dead)."""

    stat = Path(f"/proc/{pid}/stat")
    if stat.parent.parent.is_dir() and Path("/proc/self").exists():
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            return False
        return fields[0] not in ("Z", "X")
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> bool:
    """Poll ``condition()`` until true or ``timeout`` seconds passed; returns its last value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


PROGRAM = r"""
import os, sys, time
mode, name, journal = sys.argv[1], sys.argv[2], sys.argv[3]
args = sys.argv[4:]

def note(event):
    with open(journal, "a") as handle:
        handle.write(f"{event} {name} {time.monotonic():.6f}\n")

note("start")
if mode == "sleep":
    time.sleep(float(args[0]))
elif mode == "fail":
    note("end")
    sys.exit(int(args[0]) if args else 1)
elif mode == "await":  # until every task named in args has ended (30 s at most)
    deadline = time.monotonic() + 30
    wanted = {f"end {other}" for other in args}
    while not wanted <= {" ".join(line.split()[:2]) for line in open(journal)}:
        if time.monotonic() > deadline:
            note("end")
            sys.exit(1)
        time.sleep(0.01)
elif mode == "meet":  # until COUNT tasks have started, itself included (30 s at most)
    deadline = time.monotonic() + 30
    while sum(line.startswith("start ") for line in open(journal)) < int(args[0]):
        if time.monotonic() > deadline:
            note("end")
            sys.exit(1)
        time.sleep(0.01)
elif mode == "flaky":
    counter = journal + "." + name + ".count"
    count = int(open(counter).read()) if os.path.exists(counter) else 0
    open(counter, "w").write(str(count + 1))
    if count < int(args[0]):
        note("end")
        sys.exit(int(args[1]))
print(f"{name} done")
note("end")
"""


def write_workspace(
    root: Path,
    tasks: list[dict[str, Any]],
    *,
    router: dict[str, Any] | None = None,
    strategy: str | None = None,
    max_parallel: int | None = None,
) -> Path:
    """A workspace (``.uet/`` marker) holding ``ws.json`` and optionally a router config.

    Task ``program`` entries ``[mode, *args]`` become commands running :data:`PROGRAM`,
    which journals start and end times to ``journal.txt``. Modes: ``sleep SECONDS``,
    ``fail [CODE]``, ``flaky FAILURES CODE`` (fails its first runs), ``await TASK...``
    (ends once those tasks have ended) and ``meet COUNT`` (ends once COUNT tasks have
    started). The last two fail after 30 s, so a run that cannot get there fails instead
    of depending on how long anything took.
    """

    root = Path(root)
    (root / ".uet").mkdir(parents=True, exist_ok=True)
    (root / "prog.py").write_text(PROGRAM)
    journal = str(root / "journal.txt")
    rendered = []
    for original in tasks:
        task = dict(original)
        task.setdefault("name", f"Task {task['task_id']}")
        task.setdefault("kind", "shell")
        program = task.pop("program", None)
        if program is not None:
            mode, *rest = program
            task["command"] = [
                sys.executable,
                str(root / "prog.py"),
                mode,
                task["task_id"],
                journal,
                *rest,
            ]
        rendered.append(task)
    workstream: dict[str, Any] = {
        "workstream_id": "ws-test",
        "project_id": "test",
        "phase_id": "PH-1",
        "name": "Test workstream",
        "objective": "exercise the engine",
        "tasks": rendered,
    }
    if strategy is not None:
        workstream["error_handling"] = {"strategy": strategy}
    if max_parallel is not None:
        workstream["concurrency"] = {"max_parallel": max_parallel}
    path = root / "ws.json"
    path.write_text(json.dumps(workstream, indent=2))
    if router is not None:
        (root / "router_config.json").write_text(json.dumps(router, indent=2))
    return path


def journal(root: Path) -> list[tuple[str, str, float]]:
    """The (event, task, time) lines :data:`PROGRAM` wrote, in time order."""

    path = Path(root) / "journal.txt"
    if not path.exists():
        return []
    entries = []
    for line in path.read_text().splitlines():
        event, name, moment = line.split()
        entries.append((event, name, float(moment)))
    return sorted(entries, key=lambda entry: entry[2])


def max_concurrency(entries: list[tuple[str, str, float]]) -> int:
    running = peak = 0
    for event, _name, _moment in entries:
        running += 1 if event == "start" else -1
        peak = max(peak, running)
    return peak


def task_states(db_path: Path, run_id: str) -> dict[str, tuple[str, str | None]]:
    """``{task_id: (state, reason)}`` from run_tasks."""

    connection = sqlite3.connect(db_path)
    try:
        return {
            row[0]: (row[1], row[2])
            for row in connection.execute(
                "SELECT task_id, state, state_reason FROM run_tasks WHERE run_id = ?", (run_id,)
            )
        }
    finally:
        connection.close()


def check_run_artifacts(db_path: Path, run_id: str) -> None:
    """Every row of the run round-trips to a valid artifact; the store is sound."""

    connection = connect(db_path)
    try:
        assert_valid("run_record", run_record(connection, run_id))
        for attempt in step_attempt_records(connection, run_id):
            assert_valid("step_attempt", attempt)
        for event in run_event_records(connection, run_id):
            assert_valid("run_event", event)
        for (text,) in connection.execute(
            "SELECT execution_request_json FROM step_attempts WHERE run_id = ?", (run_id,)
        ):
            assert_valid("execution_request", json.loads(text))
        assert integrity_problems(connection) == []
    finally:
        connection.close()


def uet_process(root: Path, *args: str) -> Any:
    """``uet ARGS`` as a child process in ``root`` (output captured to files there)."""

    out = (root / "uet.out").open("ab")
    try:
        return subprocess.Popen(
            [sys.executable, "-m", "uet", *args],
            cwd=root,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    finally:
        out.close()


def latest_run_id(db_path: Path) -> str | None:

    if not db_path.exists():
        return None
    connection = sqlite3.connect(db_path)
    try:
        row = connection.execute("SELECT run_id FROM runs ORDER BY run_id DESC LIMIT 1").fetchone()
        return None if row is None else str(row[0])
    except sqlite3.OperationalError:
        return None  # the engine was killed before it created the tables
    finally:
        connection.close()


def running_attempt_groups(db_path: Path, run_id: str) -> list[int]:
    """Process groups of the attempts recorded as running."""

    connection = sqlite3.connect(db_path)
    try:
        return [
            int(row[0])
            for row in connection.execute(
                "SELECT process_group FROM step_attempts WHERE run_id = ? AND state = 'running'"
                " AND process_group IS NOT NULL",
                (run_id,),
            )
        ]
    finally:
        connection.close()
