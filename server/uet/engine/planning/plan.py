"""Planning a run: everything decided before the first task starts.

A plan holds the workstream and router config, the task graph (cycles refused), each task's
route (unroutable tasks refused) and the resolved invocation of every (task, candidate app)
pair: argument vector, confined working directory, environment, timeout, retry and breaker
policies. Any problem raises :class:`SpecError` with every problem found, so a run never
starts half-valid. The plan document (the plain values) is stored with the run, so resume
continues with exactly what was started, even if the files changed since.

A plan may cover a subset of the workstream (``only_tasks``): the named tasks and everything
they depend on, transitively; the other tasks are not part of the run at all.

Routing rules with ``validate_with`` add validations to every task they match (whichever
rule chose its app): the validator apps' own commands, run after the task's command
succeeded (:mod:`uet.engine.running.validators`).

Limits have one precedence (docs/schema-conventions.md, "Limits"): the workstream's
``concurrency.max_parallel`` and an app's ``limits.timeout_seconds`` (and
``limits.max_parallel``, :mod:`uet.engine.running.slots`) are ceilings; ``--jobs`` and a task's
``timeout_seconds`` may ask for less, never more (:func:`run_jobs`, :func:`attempt_timeout`).
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, NamedTuple

from uet.engine.errors import SpecError, UnroutableTaskError, WorkspaceError
from uet.engine.planning.loading import (
    load_router_config_value,
    load_workstream_value,
    router_config_from_value,
    workstream_from_value,
)
from uet.engine.planning.router_config import (
    DEFAULT_BREAKER,
    DEFAULT_MAX_ATTEMPTS,
    DEFAULT_RETRY,
    AppConfig,
    BreakerPolicy,
    RetryPolicy,
    RouterConfig,
)
from uet.engine.planning.routing import Route, route_task, rule_matches
from uet.engine.planning.scheduler import TaskGraph, build_graph
from uet.engine.planning.spec import Command, TaskSpec, WorkstreamSpec
from uet.engine.workspace import Workspace, confine

__all__ = [
    "Invocation",
    "RunPlan",
    "TaskPlan",
    "Validation",
    "attempt_timeout",
    "plan_from_document",
    "plan_run",
    "run_jobs",
    "select_tasks",
]

SHELL = ("/bin/sh", "-c")


class Invocation(NamedTuple):
    """How one task runs on one app (``app_id`` ``None``: the task's own command)."""

    app_id: str | None
    argv: tuple[str, ...]
    cwd: Path
    env: Mapping[str, str]
    timeout_seconds: float | None
    max_attempts: int
    retry: RetryPolicy
    breaker: BreakerPolicy


class Validation(NamedTuple):
    """A validator app run on a task's result; ``required``: its failure fails the task
    (otherwise it is recorded only)."""

    invocation: Invocation
    required: bool
    rule_id: str


class TaskPlan(NamedTuple):
    """A task, its route, its invocation per candidate app and its validations."""

    task: TaskSpec
    route: Route
    invocations: Mapping[str | None, Invocation]
    validations: tuple[Validation, ...] = ()


class RunPlan(NamedTuple):
    """Everything a run needs, validated."""

    workspace: Workspace
    workstream: WorkstreamSpec
    router: RouterConfig
    graph: TaskGraph
    tasks: Mapping[str, TaskPlan]
    jobs: int
    document: Mapping[str, Any]


def plan_run(
    workspace: Workspace,
    workstream_path: Path,
    *,
    router_path: Path | None = None,
    jobs: int | None = None,
    only_tasks: Iterable[str] | None = None,
) -> RunPlan:
    """Load, check and plan the workstream at ``workstream_path``; raises SpecError.

    ``only_tasks``: plan these tasks and what they depend on instead of every task.
    """
    workstream_file, workstream = load_workstream_value(workstream_path, workspace)
    router_file, router = load_router_config_value(router_path, workspace)
    document: dict[str, Any] = {
        "workstream_path": workspace.relative(workstream_path),
        "workstream": workstream_file.value,
        "router_config": router_file.value,
        "jobs": jobs,
    }
    if only_tasks is not None:
        document["only_tasks"] = list(only_tasks)
    return plan_from_document(workspace, document, parsed=(workstream, router))


def plan_from_document(
    workspace: Workspace,
    document: Mapping[str, Any],
    *,
    parsed: tuple[WorkstreamSpec, RouterConfig] | None = None,
) -> RunPlan:
    """The plan of a stored plan document (also how resume rebuilds its plan).

    ``parsed``: the document's workstream and router config already parsed.
    """
    shown = str(document.get("workstream_path") or "workstream")
    if parsed is None:
        workstream = workstream_from_value(document.get("workstream"), shown)
        router = router_config_from_value(document.get("router_config"))
    else:
        workstream, router = parsed
    only_tasks = document.get("only_tasks")
    if isinstance(only_tasks, list):
        workstream = select_tasks(workstream, [str(task_id) for task_id in only_tasks])
    graph = build_graph(workstream.tasks)  # raises CycleError with the cycle's path
    problems: list[str] = []
    tasks: dict[str, TaskPlan] = {}
    for task in workstream.tasks:
        try:
            route = route_task(task, router)
        except UnroutableTaskError as exc:
            problems.append(str(exc))
            continue
        invocations: dict[str | None, Invocation] = {}
        for app_id in route.candidates or (None,):
            app = router.apps.get(app_id) if app_id is not None else None
            try:
                invocations[app_id] = resolve_invocation(task, app, router, workspace)
            except (SpecError, WorkspaceError) as exc:
                problems.append(f"task {task.task_id!r} on {app_id or 'its command'}: {exc}")
        validations = plan_validations(task, router, workspace, problems)
        tasks[task.task_id] = TaskPlan(task, route, invocations, validations)
    if problems:
        raise SpecError(f"{shown} cannot be run", problems)
    requested_jobs = document.get("jobs")
    jobs = requested_jobs if isinstance(requested_jobs, int) and requested_jobs > 0 else None
    return RunPlan(
        workspace=workspace,
        workstream=workstream,
        router=router,
        graph=graph,
        tasks=tasks,
        jobs=run_jobs(jobs, workstream.max_parallel),
        document=dict(document),
    )


def run_jobs(requested: int | None, max_parallel: int | None) -> int:
    """How many tasks run at once: ``--jobs`` (or the editor's ``jobs``) up to the
    workstream's ``concurrency.max_parallel``, which is a ceiling (a workstream says how
    much parallelism its tasks bear); either alone when the other is unset; else 1."""
    if requested is not None and max_parallel is not None:
        return min(requested, max_parallel)
    return requested or max_parallel or 1


def attempt_timeout(
    asked: float | None, ceiling: float | None, default: float | None
) -> float | None:
    """The timeout of an attempt: the task's ``timeout_seconds`` (``asked``) up to the app's
    ``limits.timeout_seconds`` (``ceiling``), either alone when the other is unset, else the
    router's ``defaults.timeout_seconds``. The same for a task's command and its
    validators, so an app's limit holds whichever task runs it."""
    if asked is not None and ceiling is not None:
        return min(asked, ceiling)
    return asked or ceiling or default


def select_tasks(workstream: WorkstreamSpec, wanted: Iterable[str]) -> WorkstreamSpec:
    """``workstream`` with only the ``wanted`` tasks and their transitive dependencies (in
    file order); raises :class:`SpecError` for an unknown or empty selection."""
    by_id = {task.task_id: task for task in workstream.tasks}
    pending = list(dict.fromkeys(wanted))
    unknown = [task_id for task_id in pending if task_id not in by_id]
    if unknown or not pending:
        problems = [f"the workstream has no task {task_id!r}" for task_id in unknown]
        raise SpecError("the selected tasks cannot be run", problems or ["no task selected"])
    kept: set[str] = set()
    while pending:
        task_id = pending.pop()
        if task_id in kept:
            continue
        kept.add(task_id)
        pending.extend(dep for dep in by_id[task_id].depends_on if dep in by_id)
    tasks = tuple(task for task in workstream.tasks if task.task_id in kept)
    return workstream._replace(tasks=tasks)


def plan_validations(
    task: TaskSpec, config: RouterConfig, workspace: Workspace, problems: list[str]
) -> tuple[Validation, ...]:
    """The validations of every rule matching ``task`` (each app once; required when any
    rule naming it says so), in rule order."""
    found: dict[str, Validation] = {}
    for rule in config.rules:
        if not rule.validate_with or not rule_matches(rule, task):
            continue
        for app_id in rule.validate_with:
            earlier = found.get(app_id)
            if earlier is not None:
                if rule.required and not earlier.required:
                    found[app_id] = earlier._replace(required=True)
                continue
            app = config.apps.get(app_id)
            if app is None or app.command is None:
                problems.append(
                    f"task {task.task_id!r}: validator app {app_id!r} of rule "
                    f"{rule.rule_id!r} has no command"
                )
                continue
            try:
                invocation = Invocation(
                    app_id=app_id,
                    argv=_argv(app.command, (), app.shell),
                    cwd=confine(workspace, task.cwd or app.cwd),
                    env={**app.env, **task.env},
                    timeout_seconds=attempt_timeout(
                        task.timeout_seconds, app.timeout_seconds, config.default_timeout_seconds
                    ),
                    max_attempts=1,
                    retry=app.retry,
                    breaker=app.breaker,
                )
            except (SpecError, WorkspaceError) as exc:
                problems.append(f"task {task.task_id!r}: validator {app_id!r}: {exc}")
                continue
            found[app_id] = Validation(invocation, rule.required, rule.rule_id)
    return tuple(found.values())


def resolve_invocation(
    task: TaskSpec, app: AppConfig | None, config: RouterConfig, workspace: Workspace
) -> Invocation:
    """The invocation of ``task`` on ``app``: the task's ``command`` if given, else the
    app's ``command`` plus the task's ``args``."""
    if app is None:  # the task's own command
        if task.command is None:
            raise SpecError("there is no command to run")
        return Invocation(
            app_id=None,
            argv=_argv(task.command, (), False),
            cwd=confine(workspace, task.cwd),
            env=task.env,
            timeout_seconds=task.timeout_seconds or config.default_timeout_seconds,
            max_attempts=task.max_attempts
            or DEFAULT_RETRY.max_attempts
            or config.default_max_attempts
            or DEFAULT_MAX_ATTEMPTS,
            retry=DEFAULT_RETRY,
            breaker=DEFAULT_BREAKER,
        )
    if task.command is not None:
        argv = _argv(task.command, (), app.shell)
    elif app.command is not None:
        argv = _argv(app.command, task.args, app.shell)
    else:
        raise SpecError("there is no command to run")
    return Invocation(
        app_id=app.app_id,
        argv=argv,
        cwd=confine(workspace, task.cwd or app.cwd),
        env={**app.env, **task.env},
        timeout_seconds=attempt_timeout(
            task.timeout_seconds, app.timeout_seconds, config.default_timeout_seconds
        ),
        max_attempts=task.max_attempts
        or app.retry.max_attempts
        or config.default_max_attempts
        or DEFAULT_MAX_ATTEMPTS,
        retry=app.retry,
        breaker=app.breaker,
    )


def _argv(command: Command, args: tuple[str, ...], shell: bool) -> tuple[str, ...]:
    """An argument vector; a shell only when the app asked for one."""
    if not shell and not isinstance(command, str):  # an argv list, as most tasks give
        if not command:
            raise SpecError("the command is empty")
        return (*command, *args) if args else command
    if shell:
        text = command if isinstance(command, str) else shlex.join(command)
        if args:
            text = f"{text} {shlex.join(args)}"
        return (*SHELL, text)
    if isinstance(command, str):
        try:
            words = tuple(shlex.split(command))
        except ValueError as exc:
            raise SpecError(f"command {command!r} cannot be split into words: {exc}") from None
    else:
        words = command
    if not words:
        raise SpecError("the command is empty")
    return (*words, *args)
