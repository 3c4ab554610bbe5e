"""Typed, frozen views of the workstream a run executes.

The loader (:mod:`uet.engine.planning.loading`) validates files against the schemas first; the
functions here turn the validated plain values (dicts and lists, as JSON and YAML read them)
into immutable records and report what a schema cannot see (duplicate task ids,
dependencies on unknown tasks) as problems. They never raise on user input: they return
``(spec, problems)``.

The records of a plan (these specs, the router config, routes and invocations) are
immutable ``typing.NamedTuple``s; an empty mapping default is the read-only :data:`EMPTY`.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import Any, NamedTuple

__all__ = [
    "EMPTY",
    "Command",
    "ErrorStrategy",
    "TaskSpec",
    "WorkstreamSpec",
    "parse_workstream",
]

# A command as written: an argv list, or a string split like a POSIX shell would.
Command = str | tuple[str, ...]
# The default of mapping fields: empty and read-only, so that one object serves every record.
EMPTY: Mapping[str, Any] = MappingProxyType({})


class ErrorStrategy(StrEnum):
    """``error_handling.strategy`` of a workstream."""

    FAIL_FAST = "fail_fast"
    CONTINUE = "continue"
    ESCALATE = "escalate"


class TaskSpec(NamedTuple):
    """One task of a workstream, with the fields the engine reads."""

    task_id: str
    name: str
    kind: str
    depends_on: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    classification: Mapping[str, str] = EMPTY
    max_attempts: int | None = None
    timeout_seconds: float | None = None
    tool: str | None = None
    command: Command | None = None
    args: tuple[str, ...] = ()
    cwd: str | None = None
    env: Mapping[str, str] = EMPTY
    resource_scope: Mapping[str, Any] = EMPTY

    @property
    def domain(self) -> str | None:
        """``classification.domain``, used by routing."""
        return self.classification.get("domain")


class WorkstreamSpec(NamedTuple):
    """A workstream: its identity, concurrency, error strategy and tasks (in file order)."""

    workstream_id: str
    project_id: str
    phase_id: str
    name: str
    objective: str
    tasks: tuple[TaskSpec, ...]
    tags: tuple[str, ...] = ()
    max_parallel: int | None = None
    error_strategy: ErrorStrategy = ErrorStrategy.FAIL_FAST
    resource_scope: Mapping[str, Any] = EMPTY

    def task(self, task_id: str) -> TaskSpec:
        """The task called ``task_id`` (``KeyError`` when there is none)."""
        for task in self.tasks:
            if task.task_id == task_id:
                return task
        raise KeyError(task_id)


def parse_workstream(value: Any) -> tuple[WorkstreamSpec | None, list[str]]:
    """The workstream in ``value`` (a schema-valid document), or ``None`` with problems."""
    problems: list[str] = []
    if not isinstance(value, dict):
        return None, ["a workstream must be an object"]
    tasks: list[TaskSpec] = []
    raw_tasks = value.get("tasks")
    if not isinstance(raw_tasks, list):
        return None, ["a workstream needs a 'tasks' array"]
    for index, raw in enumerate(raw_tasks):
        task = _parse_task(raw, f"tasks[{index}]", problems)
        if task is not None:
            tasks.append(task)
    seen: set[str] = set()
    for task in tasks:
        if task.task_id in seen:
            problems.append(f"task id {task.task_id!r} is used more than once")
        seen.add(task.task_id)
    for task in tasks:
        for dependency in task.depends_on:
            if dependency == task.task_id:
                problems.append(f"task {task.task_id!r} depends on itself")
            elif dependency not in seen:
                problems.append(f"task {task.task_id!r} depends on unknown task {dependency!r}")
    concurrency = _mapping(value.get("concurrency"))
    max_parallel = concurrency.get("max_parallel")
    strategy_text = _mapping(value.get("error_handling")).get("strategy", "fail_fast")
    try:
        strategy = ErrorStrategy(strategy_text)
    except ValueError:
        problems.append(f"unknown error_handling.strategy {strategy_text!r}")
        strategy = ErrorStrategy.FAIL_FAST
    if max_parallel is not None and (not isinstance(max_parallel, int) or max_parallel < 1):
        problems.append("concurrency.max_parallel must be an integer >= 1")
        max_parallel = None
    identity = {
        key: value.get(key)
        for key in ("workstream_id", "project_id", "phase_id", "name", "objective")
    }
    for key, text in identity.items():
        if not isinstance(text, str) or (not text and key != "objective"):
            problems.append(f"workstream field {key!r} must be a non-empty string")
    if problems:
        return None, problems
    return (
        WorkstreamSpec(
            workstream_id=str(identity["workstream_id"]),
            project_id=str(identity["project_id"]),
            phase_id=str(identity["phase_id"]),
            name=str(identity["name"]),
            objective=str(identity["objective"]),
            tasks=tuple(tasks),
            tags=_strings(value.get("tags")),
            max_parallel=max_parallel,
            error_strategy=strategy,
            resource_scope=_mapping(value.get("resource_scope")),
        ),
        [],
    )


def _parse_task(raw: Any, where: str, problems: list[str]) -> TaskSpec | None:
    if not isinstance(raw, dict):
        problems.append(f"{where} must be an object")
        return None
    task_id, name, kind = raw.get("task_id"), raw.get("name"), raw.get("kind")
    if not (_text(task_id) and _text(name) and _text(kind)):
        problems.append(f"{where} needs non-empty 'task_id', 'name' and 'kind'")
        return None
    command = raw.get("command")
    if isinstance(command, list):
        command = tuple(map(str, command))
        if not command:
            problems.append(f"task {task_id!r}: 'command' must not be empty")
    elif command is not None and not isinstance(command, str):
        problems.append(f"task {task_id!r}: 'command' must be a string or an array of strings")
        command = None
    execution = _mapping(raw.get("execution"))
    timeout = execution.get("timeout_seconds")
    attempts = execution.get("max_attempts")
    tool, cwd = raw.get("tool"), raw.get("cwd")
    return TaskSpec(
        task_id=str(task_id),
        name=str(name),
        kind=str(kind),
        depends_on=_strings(raw.get("depends_on")),
        tags=_strings(raw.get("tags")),
        classification=_text_mapping(raw.get("classification")),
        max_attempts=attempts if isinstance(attempts, int) and attempts >= 1 else None,
        timeout_seconds=(
            float(timeout) if isinstance(timeout, int | float) and timeout > 0 else None
        ),
        tool=tool if isinstance(tool, str) else None,
        command=command,
        args=_strings(raw.get("args")),
        cwd=cwd if isinstance(cwd, str) else None,
        env=_text_mapping(raw.get("env")),
        resource_scope=_mapping(raw.get("resource_scope_delta")) or EMPTY,
    )


def _text(value: Any) -> bool:
    """Whether ``value`` is a non-empty string."""
    return isinstance(value, str) and bool(value)


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text_mapping(value: Any) -> Mapping[str, str]:
    """``value``'s entries as strings (the read-only :data:`EMPTY` when it has none)."""
    return {str(key): str(text) for key, text in _mapping(value).items()} or EMPTY


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(map(str, value)) if isinstance(value, list) else ()
