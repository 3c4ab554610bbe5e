"""Crash and cancel trials of ``uet run``: what survives a ``kill -9``, and what a cancel leaves.

Kill trials: a 30-task workstream (layers of 6, each task depending on two of the layer
before; every task sleeps 50-300 ms) runs with 4 jobs through ``uet run``, which is killed
with SIGKILL at a random moment; then ``uet resume`` runs it to its end. Every task journals
its start and end, and holds an exclusive ``flock`` on its own lock file while it runs
(inherited by its ``sleep``), so a second copy of a task that starts while the first still
runs is seen. Per trial: concurrent duplicates (a copy that found its lock held), re-runs of
completed tasks (a task the store recorded succeeded before the kill that started again),
processes of the run alive after resume (marked with the run's id), and whether the run
ended succeeded. The goal is 0 / 0 / 0 / 0.

Cancel trials: 3 tasks, each starting a grandchild that leaves its process group
(``setsid sleep 300``) and one that stays in it, are canceled from another process
(``uet cancel``); the trial counts when every process of the run is gone within 1 s.

Usage: python benchmarks/crash_resume.py [--trials N] [--cancel-trials M] [--seed S]
"""

from __future__ import annotations

import argparse
import json
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

TASKS = 30
WIDTH = 6
JOBS = 4
# A failure guard: a resume, a cancel or a run that takes longer than this has hung.
GUARD_SECONDS = 120

# $1 task id, $2 journal folder. The lock is held through fd 9 by sh and its sleep.
TASK_SCRIPT = """
exec 9>"$2/$1.lock"
flock -n 9 || echo "concurrent $1" >> "$2/journal"
echo "start $1" >> "$2/journal"
sleep "$3"
echo "end $1" >> "$2/journal"
"""
ESCAPING_TASK = "setsid sleep 300 & echo $! >> {pids}; sleep 300 & echo $! >> {pids}; sleep 300"


@dataclass
class KillTrial:
    """One kill -9 trial's findings."""

    concurrent_duplicates: int
    completed_rerun: int
    alive_after_resume: int
    finished: bool
    killed: bool


def workstream(folder: Path, rng: random.Random) -> Path:
    """The 30-task workstream (and the ``.uet`` marker) in ``folder``."""
    (folder / ".uet").mkdir(parents=True, exist_ok=True)
    (folder / "task.sh").write_text(TASK_SCRIPT)
    tasks = []
    for index in range(TASKS):
        layer, slot = divmod(index, WIDTH)
        depends = [f"t{(layer - 1) * WIDTH + (slot + k) % WIDTH}" for k in (0, 1)] if layer else []
        tasks.append(
            {
                "task_id": f"t{index}",
                "name": f"Task {index}",
                "kind": "shell",
                "command": [
                    "sh",
                    str(folder / "task.sh"),
                    f"t{index}",
                    str(folder),
                    f"{rng.uniform(0.05, 0.3):.3f}",
                ],
                "depends_on": depends,
            }
        )
    return _write(folder, tasks)


def _write(folder: Path, tasks: list[dict[str, object]]) -> Path:
    path = folder / "ws.json"
    document = {
        "workstream_id": "ws-crash",
        "project_id": "bench",
        "phase_id": "PH-1",
        "name": "Crash trials",
        "objective": "kill the engine at random moments",
        "concurrency": {"max_parallel": JOBS},
        "tasks": tasks,
    }
    path.write_text(json.dumps(document))
    return path


def uet(folder: Path, *args: str) -> subprocess.Popen[bytes]:
    """``uet ARGS`` in ``folder``, its output appended to ``uet.out`` there."""
    with (folder / "uet.out").open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "uet", *args],
            cwd=folder,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def _query(folder: Path, sql: str, *parameters: object) -> list[tuple[object, ...]]:
    db = folder / ".uet" / "runs.db"
    if not db.exists():
        return []
    connection = sqlite3.connect(db)
    try:
        return connection.execute(sql, parameters).fetchall()
    except sqlite3.OperationalError:
        return []  # killed before the tables existed
    finally:
        connection.close()


def run_processes(run_id: str) -> list[int]:
    """Live processes marked with ``run_id`` (what ``uet.engine`` marks every child with)."""
    from uet.engine.adapters import processes

    return [process.pid for process in processes.marked(run_id)]


