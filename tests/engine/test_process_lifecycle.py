"""Nothing of an attempt outlives it: escaped grandchildren, background members of the
group, the engine killed by SIGKILL (the run's reaper), resume after that, and the
process-group record, with real processes."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from engine_support import latest_run_id, process_alive, uet_process, wait_until, write_workspace

from uet.engine.adapters import processes
from uet.engine.adapters.base import AdapterRequest, AdapterResult, AttemptStatus
from uet.engine.adapters.subprocess import SubprocessAdapter
from uet.engine.cancel import CancelToken
from uet.engine.running import reaper
from uet.engine.running.process_record import process_record_path
from uet.engine.running.session import RunOptions
from uet.engine.running.start import start_run
from uet.engine.store.database import connect
from uet.engine.store.lifecycle import RunState
from uet.engine.workspace import Workspace

# A failure guard only: every attempt below ends in about a second when the engine works,
# and would hang for 300 s when it does not.
GUARD_SECONDS = 60


def _execute(
    tmp_path: Path, script: str, cancel_after: float | None = None, **fields: object
) -> AdapterResult:
    """Run ``sh -c script`` through the adapter on another thread (canceled after
    ``cancel_after`` seconds), failing instead of hanging."""
    request = AdapterRequest(
        argv=("sh", "-c", script),
        cwd=tmp_path,
        log_path=tmp_path / "attempt.log",
        **fields,  # type: ignore[arg-type]
    )
    with CancelToken() as token, ThreadPoolExecutor(1) as pool:
        timer = None
        if cancel_after is not None:
            timer = threading.Timer(cancel_after, token.cancel, args=("stop",))
            timer.start()
        try:
            return pool.submit(SubprocessAdapter().execute, request, token).result(
                timeout=GUARD_SECONDS
            )
        finally:
            if timer is not None:
                timer.cancel()


def _pid(path: Path) -> int:
    assert wait_until(lambda: path.exists() and path.read_text().strip() != "", timeout=10)
    return int(path.read_text())


def _gone(pid: int) -> bool:
    """Neither running nor a zombie waiting for us: killed and reaped."""
    return not Path(f"/proc/{pid}").exists() or not process_alive(pid)


def test_cancel_ends_although_a_grandchild_left_the_group_holding_the_output(
    tmp_path: Path,
) -> None:
    escaped = tmp_path / "escaped.pid"
    result = _execute(
        tmp_path, f"setsid sleep 300 & echo $! > {escaped}; sleep 300", cancel_after=0.5
    )
    pid = _pid(escaped)
    assert result.status is AttemptStatus.CANCELED
    assert wait_until(lambda: _gone(pid), timeout=5)
    assert result.escaped == (f"pid {pid} (sleep)",)
    assert f"left its process group: pid {pid} (sleep)" in result.reason
    assert f"pid {pid} (sleep)" in (tmp_path / "attempt.log").read_text()


def test_a_timeout_ends_although_an_escaped_grandchild_holds_the_output(tmp_path: Path) -> None:
    # `setsid sleep 300 & true` with a 3 s timeout: the leader is done at once, the
    # escaped sleep keeps the output open; the attempt ends without waiting for it.
    escaped = tmp_path / "escaped.pid"
    result = _execute(tmp_path, f"setsid sleep 300 & echo $! > {escaped}; true", timeout_seconds=3)
    pid = _pid(escaped)
    assert result.status in (AttemptStatus.COMPLETED, AttemptStatus.TIMED_OUT)
    assert result.escaped == (f"pid {pid} (sleep)",)
    assert wait_until(lambda: _gone(pid), timeout=5)


def test_background_members_of_the_group_do_not_outlive_a_finished_attempt(
    tmp_path: Path,
) -> None:
    # The background sleep closed its output: the attempt ends with its leader, and the
    # group is swept; the sleep, re-parented to the engine, is reaped (no zombie left).
    background = tmp_path / "background.pid"
    result = _execute(tmp_path, f"sleep 300 >/dev/null 2>&1 & echo $! > {background}")
    assert result.status is AttemptStatus.COMPLETED
    pid = _pid(background)
    assert wait_until(lambda: not Path(f"/proc/{pid}").exists(), timeout=5)


def _reapers(run_id: str) -> list[int]:
    """The live reaper processes of run ``run_id``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            arguments = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        reaper = (
            b"uet.engine.running.reaper" in b" ".join(arguments) and run_id.encode() in arguments
        )
        if reaper and process_alive(int(entry.name)):
            found.append(int(entry.name))
    return found


