"""``ExecutionScheduler``: the engine's task graph and ready set for programs that run
tasks themselves.

It offers the original UET's scheduler methods (``add_tasks``, ``get_execution_order``,
``get_parallel_batches``, ``detect_cycles``, ``get_ready_tasks``, ``mark_running``,
``mark_completed``) over the graph and the dynamic schedule ``uet run`` uses
(:mod:`uet.engine.planning.scheduler`), so such a program gets the same order, the same
cycle reports and the same skipping of a failed task's dependents.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple

from uet.engine.errors import CycleError, SpecError
from uet.engine.planning.scheduler import (
    DynamicSchedule,
    TaskGraph,
    build_graph,
    execution_layers,
    parallel_batches,
)
from uet.engine.planning.spec import EMPTY
from uet.engine.store.lifecycle import TaskState

__all__ = ["ExecutionScheduler", "Task"]


class Task(NamedTuple):
    """A task to schedule: its id, its kind and the ids of the tasks it depends on.

    ``metadata`` is the caller's own; the scheduler hands it back with the task.
    """

    task_id: str
    kind: str = "task"
    depends_on: Sequence[str] = ()
    metadata: Mapping[str, Any] = EMPTY


class ExecutionScheduler:
    """Orders tasks by their dependencies and tells which may run now.

    Static views (:meth:`get_execution_order`, :meth:`get_parallel_batches`,
    :meth:`detect_cycles`) describe the whole graph. The dynamic side hands out each task
    once, as soon as every task it depends on completed (:meth:`get_ready_tasks`); a failed
    task's dependents are skipped, transitively, each with a reason. Tasks can be added
    until the first one is handed out. Thread-safe: workers may report outcomes from their
    own threads.
    """

    def __init__(self, tasks: Iterable[Task] = ()) -> None:
        self._lock = threading.Lock()
        self._tasks: dict[str, Task] = {}
        self._graph: TaskGraph | None = None
        self._schedule: DynamicSchedule | None = None
        # Taken from the schedule, not handed out yet (mark_running claimed another one).
        self._unclaimed: list[str] = []
        self._handed_out: set[str] = set()
        self._running: set[str] = set()
        self._outcomes: dict[str, TaskState] = {}
        self._results: dict[str, Any] = {}
        self._reasons: dict[str, str] = {}
        self.add_tasks(tasks)

    def add_task(self, task: Task) -> None:
        """Add one task; raises ``ValueError`` for an id already added."""
        with self._lock:
            if self._schedule is not None:
                raise RuntimeError("tasks cannot be added once tasks were handed out")
            if task.task_id in self._tasks:
                raise ValueError(f"task {task.task_id!r} was added already")
            self._tasks[task.task_id] = task._replace(depends_on=tuple(task.depends_on))
            self._graph = None

    def add_tasks(self, tasks: Iterable[Task]) -> None:
        """Add tasks in order (the order ties are broken in, as in a workstream)."""
        for task in tasks:
            self.add_task(task)

    def get_task(self, task_id: str) -> Task:
        """The task called ``task_id`` (``KeyError`` when there is none)."""
        return self._tasks[task_id]

    def detect_cycles(self) -> list[str] | None:
        """A dependency cycle as ``[a, b, ..., a]`` (each task followed by one it depends
        on), or ``None`` when the tasks can be ordered."""
        with self._lock:
            dependencies = self._dependencies()
        try:
            build_graph(dependencies)
        except CycleError as exc:
            return list(exc.cycle)
        return None

    def get_execution_order(self) -> list[list[str]]:
        """Task ids in levels: each level depends only on earlier ones, so the tasks of a
        level may run in parallel. Raises :class:`CycleError` for a cycle and
        :class:`SpecError` for a dependency on a task that was not added."""
        with self._lock:
            return execution_layers(self._built())

    def get_parallel_batches(self, max_parallel: int = 5) -> list[list[str]]:
        """The levels cut into batches of at most ``max_parallel`` tasks (a static plan:
        run the batches one after another)."""
        with self._lock:
            return parallel_batches(self._built(), max_parallel)

    def get_ready_tasks(self) -> list[Task]:
        """Tasks whose dependencies all completed, in the order they were added. Each task
        is handed out once: the next call returns only tasks that became ready since."""
        with self._lock:
            ready = [*self._unclaimed, *self._started().take_ready()]
            self._unclaimed.clear()
            self._handed_out.update(ready)
            return [self._tasks[task_id] for task_id in ready]

    def mark_running(self, task_id: str) -> None:
        """Record that a ready task started (it need not have been handed out yet)."""
        with self._lock:
            self._claim(task_id)
            self._running.add(task_id)

    def mark_completed(self, task_id: str, result: Any = None) -> None:
        """Record that a ready or running task completed; its dependents may become ready.
        ``result`` is kept for :meth:`result`."""
        with self._lock:
            self._claim(task_id)
            self._started().succeed(task_id)
            self._finish(task_id, TaskState.SUCCEEDED)
            self._results[task_id] = result

    def mark_failed(self, task_id: str, error: object = None) -> list[str]:
        """Record that a ready or running task failed; returns the ids of the tasks skipped
        because of it (its dependents, transitively), in the order they were added."""
        with self._lock:
            self._claim(task_id)
            skipped = self._started().fail(task_id)
            self._finish(task_id, TaskState.FAILED)
            self._reasons[task_id] = "failed" if error is None else str(error)
            for dependent, reason in skipped:
                self._outcomes[dependent] = TaskState.SKIPPED
                self._reasons[dependent] = reason
            return [dependent for dependent, _ in skipped]

    def status(self, task_id: str) -> TaskState:
        """``pending`` (waiting or ready), ``running``, ``succeeded``, ``failed`` or
        ``skipped``."""
        with self._lock:
            self._require_known(task_id)
            if task_id in self._outcomes:
                return self._outcomes[task_id]
            return TaskState.RUNNING if task_id in self._running else TaskState.PENDING

    def result(self, task_id: str) -> Any:
        """What :meth:`mark_completed` was given for ``task_id`` (``None`` otherwise)."""
        self._require_known(task_id)
        return self._results.get(task_id)

    def reason(self, task_id: str) -> str | None:
        """Why ``task_id`` failed (the error given) or was skipped; ``None`` otherwise."""
        self._require_known(task_id)
        return self._reasons.get(task_id)

    def is_complete(self) -> bool:
        """Whether every task has an outcome (succeeded, failed or skipped)."""
        with self._lock:
            return len(self._outcomes) == len(self._tasks)

    def _dependencies(self) -> dict[str, tuple[str, ...]]:
        return {task.task_id: tuple(task.depends_on) for task in self._tasks.values()}

    def _built(self) -> TaskGraph:
        """The checked graph (caller holds the lock)."""
        if self._graph is None:
            unknown = [
                f"task {task.task_id!r} depends on {dep!r}, which was not added"
                for task in self._tasks.values()
                for dep in task.depends_on
                if dep not in self._tasks
            ]
            if unknown:
                raise SpecError("the tasks cannot be scheduled", unknown)
            self._graph = build_graph(self._dependencies())
        return self._graph

    def _started(self) -> DynamicSchedule:
        if self._schedule is None:
            self._schedule = DynamicSchedule(self._built())
        return self._schedule

    def _claim(self, task_id: str) -> None:
        """Make sure the ready task ``task_id`` was taken from the schedule."""
        self._require_known(task_id)
        if task_id in self._handed_out or task_id in self._running:
            return
        self._unclaimed.extend(self._started().take_ready())
        if task_id not in self._unclaimed:
            raise ValueError(f"task {task_id!r} is not ready ({self._state(task_id)})")
        self._unclaimed.remove(task_id)
        self._handed_out.add(task_id)

    def _finish(self, task_id: str, state: TaskState) -> None:
        self._outcomes[task_id] = state
        self._running.discard(task_id)
        self._handed_out.discard(task_id)

    def _state(self, task_id: str) -> str:
        if task_id in self._outcomes:
            return f"it already has an outcome: {self._outcomes[task_id].value}"
        return "it waits for its dependencies"

    def _require_known(self, task_id: str) -> None:
        if task_id not in self._tasks:
            raise KeyError(f"no task {task_id!r}")
