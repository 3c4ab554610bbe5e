"""Routing: which app runs a task.

Before a run starts, :func:`route_task` finds every task's candidates: the app the task
names (``tool``), else the first routing rule whose ``match`` fits the task, else the apps
whose capabilities list the task's kind (and domain), else the task's own ``command``. A task
with no candidate and no command is unroutable, and the run does not start.

Before each attempt, :func:`choose_app` picks one candidate by the route's strategy:
``fixed`` takes the first, ``round_robin`` rotates (skipping open circuits), ``auto`` skips
open circuits, tries each candidate without a finished attempt once per run (in config
order), and otherwise takes the best score ``0.7 × success rate + 0.3 × latency score``
(:data:`SUCCESS_WEIGHT`, :data:`LATENCY_WEIGHT`): scores alone would never try an app with
no history while another never failed, since its latency is unknown
(docs/schema-conventions.md, "Routing"). Each decision becomes an
execution_request artifact (:func:`execution_request`), stored with its attempt.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from uet.engine.errors import UnroutableTaskError
from uet.engine.planning.router_config import (
    DIRECT_TOOL_ID,
    RouterConfig,
    RoutingRule,
    RoutingStrategy,
)
from uet.engine.planning.spec import EMPTY, TaskSpec, WorkstreamSpec

__all__ = [
    "LATENCY_WEIGHT",
    "SUCCESS_WEIGHT",
    "AppStats",
    "Decision",
    "RoundRobin",
    "Route",
    "app_score",
    "choose_app",
    "execution_request",
    "route_task",
    "rule_matches",
]

SUCCESS_WEIGHT = 0.7
LATENCY_WEIGHT = 0.3


class Route(NamedTuple):
    """The apps a task may run on, found before the run starts."""

    task_id: str
    candidates: tuple[str, ...]
    strategy: RoutingStrategy
    reason: str
    rule_id: str | None = None

    @property
    def direct(self) -> bool:
        """Whether the task runs its own command without an app."""
        return not self.candidates


class AppStats(NamedTuple):
    """Recorded outcomes of an app's finished attempts."""

    attempts: int = 0
    successes: int = 0
    mean_duration_ms: float | None = None

    def with_outcome(self, success: bool, duration_ms: float) -> AppStats:
        """These stats plus one finished attempt."""
        total = self.attempts + 1
        previous = self.mean_duration_ms if self.mean_duration_ms is not None else duration_ms
        return AppStats(
            attempts=total,
            successes=self.successes + (1 if success else 0),
            mean_duration_ms=previous + (duration_ms - previous) / total,
        )


class Decision(NamedTuple):
    """The app chosen for one attempt (``None``: the task's own command) and why."""

    app_id: str | None
    route: Route
    reason: str
    scores: Mapping[str, float] = EMPTY

    @property
    def tool_id(self) -> str:
        """The id recorded as the step attempt's ``tool_id``."""
        return self.app_id if self.app_id is not None else DIRECT_TOOL_ID