def test_every_process_of_a_run_dies_with_its_engine_killed_by_sigkill(tmp_path: Path) -> None:
    # Each task has a background member of its group and a grandchild that left it; kill -9
    # of `uet run` takes all of them (and the run's reaper then ends too).
    script = (
        "sleep 300 & echo $! > {folder}/member.{i};"
        " setsid sleep 300 & echo $! > {folder}/escaped.{i};"
        " echo $$ > {folder}/leader.{i}; wait"
    )
    tasks = [
        {"task_id": f"t{i}", "command": ["sh", "-c", script.format(folder=tmp_path, i=i)]}
        for i in range(2)
    ]
    write_workspace(tmp_path, tasks, max_parallel=2)
    engine = uet_process(tmp_path, "run", "ws.json", "--jobs", "2")
    pids: list[int] = []
    try:
        pids = [
            _pid(tmp_path / f"{kind}.{i}")
            for kind in ("leader", "member", "escaped")
            for i in (0, 1)
        ]
        run_id = latest_run_id(tmp_path / ".uet" / "runs.db")
        assert run_id is not None
        assert _reapers(run_id)
        engine.kill()
        assert engine.wait(GUARD_SECONDS) == -signal.SIGKILL
        assert wait_until(lambda: not any(process_alive(pid) for pid in pids), timeout=10)
        assert wait_until(lambda: not _reapers(run_id), timeout=10)
    finally:
        engine.kill()
        engine.wait(GUARD_SECONDS)
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


# `uet ARGS` with the run's reaper missing (as if it had been killed with the engine): what
# the engine left behind is then for `uet resume` alone to stop.
_WITHOUT_REAPER = """
import runpy, sys
from uet.engine.running import reaper
def missing(*arguments):
    raise OSError("no reaper")
reaper.start = missing
sys.argv = ["uet", *sys.argv[1:]]
runpy.run_module("uet", run_name="__main__", alter_sys=True)
"""


