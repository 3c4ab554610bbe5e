"""``RunOptions.child_priority``: the children of a run (and what they start) get the CPU
priority asked for, the engine keeps its own, and ``NORMAL`` changes nothing. Real child
processes report their nice value and scheduling policy.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from engine_support import write_workspace

from uet.engine import CpuPriority
from uet.engine.adapters.base import AdapterRequest, AttemptStatus
from uet.engine.adapters.subprocess import SubprocessAdapter
from uet.engine.cancel import CancelToken
from uet.engine.running.progress import EngineEvent, EngineEventKind
from uet.engine.running.session import RunOptions
from uet.engine.running.start import start_run
from uet.engine.store.lifecycle import RunState

# The child (and a grandchild it forks) write "nice policy". The priority is set right after
# the child starts, so it reads after a short pause: python needs longer to start.
REPORT = """
import os, sys, time
time.sleep(0.1)
def report(path):
    with open(path, "w") as handle:
        handle.write(f"{os.nice(0)} {os.sched_getscheduler(0)}")
report(sys.argv[1])
pid = os.fork()
if pid == 0:
    report(sys.argv[1] + ".grandchild")
    os._exit(0)
os.waitpid(pid, 0)
"""

pytestmark = pytest.mark.skipif(
    not hasattr(os, "sched_getscheduler"), reason="needs scheduling policies (Linux)"
)


def _own() -> tuple[int, int]:
    return os.nice(0), os.sched_getscheduler(0)


def _expected(priority: CpuPriority) -> tuple[int, int]:
    nice, policy = _own()
    if priority is CpuPriority.LOW:
        return min(19, nice + 10), policy
    if priority is CpuPriority.IDLE:
        return 19, os.SCHED_IDLE
    return nice, policy


def _every_thread() -> set[tuple[int, int]]:
    """(nice, policy) of each thread of this process (Linux keeps both per thread)."""
    values = set()
    for stat in Path("/proc/self/task").glob("*/stat"):
        fields = stat.read_text().rsplit(")", 1)[1].split()
        values.add((int(fields[16]), int(fields[38])))  # stat fields 19 and 41
    return values


def _reported(path: Path) -> tuple[int, int]:
    nice, policy = path.read_text().split()
    return int(nice), int(policy)


@pytest.mark.parametrize("priority", list(CpuPriority))
def test_the_adapter_lowers_the_child_only(tmp_path: Path, priority: CpuPriority) -> None:
    script = tmp_path / "report.py"
    script.write_text(REPORT)
    report = tmp_path / "priority.txt"
    before = _own()
    with CancelToken() as cancel:
        result = SubprocessAdapter().execute(
            AdapterRequest(
                argv=(sys.executable, str(script), str(report)),
                cwd=tmp_path,
                log_path=tmp_path / "out.log",
                priority=priority,
            ),
            cancel,
        )
    assert result.status is AttemptStatus.COMPLETED, result.reason
    assert _reported(report) == _expected(priority)
    assert _reported(Path(f"{report}.grandchild")) == _expected(priority)
    assert _own() == before
    assert _every_thread() == {before}


@pytest.mark.parametrize("priority", [CpuPriority.NORMAL, CpuPriority.IDLE])
def test_a_run_starts_its_tasks_at_the_requested_priority(
    tmp_path: Path, priority: CpuPriority
) -> None:
    (tmp_path / "report.py").write_text(REPORT)
    path = write_workspace(
        tmp_path,
        [
            {
                "task_id": f"t{index}",
                "command": [sys.executable, "report.py", f"priority{index}.txt"],
            }
            for index in range(3)
        ],
        max_parallel=2,
    )
    before = _own()
    seen: set[tuple[int, int]] = set()

    def on_event(event: EngineEvent) -> None:  # on an engine worker, while the run lives
        if event.kind is EngineEventKind.TASK_FINISHED:
            seen.update(_every_thread())

    handle = start_run(path, options=RunOptions(child_priority=priority), subscribers=[on_event])
    result = handle.wait(timeout=60)
    assert result is not None and result.state is RunState.SUCCEEDED
    for index in range(3):
        assert _reported(tmp_path / f"priority{index}.txt") == _expected(priority)
    assert seen == {before}  # the engine's threads kept their priority
