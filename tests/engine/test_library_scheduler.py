"""``uet.engine.ExecutionScheduler``: static views, the ready set, skipping, misuse."""

from __future__ import annotations

import threading

import pytest

from uet.engine import CycleError, ExecutionScheduler, SpecError, Task, TaskState


def diamond() -> ExecutionScheduler:
    return ExecutionScheduler(
        [
            Task("root"),
            Task("left", depends_on=["root"]),
            Task("right", depends_on=["root"]),
            Task("join", depends_on=["right", "left"]),
        ]
    )


def test_levels_and_batches_keep_the_order_tasks_were_added() -> None:
    scheduler = ExecutionScheduler(
        [Task("z"), Task("a"), Task("m", depends_on=["z"]), Task("b", depends_on=["a"])]
    )
    assert scheduler.get_execution_order() == [["z", "a"], ["m", "b"]]
    assert scheduler.get_parallel_batches(max_parallel=1) == [["z"], ["a"], ["m"], ["b"]]
    assert scheduler.get_parallel_batches() == [["z", "a"], ["m", "b"]]
    with pytest.raises(ValueError, match="max_parallel"):
        scheduler.get_parallel_batches(max_parallel=0)


def test_a_task_is_ready_when_its_own_dependencies_completed_not_its_level() -> None:
    scheduler = ExecutionScheduler(
        [Task("fast"), Task("slow"), Task("after-fast", depends_on=["fast"])]
    )
    assert [task.task_id for task in scheduler.get_ready_tasks()] == ["fast", "slow"]
    assert scheduler.get_ready_tasks() == []  # each task is handed out once
    scheduler.mark_running("slow")
    scheduler.mark_completed("fast")
    assert [task.task_id for task in scheduler.get_ready_tasks()] == ["after-fast"]
    assert scheduler.status("slow") is TaskState.RUNNING
    assert not scheduler.is_complete()


def test_a_failure_skips_its_dependents_transitively_with_reasons() -> None:
    scheduler = ExecutionScheduler(
        [
            Task("build"),
            Task("unit", depends_on=["build"]),
            Task("lint"),
            Task("package", depends_on=["unit"]),
            Task("publish", depends_on=["package", "lint"]),
        ]
    )
    scheduler.get_ready_tasks()
    scheduler.mark_completed("lint", result={"warnings": 0})
    assert scheduler.mark_failed("build", ValueError("compiler crashed")) == [
        "unit",
        "package",
        "publish",
    ]
    assert scheduler.is_complete()
    assert scheduler.get_ready_tasks() == []
    assert scheduler.status("build") is TaskState.FAILED
    assert scheduler.reason("build") == "compiler crashed"
    assert scheduler.status("publish") is TaskState.SKIPPED
    assert scheduler.reason("unit") == "depends on 'build', which failed"
    assert "which was skipped" in (scheduler.reason("package") or "")
    assert scheduler.result("lint") == {"warnings": 0}
    assert scheduler.result("build") is None


def test_a_ready_task_can_be_marked_before_it_was_handed_out() -> None:
    scheduler = diamond()
    scheduler.mark_running("root")
    assert scheduler.get_ready_tasks() == []  # root is taken, nothing else is ready
    scheduler.mark_completed("root")
    scheduler.mark_completed("right")  # ready, never handed out
    assert [task.task_id for task in scheduler.get_ready_tasks()] == ["left"]
    scheduler.mark_completed("left", result=3)
    assert [task.task_id for task in scheduler.get_ready_tasks()] == ["join"]


def test_marking_a_task_that_is_not_ready_or_already_done_is_refused() -> None:
    scheduler = diamond()
    with pytest.raises(ValueError, match="waits for its dependencies"):
        scheduler.mark_running("join")
    scheduler.mark_completed("root")
    with pytest.raises(ValueError, match="already has an outcome: succeeded"):
        scheduler.mark_completed("root")
    with pytest.raises(ValueError, match="already has an outcome"):
        scheduler.mark_failed("root")
    scheduler.mark_running("left")
    scheduler.mark_running("left")  # already running: nothing changes
    assert scheduler.status("left") is TaskState.RUNNING
    with pytest.raises(KeyError):
        scheduler.mark_running("nowhere")
    with pytest.raises(KeyError):
        scheduler.status("nowhere")


def test_cycles_are_reported_by_detect_and_raised_by_the_views() -> None:
    scheduler = ExecutionScheduler(
        [Task("a", depends_on=["b"]), Task("b", depends_on=["c"]), Task("c", depends_on=["a"])]
    )
    assert scheduler.detect_cycles() == ["a", "b", "c", "a"]
    with pytest.raises(CycleError) as raised:
        scheduler.get_execution_order()
    assert raised.value.cycle == ("a", "b", "c", "a")
    with pytest.raises(CycleError):
        scheduler.get_ready_tasks()
    assert diamond().detect_cycles() is None


def test_a_dependency_on_a_task_never_added_is_an_error_not_ignored() -> None:
    scheduler = ExecutionScheduler([Task("a"), Task("b", depends_on=["a", "ghost"])])
    assert scheduler.detect_cycles() is None
    with pytest.raises(SpecError) as raised:
        scheduler.get_execution_order()
    assert raised.value.problems == ("task 'b' depends on 'ghost', which was not added",)
    scheduler.add_task(Task("ghost"))
    assert scheduler.get_execution_order() == [["a", "ghost"], ["b"]]


def test_tasks_are_added_once_and_only_before_scheduling_starts() -> None:
    scheduler = ExecutionScheduler([Task("a", "build", metadata={"owner": "ci"})])
    with pytest.raises(ValueError, match="added already"):
        scheduler.add_task(Task("a"))
    assert scheduler.get_task("a").metadata == {"owner": "ci"}
    assert scheduler.get_task("a").kind == "build"
    scheduler.get_execution_order()  # a static view does not start the schedule
    scheduler.add_task(Task("b", depends_on=["a"]))
    assert [task.task_id for task in scheduler.get_ready_tasks()] == ["a"]
    with pytest.raises(RuntimeError, match="handed out"):
        scheduler.add_task(Task("c"))


def test_an_empty_scheduler_is_complete() -> None:
    scheduler = ExecutionScheduler()
    assert scheduler.is_complete()
    assert scheduler.get_execution_order() == []
    assert scheduler.get_ready_tasks() == []


def test_workers_in_threads_run_every_task_once_after_its_dependencies() -> None:
    width, depth = 20, 10
    tasks = [
        Task(f"t{level}-{column}", depends_on=[f"t{level - 1}-{column}"] if level else [])
        for level in range(depth)
        for column in range(width)
    ]
    scheduler = ExecutionScheduler(tasks)
    handed_out: list[str] = []
    completed: set[str] = set()
    lock = threading.Lock()
    problems: list[str] = []

    def worker() -> None:
        while not scheduler.is_complete():
            for task in scheduler.get_ready_tasks():
                scheduler.mark_running(task.task_id)
                with lock:
                    handed_out.append(task.task_id)
                    if not set(task.depends_on) <= completed:
                        problems.append(f"{task.task_id} ran before its dependency")
                    completed.add(task.task_id)
                scheduler.mark_completed(task.task_id)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    assert problems == []
    assert sorted(handed_out) == sorted(task.task_id for task in tasks)
    assert all(scheduler.status(task.task_id) is TaskState.SUCCEEDED for task in tasks)