class RoundRobin:
    """A run's routing memory (thread-safe): round-robin positions per routing rule and
    the apps ``auto`` has tried."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._next: dict[str, int] = {}
        self._claimed: set[str] = set()

    def claim(self, key: str) -> bool:
        """Whether this is the first claim of ``key`` in the run (later ones answer no)."""
        with self._lock:
            if key in self._claimed:
                return False
            self._claimed.add(key)
            return True

    def take(self, key: str) -> int:
        """The next position for ``key`` (0, 1, 2, ...)."""
        with self._lock:
            position = self._next.get(key, 0)
            self._next[key] = position + 1
            return position


def rule_matches(rule: RoutingRule, task: TaskSpec) -> bool:
    """Whether every condition ``rule.match`` states holds for ``task``."""
    classification = task.classification
    return (
        (not rule.task_kinds or task.kind in rule.task_kinds)
        and (not rule.domains or task.domain in rule.domains)
        and (not rule.tags or bool(set(rule.tags) & set(task.tags)))
        and (not rule.risk_tiers or classification.get("risk_tier") in rule.risk_tiers)
        and (rule.complexity is None or classification.get("complexity") == rule.complexity)
    )


def route_task(task: TaskSpec, config: RouterConfig) -> Route:
    """The candidates of ``task``; raises :class:`UnroutableTaskError` when there are none."""
    strategy = config.default_strategy
    if task.tool is not None:
        if task.tool not in config.apps:
            raise UnroutableTaskError(task.task_id, f"it names unknown app {task.tool!r}")
        if not _runnable(config, task.tool, task):
            raise UnroutableTaskError(task.task_id, f"app {task.tool!r} has no command")
        return Route(task.task_id, (task.tool,), RoutingStrategy.FIXED, f"task names {task.tool}")
    for rule in config.rules:
        if not rule_matches(rule, task):
            continue
        candidates = tuple(app_id for app_id in rule.select_from if _runnable(config, app_id, task))
        if candidates:
            return Route(
                task.task_id,
                candidates,
                rule.strategy or strategy,
                f"rule {rule.rule_id}",
                rule.rule_id,
            )
    if config.apps:
        domain = task.domain
        capable = tuple(
            app.app_id
            for app in config.apps.values()
            if task.kind in app.task_kinds
            and (domain is None or not app.domains or domain in app.domains)
            and _runnable(config, app.app_id, task)
        )
        if capable:
            return Route(task.task_id, capable, strategy, f"capabilities list {task.kind}")
    if task.command is not None:
        return Route(task.task_id, (), RoutingStrategy.FIXED, _OWN_COMMAND)
    domain = f" in domain {task.domain!r}" if task.domain else ""
    raise UnroutableTaskError(
        task.task_id,
        f"no routing rule matches kind {task.kind!r}{domain}, no app lists it in its "
        "capabilities, and the task has no 'command'",
    )


_OWN_COMMAND = "the task's own command"


def _runnable(config: RouterConfig, app_id: str, task: TaskSpec) -> bool:
    """Whether app ``app_id`` exists and has a command for ``task`` (its own or the task's)."""
    app = config.apps.get(app_id)
    return app is not None and (app.command is not None or task.command is not None)


def app_score(stats: AppStats, fastest_ms: float | None) -> float:
    """``0.7 × success rate + 0.3 × latency score`` of one candidate.

    The success rate counts one optimistic prior success, so an app without history scores
    as if it never failed (it is tried before scores decide: :func:`choose_app`). The
    latency score is the fastest candidate's mean duration over this one's (1.0 for the
    fastest, and for apps without history).
    """
    success_rate = (stats.successes + 1) / (stats.attempts + 1)
    if stats.mean_duration_ms is None or not fastest_ms or stats.mean_duration_ms <= 0:
        latency_score = 1.0
    else:
        latency_score = min(1.0, fastest_ms / stats.mean_duration_ms)
    return SUCCESS_WEIGHT * success_rate + LATENCY_WEIGHT * latency_score


def choose_app(
    route: Route,
    *,
    stats: Mapping[str, AppStats],
    is_open: Callable[[str], bool],
    round_robin: RoundRobin,
) -> Decision:
    """Pick the app for one attempt of ``route``'s task."""
    if route.direct:
        return Decision(None, route, route.reason)
    candidates = route.candidates
    if route.strategy is RoutingStrategy.FIXED:
        return Decision(candidates[0], route, f"{route.reason}; fixed")
    closed = [app_id for app_id in candidates if not is_open(app_id)]
    if not closed:
        return Decision(candidates[0], route, f"{route.reason}; every candidate's circuit is open")
    if route.strategy is RoutingStrategy.ROUND_ROBIN:
        position = round_robin.take(route.rule_id or route.reason)
        return Decision(closed[position % len(closed)], route, f"{route.reason}; round robin")
    for app_id in closed:
        untried = app_id not in stats or stats[app_id].attempts == 0
        if untried and round_robin.claim(f"explore {app_id}"):
            return Decision(app_id, route, f"{route.reason}; auto: trying {app_id}, no record yet")
    durations = [
        stats[app_id].mean_duration_ms
        for app_id in closed
        if app_id in stats and stats[app_id].mean_duration_ms
    ]
    fastest = min((value for value in durations if value is not None), default=None)
    scores = {app_id: app_score(stats.get(app_id, AppStats()), fastest) for app_id in closed}
    best = max(closed, key=lambda app_id: scores[app_id])  # first of equals: config order
    return Decision(best, route, f"{route.reason}; auto score {scores[best]:.3f}", scores)


def execution_request(
    decision: Decision,
    task: TaskSpec,
    workstream: WorkstreamSpec,
    *,
    request_id: str,
    created_at: str,
    max_attempts: int,
    timeout_seconds: float | None,
) -> dict[str, Any]:
    """The execution_request artifact of one routing decision."""
    routing: dict[str, Any] = {
        "strategy": decision.route.strategy.value,
        "allowed_tools": list(decision.route.candidates),
        "max_attempts": max_attempts,
        "selected_tool": decision.tool_id,
        "reason": decision.reason,
    }
    if timeout_seconds is not None:
        routing["timeout_seconds"] = max(1, math.ceil(timeout_seconds))
    return {
        "request_id": request_id,
        "project_id": workstream.project_id,
        "phase_id": workstream.phase_id,
        "workstream_id": workstream.workstream_id,
        "task_id": task.task_id,
        "task_kind": task.kind,
        "origin": {"created_by": "uet.engine", "created_at": created_at},
        "classification": dict(task.classification),
        "resource_scope": dict(task.resource_scope or workstream.resource_scope),
        "routing": routing,
    }
