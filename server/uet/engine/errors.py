"""Typed errors of the execution engine.

Broken user input (an invalid workstream or router config) is reported as data by the
loaders; the exceptions below are for conditions a caller must handle or a bug.

Hierarchy::

    EngineError                     base of everything uet.engine raises on purpose
    ├── SpecError                   the workstream or router config cannot be run
    │   │                           (``problems``: user-facing lines, path:line:col form)
    │   ├── CycleError              tasks depend on each other in a cycle (``cycle``: path)
    │   └── UnroutableTaskError     no app can run a task (``task_id``, ``reason``)
    ├── WorkspaceError              a path escapes the workspace, or no workspace found
    ├── StoreError                  the run store cannot be used
    │   └── MigrationError          the database is newer than this uet, or a migration failed
    ├── IllegalTransitionError      a run or step state change the state machine forbids
    ├── RunNotFoundError            no run with that id (or prefix) in the store
    └── RunControlError             resume/cancel refused (run finished, owned by a live engine)
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = [
    "CycleError",
    "EngineError",
    "IllegalTransitionError",
    "MigrationError",
    "RunControlError",
    "RunNotFoundError",
    "SpecError",
    "StoreError",
    "UnroutableTaskError",
    "WorkspaceError",
]


class EngineError(Exception):
    """Base class of every error the engine raises on purpose."""


class SpecError(EngineError):
    """The workstream or router config cannot be run; ``problems`` are user-facing lines."""

    def __init__(self, message: str, problems: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.problems: tuple[str, ...] = tuple(problems) or (message,)


class CycleError(SpecError):
    """Tasks depend on each other in a cycle; ``cycle`` is the path, first id repeated last."""

    def __init__(self, cycle: Sequence[str]) -> None:
        self.cycle: tuple[str, ...] = tuple(cycle)
        super().__init__(f"dependency cycle: {' -> '.join(self.cycle)}")


class UnroutableTaskError(SpecError):
    """No app can run a task; raised before anything starts."""

    def __init__(self, task_id: str, reason: str) -> None:
        self.task_id = task_id
        self.reason = reason
        super().__init__(f"task {task_id!r} cannot be routed: {reason}")


class WorkspaceError(EngineError):
    """A path escapes the workspace, or the workspace layout is unusable."""


class StoreError(EngineError):
    """The run store (``.uet/runs.db``) cannot be used."""


class MigrationError(StoreError):
    """The database schema is newer than this uet, or a migration failed."""


class IllegalTransitionError(EngineError):
    """A state change the state machine forbids (a bug in the caller, or a lost race)."""

    def __init__(self, entity: str, entity_id: str, current: str, target: str) -> None:
        self.entity = entity
        self.entity_id = entity_id
        self.current = current
        self.target = target
        super().__init__(f"illegal {entity} transition {current} -> {target} for {entity_id}")


class RunNotFoundError(EngineError):
    """No run with the given id (or unique id prefix) exists in the store."""


class RunControlError(EngineError):
    """A resume or cancel request was refused (finished run, run owned by a live engine)."""
