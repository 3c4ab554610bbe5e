"""A few trials of ``benchmarks/crash_resume.py`` (the same trial code): ``kill -9`` of
``uet run`` at random moments, then ``uet resume``; and a cancel of tasks whose grandchildren
left their process group. No timing is asserted, only what must hold every time: no task
ran twice at once, no completed task ran again, nothing of the run outlived it, and the run
finished."""

from __future__ import annotations

import importlib.util
import random
import sys
from pathlib import Path
from types import ModuleType

import pytest

KILL_TRIALS = 4
BENCHMARK = Path(__file__).resolve().parents[2] / "benchmarks" / "crash_resume.py"


def _trials() -> ModuleType:
    spec = importlib.util.spec_from_file_location("crash_resume", BENCHMARK)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["crash_resume"] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_kill_minus_nine_then_resume_runs_nothing_twice_and_leaves_nothing(
    tmp_path: Path,
) -> None:
    trials = _trials()
    rng = random.Random(16)
    for number in range(KILL_TRIALS):
        trial = trials.kill_trial(tmp_path / f"kill{number}", rng)
        assert trial.concurrent_duplicates == 0, number
        assert trial.completed_rerun == 0, number
        assert trial.alive_after_resume == 0, number
        assert trial.finished, number


def test_cancel_leaves_no_process_although_grandchildren_left_their_group(
    tmp_path: Path,
) -> None:
    trials = _trials()
    for number in range(2):
        trials.cancel_trial(tmp_path / f"cancel{number}")
        pids = (tmp_path / f"cancel{number}" / "pids.txt").read_text().split()
        assert not [pid for pid in pids if trials.alive(int(pid))]
