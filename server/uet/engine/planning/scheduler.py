"""Scheduling a workstream's task graph: static views (layers, batches, cycles) and the
dynamic ready set a run executes.

Execution is dynamic: a task becomes ready as soon as all its dependencies have succeeded,
not when its whole layer is done. Everything a run does per task is O(its edges): graphlib
checks the graph for cycles, and the schedule keeps a count of unmet dependencies per task
and a heap of ready tasks by workstream position.

A failed task's dependents (transitively) are skipped, each with a reason naming the
dependency that stopped it. Ready tasks come out in workstream order, so runs are
deterministic for a given completion order.

:class:`DynamicSchedule` is a plain state object and not thread-safe: the runner guards it
with its lock.
"""

from __future__ import annotations

import graphlib
import heapq
from collections.abc import Iterable, Mapping, Sequence
from typing import NamedTuple

from uet.engine.errors import CycleError
from uet.engine.planning.spec import TaskSpec

__all__ = [
    "DynamicSchedule",
    "TaskGraph",
    "build_graph",
    "execution_layers",
    "find_cycle",
    "parallel_batches",
    "ready_tasks",
]


class TaskGraph(NamedTuple):
    """Task ids in workstream order with their dependencies and dependents."""

    order: tuple[str, ...]
    dependencies: Mapping[str, tuple[str, ...]]
    dependents: Mapping[str, tuple[str, ...]]


def build_graph(tasks: Sequence[TaskSpec] | Mapping[str, Sequence[str]]) -> TaskGraph:
    """The graph of ``tasks`` (task specs, or ``{task_id: depends_on}``).

    Raises :class:`CycleError` (with the cycle's path) when the tasks cannot be ordered.
    Dependencies on unknown tasks are ignored here; the spec parser reports them.
    """
    if isinstance(tasks, Mapping):
        pairs = [(task_id, tuple(deps)) for task_id, deps in tasks.items()]
    else:
        pairs = [(task.task_id, task.depends_on) for task in tasks]
    known = {task_id for task_id, _ in pairs}
    dependencies = {
        task_id: tuple(dict.fromkeys(dep for dep in deps if dep in known))
        for task_id, deps in pairs
    }
    dependents: dict[str, list[str]] = {task_id: [] for task_id, _ in pairs}
    for task_id, deps in dependencies.items():
        for dep in deps:
            dependents[dep].append(task_id)
    graph = TaskGraph(
        order=tuple(task_id for task_id, _ in pairs),
        dependencies=dependencies,
        dependents={task_id: tuple(items) for task_id, items in dependents.items()},
    )
    cycle = find_cycle(graph)
    if cycle is not None:
        raise CycleError(cycle)
    return graph


def find_cycle(graph: TaskGraph) -> tuple[str, ...] | None:
    """A dependency cycle as a path ``a -> b -> ... -> a`` (dependency direction), or None."""
    sorter = graphlib.TopologicalSorter(graph.dependencies)
    try:
        sorter.prepare()
    except graphlib.CycleError as exc:
        # graphlib reports the cycle in "is depended on by" order; reverse it so that each
        # task is followed by a task it depends on.
        return tuple(reversed(exc.args[1]))
    return None


def execution_layers(graph: TaskGraph) -> list[list[str]]:
    """Tasks grouped by depth: each layer depends only on earlier layers."""
    depth: dict[str, int] = {}
    for task_id in _topological(graph):
        deps = graph.dependencies[task_id]
        depth[task_id] = 1 + max((depth[dep] for dep in deps), default=-1)
    layers: list[list[str]] = [[] for _ in range(1 + max(depth.values(), default=-1))]
    for task_id in graph.order:
        layers[depth[task_id]].append(task_id)
    return layers


def parallel_batches(graph: TaskGraph, max_parallel: int) -> list[list[str]]:
    """The layers cut into batches of at most ``max_parallel`` tasks (a static plan)."""
    if max_parallel < 1:
        raise ValueError("max_parallel must be at least 1")
    return [
        layer[start : start + max_parallel]
        for layer in execution_layers(graph)
        for start in range(0, len(layer), max_parallel)
    ]


def ready_tasks(graph: TaskGraph, succeeded: Iterable[str], started: Iterable[str]) -> list[str]:
    """Tasks not yet started whose dependencies have all succeeded, in workstream order."""
    done = set(succeeded)
    taken = done | set(started)
    return [
        task_id
        for task_id in graph.order
        if task_id not in taken and all(dep in done for dep in graph.dependencies[task_id])
    ]


