"""``RunOptions.child_niceness``: the children of a run get the nice increment, the engine
keeps its own priority, and 0 changes nothing. Real child processes report their niceness.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from engine_support import write_workspace

from uet.engine.adapters.base import AdapterRequest, AttemptStatus
from uet.engine.adapters.subprocess import SubprocessAdapter
from uet.engine.cancel import CancelToken
from uet.engine.progress import EngineEvent, EngineEventKind
from uet.engine.runner import start_run
from uet.engine.session import RunOptions
from uet.engine.states import RunState

# The child (and a grandchild it forks) write their niceness. The renice happens right
# after the child starts, so it reads after a short pause: python needs longer to start.
REPORT = """
import os, sys, time
time.sleep(0.1)
with open(sys.argv[1], "w") as handle:
    handle.write(str(os.nice(0)))
pid = os.fork()
if pid == 0:
    with open(sys.argv[1] + ".grandchild", "w") as handle:
        handle.write(str(os.nice(0)))
    os._exit(0)
os.waitpid(pid, 0)
"""


def _own_niceness() -> int:
    return os.nice(0)


def _niceness_of_every_thread() -> set[int]:
    """The nice values of this process's threads (Linux keeps one per thread)."""
    values = set()
    for stat in Path("/proc/self/task").glob("*/stat"):
        fields = stat.read_text().rsplit(")", 1)[1].split()
        values.add(int(fields[16]))  # field 19 of stat: nice
    return values


@pytest.mark.parametrize("increment", [0, 7])
def test_the_adapter_renices_the_child_only(tmp_path: Path, increment: int) -> None:
    script = tmp_path / "report.py"
    script.write_text(REPORT)
    report = tmp_path / "nice.txt"
    before = _own_niceness()
    with CancelToken() as cancel:
        result = SubprocessAdapter().execute(
            AdapterRequest(
                argv=(sys.executable, str(script), str(report)),
                cwd=tmp_path,
                log_path=tmp_path / "out.log",
                niceness=increment,
            ),
            cancel,
        )
    assert result.status is AttemptStatus.COMPLETED, result.reason
    expected = min(19, before + increment)
    assert int(report.read_text()) == expected
    assert int(Path(f"{report}.grandchild").read_text()) == expected
    assert _own_niceness() == before
    assert _niceness_of_every_thread() == {before}


@pytest.mark.parametrize("child_niceness", [0, 10])
def test_a_run_starts_its_tasks_at_the_requested_niceness(
    tmp_path: Path, child_niceness: int
) -> None:
    (tmp_path / "report.py").write_text(REPORT)
    path = write_workspace(
        tmp_path,
        [
            {
                "task_id": f"t{index}",
                "command": [sys.executable, "report.py", f"nice{index}.txt"],
            }
            for index in range(3)
        ],
        max_parallel=2,
    )
    before = _own_niceness()
    seen: set[int] = set()

    def on_event(event: EngineEvent) -> None:  # on an engine worker, while the run lives
        if event.kind is EngineEventKind.TASK_FINISHED:
            seen.update(_niceness_of_every_thread())

    handle = start_run(
        path, options=RunOptions(child_niceness=child_niceness), subscribers=[on_event]
    )
    result = handle.wait(timeout=60)
    assert result is not None and result.state is RunState.SUCCEEDED
    expected = min(19, before + child_niceness)
    for index in range(3):
        assert int((tmp_path / f"nice{index}.txt").read_text()) == expected
    assert seen == {before}  # the engine's threads were never reniced