def test_a_task_started_as_its_engine_died_is_stopped_before_resume_runs_it_again(
    tmp_path: Path,
) -> None:
    # The first copy kills its engine as soon as it starts (the engine may not have recorded
    # it yet) and leaves a grandchild outside its group; both hold a lock while they live.
    # `uet resume` must stop them before the task runs again: the second copy gets the lock.
    script = (
        "exec 9>>{folder}/lock; flock -n 9 || echo concurrent >> {folder}/log;"
        " echo $$ >> {folder}/copies;"
        " if [ ! -e {folder}/first ]; then : > {folder}/first;"
        " setsid sleep 300 & echo $! > {folder}/escaped; kill -9 $PPID; sleep 300; fi"
    )
    tasks = [{"task_id": "once", "command": ["sh", "-c", script.format(folder=tmp_path)]}]
    write_workspace(tmp_path, tasks)
    first: list[int] = []
    engine = subprocess.Popen(
        [sys.executable, "-c", _WITHOUT_REAPER, "run", "ws.json"],
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert engine.wait(GUARD_SECONDS) == -signal.SIGKILL
        first = [_pid(tmp_path / "escaped"), int((tmp_path / "copies").read_text().split()[0])]
        assert all(process_alive(pid) for pid in first)  # nothing else stopped them
        run_id = latest_run_id(tmp_path / ".uet" / "runs.db")
        assert run_id is not None
        resumed = subprocess.run(
            [sys.executable, "-m", "uet", "resume", run_id],
            cwd=tmp_path,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=GUARD_SECONDS,
            check=False,
        )
        assert resumed.returncode == 0, resumed.stdout + resumed.stderr
        assert not (tmp_path / "log").exists()  # never two copies at once
        assert len((tmp_path / "copies").read_text().split()) == 2
        assert not any(process_alive(pid) for pid in first)
    finally:
        for pid in first:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def _run(root: Path, tasks: list[dict[str, object]]) -> tuple[str, RunState]:
    write_workspace(root, tasks)
    handle = start_run(root / "ws.json", workspace=Workspace(root), options=RunOptions(jobs=2))
    result = handle.wait(GUARD_SECONDS)
    assert result is not None, "the run hung"
    return result.run_id, result.state


def _events(root: Path, run_id: str) -> list[dict[str, object]]:
    connection = sqlite3.connect(root / ".uet" / "runs.db")
    try:
        return [
            json.loads(row[0])
            for row in connection.execute(
                "SELECT payload_json FROM run_events WHERE run_id = ?", (run_id,)
            )
        ]
    finally:
        connection.close()


def test_every_child_of_a_run_is_in_its_process_group_record_and_the_reaper_leaves(
    tmp_path: Path,
) -> None:
    tasks = [
        {"task_id": f"t{i}", "command": ["sh", "-c", "echo $UET_ATTEMPT_ID"]} for i in range(6)
    ]
    run_id, state = _run(tmp_path, tasks)
    assert state is RunState.SUCCEEDED
    assert wait_until(lambda: not _reapers(run_id), timeout=10)  # it ended with its run
    record = process_record_path(tmp_path / ".uet" / "logs" / run_id).read_text().splitlines()
    assert len(record) == 6
    connection = sqlite3.connect(tmp_path / ".uet" / "runs.db")
    try:
        attempts = {
            row[0]: row[1]
            for row in connection.execute(
                "SELECT step_attempt_id, process_group FROM step_attempts WHERE run_id = ?",
                (run_id,),
            )
        }
    finally:
        connection.close()
    assert {(int(line.split()[0]), line.split()[2]) for line in record} == {
        (group, attempt) for attempt, group in attempts.items()
    }


def test_a_run_kills_what_left_its_group_and_closed_its_output(tmp_path: Path) -> None:
    escaped = tmp_path / "escaped.pid"
    script = f"setsid sleep 300 >/dev/null 2>&1 & echo $! > {escaped}; sleep 0.5"
    run_id, state = _run(tmp_path, [{"task_id": "leaves", "command": ["sh", "-c", script]}])
    assert state is RunState.SUCCEEDED
    pid = _pid(escaped)
    assert wait_until(lambda: _gone(pid), timeout=5)
    notes = [event for event in _events(tmp_path, run_id) if "processes" in event]
    assert notes and f"pid {pid} (sleep)" in notes[0]["processes"]  # type: ignore[operator]
    assert os.environ.get("UET_RUN_ID") != run_id  # the engine itself is not marked


def test_the_reaper_spares_what_started_after_its_engine_died(tmp_path: Path) -> None:
    # A resumed run's children carry the same run id: the dead engine's reaper, still at
    # work, must stop only what had started when its engine died.
    connect(tmp_path / "runs.db").close()
    environment = {**os.environ, "UET_RUN_ID": "01RUNOFTHEREAPERTEST", "UET_ATTEMPT_ID": "a"}
    earlier = subprocess.Popen(["sleep", "300"], env=environment, start_new_session=True)
    later: subprocess.Popen[bytes] | None = None
    try:
        assert wait_until(
            lambda: b"UET_RUN_ID" in Path(f"/proc/{earlier.pid}/environ").read_bytes()
        )
        time.sleep(0.1)  # a few clock ticks between the two starts
        death = processes.boot_ticks()
        time.sleep(0.1)
        later = subprocess.Popen(["sleep", "300"], env=environment, start_new_session=True)
        reaper.stop_run_processes("01RUNOFTHEREAPERTEST", tmp_path / "runs.db", tmp_path, death)
        assert not process_alive(earlier.pid)
        assert later.poll() is None
    finally:
        for process in (earlier, later):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait(GUARD_SECONDS)
