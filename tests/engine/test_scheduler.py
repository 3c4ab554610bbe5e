"""Scheduler: layers, batches, cycles with their path, ready sets, skips with reasons."""

from __future__ import annotations

import itertools
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from uet.engine.errors import CycleError
from uet.engine.planning.scheduler import (
    DynamicSchedule,
    build_graph,
    execution_layers,
    parallel_batches,
    ready_tasks,
)
from uet.engine.planning.spec import TaskSpec

DIAMOND = {"a": [], "b": ["a"], "c": ["a"], "d": ["b", "c"], "e": []}


def test_layers_and_batches() -> None:
    graph = build_graph(DIAMOND)
    assert execution_layers(graph) == [["a", "e"], ["b", "c"], ["d"]]
    assert parallel_batches(graph, 1) == [["a"], ["e"], ["b"], ["c"], ["d"]]
    assert parallel_batches(graph, 2) == [["a", "e"], ["b", "c"], ["d"]]
    with pytest.raises(ValueError):
        parallel_batches(graph, 0)


def test_graph_from_task_specs_keeps_file_order() -> None:
    tasks = [
        TaskSpec("z", "Z", "k", depends_on=("y",)),
        TaskSpec("y", "Y", "k"),
        TaskSpec("x", "X", "k", depends_on=("y", "y")),
    ]
    graph = build_graph(tasks)
    assert graph.order == ("z", "y", "x")
    assert graph.dependencies["x"] == ("y",)
    assert graph.dependents["y"] == ("z", "x")
    assert execution_layers(graph) == [["y"], ["z", "x"]]


@pytest.mark.parametrize(
    ("tasks", "cycle"),
    [
        ({"a": ["a"]}, ("a", "a")),
        ({"a": ["b"], "b": ["a"]}, ("a", "b", "a")),
        ({"a": ["c"], "b": ["a"], "c": ["b"], "d": []}, ("a", "c", "b", "a")),
    ],
)
def test_cycles_report_their_path(tasks: dict[str, list[str]], cycle: tuple[str, ...]) -> None:
    with pytest.raises(CycleError) as info:
        build_graph(tasks)
    found = info.value.cycle
    assert found[0] == found[-1]
    assert len(found) == len(cycle)
    # Same cycle, whatever node it starts from; each task is followed by one it depends on.
    for task, dependency in itertools.pairwise(found):
        assert dependency in tasks[task]
    assert " -> ".join(found) in str(info.value)


def test_ready_tasks() -> None:
    graph = build_graph(DIAMOND)
    assert ready_tasks(graph, succeeded=[], started=[]) == ["a", "e"]
    assert ready_tasks(graph, succeeded=["a"], started=["e"]) == ["b", "c"]
    assert ready_tasks(graph, succeeded=["a", "b"], started=["c", "e"]) == []
    assert ready_tasks(graph, succeeded=["a", "b", "c", "e"], started=[]) == ["d"]


def test_a_task_starts_as_soon_as_its_own_dependencies_finish() -> None:
    graph = build_graph({"slow": [], "fast": [], "after_fast": ["fast"], "join": ["slow"]})
    schedule = DynamicSchedule(graph)
    assert schedule.take_ready() == ["slow", "fast"]
    schedule.succeed("fast")
    # after_fast is ready while slow (same layer as fast) still runs.
    assert schedule.take_ready() == ["after_fast"]
    assert schedule.running == {"slow", "after_fast"}


def test_take_ready_respects_limit_and_order() -> None:
    schedule = DynamicSchedule(build_graph({f"t{i}": [] for i in range(5)}))
    assert schedule.take_ready(2) == ["t0", "t1"]
    assert schedule.take_ready(2) == ["t2", "t3"]
    assert schedule.take_ready() == ["t4"]
    assert schedule.take_ready() == []


def test_failure_skips_dependents_transitively_with_reasons() -> None:
    graph = build_graph({"a": [], "b": ["a"], "c": ["b"], "d": [], "e": ["d", "b"]})
    schedule = DynamicSchedule(graph)
    assert schedule.take_ready() == ["a", "d"]
    skipped = schedule.fail("a")
    assert [task for task, _ in skipped] == ["b", "c", "e"]
    reasons = dict(skipped)
    assert reasons["b"] == "depends on 'a', which failed"
    assert reasons["c"].startswith("depends on 'b', which was skipped")
    assert "'a', which failed" in reasons["c"]
    assert not schedule.finished
    schedule.succeed("d")
    assert schedule.take_ready() == []
    assert schedule.finished


def test_cancel_pending_leaves_running_tasks() -> None:
    schedule = DynamicSchedule(build_graph(DIAMOND))
    assert schedule.take_ready(1) == ["a"]
    assert schedule.cancel_pending() == ["b", "c", "d", "e"]
    assert not schedule.finished
    schedule.resolve_running("a")
    assert schedule.finished


def test_outcomes_need_a_running_task() -> None:
    schedule = DynamicSchedule(build_graph(DIAMOND))
    with pytest.raises(ValueError, match="not running"):
        schedule.succeed("a")
    schedule.take_ready()
    schedule.succeed("a")
    with pytest.raises(ValueError, match="not running"):
        schedule.fail("a")


def test_resume_replays_already_succeeded_tasks() -> None:
    schedule = DynamicSchedule(build_graph(DIAMOND))
    assert schedule.restore(succeeded=["b", "a", "e"]) == []
    assert schedule.succeeded == {"a", "b", "e"}
    assert schedule.take_ready() == ["c"]
    schedule.succeed("c")
    assert schedule.take_ready() == ["d"]


def test_resume_replays_failures_and_other_outcomes() -> None:
    graph = build_graph({"a": [], "b": ["a"], "c": ["b"], "d": [], "e": [], "f": ["e"]})
    schedule = DynamicSchedule(graph)
    # a failed and b was already recorded as skipped; c still needs its skip; d was
    # canceled; e succeeded so f is ready.
    skipped = schedule.restore(succeeded=["e"], failed=["a"], other_outcomes=["b", "d"])
    assert [task for task, _ in skipped] == ["c"]
    assert schedule.take_ready() == ["f"]
    schedule.succeed("f")
    assert schedule.finished


@st.composite
def dags(draw: st.DrawFn) -> dict[str, list[str]]:
    size = draw(st.integers(min_value=1, max_value=25))
    names = [f"t{i}" for i in range(size)]
    return {
        name: draw(st.lists(st.sampled_from(names[:index]), max_size=4)) if index else []
        for index, name in enumerate(names)
    }


@settings(max_examples=150, deadline=None)
@given(dags(), st.integers(min_value=0, max_value=2**32), st.integers(min_value=1, max_value=4))
def test_random_completion_orders_run_each_task_once_after_its_dependencies(
    tasks: dict[str, list[str]], seed: int, jobs: int
) -> None:
    rng = random.Random(seed)
    graph = build_graph(tasks)
    schedule = DynamicSchedule(graph)
    running: list[str] = []
    finished: list[str] = []
    failed: set[str] = set()
    skipped: set[str] = set()
    while not schedule.finished:
        running.extend(schedule.take_ready(jobs - len(running)))
        assert running, "no progress possible"
        task = running.pop(rng.randrange(len(running)))
        for dep in graph.dependencies[task]:
            assert dep in finished
        if rng.random() < 0.1:
            failed.add(task)
            skipped.update(name for name, _ in schedule.fail(task))
        else:
            finished.append(task)
            schedule.succeed(task)
    assert len(finished) == len(set(finished))
    assert set(finished) | failed | skipped == set(tasks)
    assert not (set(finished) & skipped)