class DynamicSchedule:
    """The ready set of one run, updated as tasks succeed or fail."""

    def __init__(self, graph: TaskGraph) -> None:
        self._graph = graph
        self._positions = {task_id: index for index, task_id in enumerate(graph.order)}
        # Dependencies of each task that have not succeeded yet.
        self._unmet = {task_id: len(deps) for task_id, deps in graph.dependencies.items()}
        # (position, task id) of ready tasks; graph order is position order, so it is a heap.
        self._ready: list[tuple[int, str]] = [
            (index, task_id)
            for index, task_id in enumerate(graph.order)
            if not self._unmet[task_id]
        ]
        self._succeeded: set[str] = set()
        self._resolved: set[str] = set()
        self._dispatched: set[str] = set()

    def restore(
        self,
        succeeded: Iterable[str] = (),
        failed: Iterable[str] = (),
        other_outcomes: Iterable[str] = (),
    ) -> list[tuple[str, str]]:
        """Replay outcomes an earlier process recorded (resume), before anything is taken.

        ``other_outcomes`` are tasks already skipped or canceled. Returns the dependents of
        ``failed`` tasks that must now be skipped (those not already in ``other_outcomes``).
        """
        pending_replay = set(succeeded)
        while pending_replay:
            replayable = [
                task_id for _, task_id in sorted(self._ready) if task_id in pending_replay
            ]
            if not replayable:
                break
            self._drop_ready(replayable)
            for task_id in replayable:
                pending_replay.discard(task_id)
                self._dispatched.add(task_id)
                self.succeed(task_id)
        self._resolved.update(other_outcomes)
        self._drop_ready(self._resolved)
        skipped: list[tuple[str, str]] = []
        for task_id in failed:
            self._drop_ready([task_id])
            self._dispatched.add(task_id)
            skipped.extend(self.fail(task_id))
        return skipped

    @property
    def total(self) -> int:
        """Number of tasks in the run."""
        return len(self._graph.order)

    @property
    def finished(self) -> bool:
        """Whether every task has an outcome (succeeded, failed, skipped or canceled)."""
        return len(self._resolved) == len(self._graph.order)

    @property
    def succeeded(self) -> frozenset[str]:
        """Tasks that succeeded (including those replayed on resume)."""
        return frozenset(self._succeeded)

    @property
    def running(self) -> frozenset[str]:
        """Tasks taken with :meth:`take_ready` that have no outcome yet."""
        return frozenset(self._dispatched - self._resolved)

    def take_ready(self, limit: int | None = None) -> list[str]:
        """Ready tasks (at most ``limit``), in workstream order; they count as running."""
        taken: list[str] = []
        ready = self._ready
        while ready and (limit is None or len(taken) < limit):
            _, task_id = heapq.heappop(ready)
            if task_id not in self._resolved and task_id not in self._dispatched:
                taken.append(task_id)
        self._dispatched.update(taken)
        return taken

    def succeed(self, task_id: str) -> None:
        """Record that a running task succeeded; its dependents may become ready."""
        self._require_running(task_id)
        self._succeeded.add(task_id)
        self._resolved.add(task_id)
        unmet = self._unmet
        for dependent in self._graph.dependents[task_id]:
            unmet[dependent] -= 1
            if not unmet[dependent] and dependent not in self._resolved:
                heapq.heappush(self._ready, (self._positions[dependent], dependent))

    def fail(self, task_id: str) -> list[tuple[str, str]]:
        """Record that a running task failed; returns its skipped dependents with reasons."""
        self._require_running(task_id)
        self._resolved.add(task_id)
        skipped: list[tuple[str, str]] = []
        frontier = [(task_id, f"depends on {task_id!r}, which failed")]
        visited: set[str] = set()
        while frontier:
            cause, reason = frontier.pop()
            for dependent in self._graph.dependents[cause]:
                if dependent in visited:
                    continue
                visited.add(dependent)
                # Walk through dependents resolved earlier too (skipped before a resume):
                # theirs may still lack an outcome.
                if dependent not in self._resolved:
                    self._resolved.add(dependent)
                    skipped.append((dependent, reason))
                frontier.append(
                    (dependent, f"depends on {dependent!r}, which was skipped ({reason})")
                )
        skipped.sort(key=lambda item: self._positions[item[0]])
        return skipped

    def cancel_pending(self) -> list[str]:
        """Resolve every task that has not started (ready or waiting); returns them."""
        canceled = [
            task_id
            for task_id in self._graph.order
            if task_id not in self._resolved and task_id not in self._dispatched
        ]
        self._resolved.update(canceled)
        self._ready = []
        return canceled

    def resolve_running(self, task_id: str) -> None:
        """Record an outcome (canceled, interrupted) for a running task without effects."""
        self._require_running(task_id)
        self._resolved.add(task_id)

    def _drop_ready(self, task_ids: Iterable[str]) -> None:
        dropped = set(task_ids)
        if any(task_id in dropped for _, task_id in self._ready):
            self._ready = [entry for entry in self._ready if entry[1] not in dropped]
            heapq.heapify(self._ready)

    def _require_running(self, task_id: str) -> None:
        if task_id not in self._dispatched or task_id in self._resolved:
            raise ValueError(f"task {task_id!r} is not running")


def _topological(graph: TaskGraph) -> list[str]:
    sorter = graphlib.TopologicalSorter(graph.dependencies)
    return list(sorter.static_order())