def kill_trial(folder: Path, rng: random.Random) -> KillTrial:
    """One trial: run, kill -9 at a random moment, resume to the end, count."""
    workstream(folder, rng)
    engine = uet(folder, "run", "ws.json", "--jobs", str(JOBS))
    time.sleep(rng.uniform(0.3, 2.5))
    killed = engine.poll() is None
    if killed:
        engine.send_signal(signal.SIGKILL)
    engine.wait(GUARD_SECONDS)
    journal = folder / "journal"
    with journal.open("a") as handle:
        handle.write("KILL -\n")
    rows = _query(folder, "SELECT run_id FROM runs")
    if not rows:  # killed before the run was recorded: nothing to resume
        return KillTrial(0, 0, 0, True, killed)
    run_id = str(rows[0][0])
    completed = {
        str(row[0])
        for row in _query(
            folder,
            "SELECT task_id FROM run_tasks WHERE run_id = ? AND state = 'succeeded'",
            run_id,
        )
    }
    state = str(_query(folder, "SELECT state FROM runs WHERE run_id = ?", run_id)[0][0])
    if state in ("pending", "running"):
        resumed = uet(folder, "resume", run_id)
        resumed.wait(GUARD_SECONDS)
    alive = run_processes(run_id)
    state = str(_query(folder, "SELECT state FROM runs WHERE run_id = ?", run_id)[0][0])
    lines = journal.read_text().splitlines()
    after_kill = lines[lines.index("KILL -") + 1 :]
    rerun = {line.split()[1] for line in after_kill if line.startswith("start ")} & completed
    duplicates = sum(1 for line in lines if line.startswith("concurrent "))
    return KillTrial(duplicates, len(rerun), len(alive), state == "succeeded", killed)


def cancel_trial(folder: Path) -> tuple[bool, float]:
    """One cancel trial: whether every process of the run was gone within 1 s of
    ``uet cancel`` starting, and how long it took."""
    (folder / ".uet").mkdir(parents=True, exist_ok=True)
    pids = folder / "pids.txt"
    tasks = [
        {
            "task_id": f"tree{index}",
            "name": f"Tree {index}",
            "kind": "shell",
            "command": ["sh", "-c", ESCAPING_TASK.format(pids=pids)],
        }
        for index in range(3)
    ]
    _write(folder, tasks)
    engine = uet(folder, "run", "ws.json")
    deadline = time.monotonic() + GUARD_SECONDS
    while not (pids.exists() and len(pids.read_text().split()) == 6):
        if time.monotonic() > deadline:
            engine.kill()
            raise RuntimeError("the cancel trial's tasks never started")
        time.sleep(0.02)
    run_id = str(_query(folder, "SELECT run_id FROM runs")[0][0])
    everything = set(run_processes(run_id)) | {int(pid) for pid in pids.read_text().split()}
    started = time.monotonic()
    canceler = uet(folder, "cancel", run_id)
    while any(alive(pid) for pid in everything) and time.monotonic() - started < GUARD_SECONDS:
        time.sleep(0.005)
    took = time.monotonic() - started
    canceler.wait(GUARD_SECONDS)
    engine.wait(GUARD_SECONDS)
    return took <= 1.0 and not any(alive(pid) for pid in everything), took


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--cancel-trials", type=int, default=20)
    parser.add_argument("--seed", type=int, default=16)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    totals = KillTrial(0, 0, 0, True, False)
    unfinished = killed = 0
    with tempfile.TemporaryDirectory(prefix="uet-crash-") as scratch:
        for number in range(args.trials):
            trial = kill_trial(Path(scratch) / f"kill{number}", rng)
            totals.concurrent_duplicates += trial.concurrent_duplicates
            totals.completed_rerun += trial.completed_rerun
            totals.alive_after_resume += trial.alive_after_resume
            unfinished += not trial.finished
            killed += trial.killed
        cancels = [cancel_trial(Path(scratch) / f"cancel{n}") for n in range(args.cancel_trials)]
    print(f"kill -9 trials: {args.trials} ({killed} killed mid-run), {TASKS} tasks, {JOBS} jobs")
    print(f"  concurrent duplicates:             {totals.concurrent_duplicates}")
    print(f"  re-runs of completed tasks:        {totals.completed_rerun}")
    print(f"  processes of the run after resume: {totals.alive_after_resume}")
    print(f"  runs not finished:                 {unfinished}")
    within = sum(1 for gone, _took in cancels if gone)
    slowest = max((took for _gone, took in cancels), default=0.0)
    print(
        f"cancel with escaped grandchildren: every process gone within 1 s in "
        f"{within}/{len(cancels)} trials (slowest {slowest:.2f} s)"
    )
    failed = totals.concurrent_duplicates + totals.completed_rerun + totals.alive_after_resume
    return 1 if failed or unfinished or within < len(cancels) else 0


if __name__ == "__main__":
    raise SystemExit(main())
