"""Routing: rules, capability fallback, direct commands, strategies, execution requests."""

from __future__ import annotations

import pytest
from engine_support import assert_valid

from uet.engine.errors import UnroutableTaskError
from uet.engine.planning.router_config import RouterConfig, RoutingStrategy, parse_router_config
from uet.engine.planning.routing import (
    AppStats,
    RoundRobin,
    app_score,
    choose_app,
    execution_request,
    route_task,
)
from uet.engine.planning.spec import TaskSpec, WorkstreamSpec
from uet.engine.store.ids import new_ulid, utc_timestamp

CONFIG_VALUE = {
    "version": "1.0.0",
    "apps": {
        "aider": {
            "kind": "tool",
            "command": "aider --yes",
            "capabilities": {"task_kinds": ["code_edit"], "domains": ["python"]},
        },
        "codex": {
            "kind": "tool",
            "command": ["codex"],
            "capabilities": {"task_kinds": ["code_edit", "analysis"]},
        },
        "ruff": {
            "kind": "validator",
            "command": "ruff check",
            "capabilities": {"task_kinds": ["lint"], "domains": ["python"]},
        },
    },
    "routing": {
        "rules": [
            {
                "id": "risky-edits",
                "match": {"task_kind": ["code_edit"], "risk_tier": ["high"]},
                "select_from": ["codex"],
                "strategy": "fixed",
            },
            {
                "id": "edits",
                "match": {"task_kind": ["code_edit"], "tags": ["bulk"]},
                "select_from": ["aider", "codex"],
                "strategy": "round_robin",
            },
        ]
    },
    "defaults": {"strategy": "auto"},
}


def config() -> RouterConfig:
    parsed, problems = parse_router_config(CONFIG_VALUE)
    assert problems == []
    assert parsed is not None
    return parsed


def task(**fields: object) -> TaskSpec:
    fields.setdefault("task_id", "t1")
    fields.setdefault("name", "T1")
    fields.setdefault("kind", "code_edit")
    return TaskSpec(**fields)  # type: ignore[arg-type]


def test_first_matching_rule_wins() -> None:
    route = route_task(task(classification={"risk_tier": "high"}, tags=("bulk",)), config())
    assert (route.rule_id, route.candidates, route.strategy) == (
        "risky-edits",
        ("codex",),
        RoutingStrategy.FIXED,
    )
    route = route_task(task(tags=("bulk",)), config())
    assert route.rule_id == "edits"
    assert route.strategy is RoutingStrategy.ROUND_ROBIN


def test_capabilities_when_no_rule_matches() -> None:
    route = route_task(task(classification={"domain": "python"}), config())
    assert route.rule_id is None
    assert route.candidates == ("aider", "codex")
    assert route.strategy is RoutingStrategy.AUTO  # defaults.strategy
    route = route_task(task(classification={"domain": "go"}), config())
    assert route.candidates == ("codex",)  # aider lists domains, go is not one of them
    assert route_task(task(kind="lint"), config()).candidates == ("ruff",)


def test_tool_bypasses_routing() -> None:
    assert route_task(task(tool="ruff"), config()).candidates == ("ruff",)
    with pytest.raises(UnroutableTaskError, match="unknown app 'nope'"):
        route_task(task(tool="nope"), config())


def test_unroutable_unless_the_task_has_a_command() -> None:
    with pytest.raises(UnroutableTaskError, match="no routing rule matches kind 'deploy'"):
        route_task(task(kind="deploy"), config())
    route = route_task(task(kind="deploy", command=("make", "deploy")), config())
    assert route.direct


def test_rules_naming_unknown_apps_are_problems() -> None:
    value = {
        "version": "1.0.0",
        "apps": {},
        "routing": {"rules": [{"id": "r", "match": {}, "select_from": ["ghost"]}]},
    }
    parsed, problems = parse_router_config(value)
    assert parsed is None
    assert problems == ["routing rule 'r' names unknown app 'ghost'"]


def _choose(route_candidates: tuple[str, ...], strategy: RoutingStrategy, **kwargs: object):  # type: ignore[no-untyped-def]
    from uet.engine.planning.routing import Route

    route = Route("t1", route_candidates, strategy, "test", "rule")
    return choose_app(
        route,
        stats=kwargs.get("stats", {}),  # type: ignore[arg-type]
        is_open=kwargs.get("is_open", lambda app: False),  # type: ignore[arg-type]
        round_robin=kwargs.get("round_robin", RoundRobin()),  # type: ignore[arg-type]
    )


def test_fixed_takes_the_first_candidate_even_when_open() -> None:
    decision = _choose(("a", "b"), RoutingStrategy.FIXED, is_open=lambda app: True)
    assert decision.app_id == "a"


def test_round_robin_rotates_and_skips_open_circuits() -> None:
    rotation = RoundRobin()
    picks = [
        _choose(("a", "b", "c"), RoutingStrategy.ROUND_ROBIN, round_robin=rotation)
        for _ in range(4)
    ]
    assert [pick.app_id for pick in picks] == ["a", "b", "c", "a"]
    picks = [
        _choose(
            ("a", "b", "c"),
            RoutingStrategy.ROUND_ROBIN,
            round_robin=RoundRobin(),
            is_open=lambda app: app == "b",
        ).app_id
        for _ in range(1)
    ]
    assert "b" not in picks


def test_auto_scores_success_and_latency() -> None:
    stats = {
        "reliable": AppStats(attempts=10, successes=10, mean_duration_ms=400.0),
        "flaky": AppStats(attempts=10, successes=5, mean_duration_ms=100.0),
    }
    decision = _choose(("flaky", "reliable"), RoutingStrategy.AUTO, stats=stats)
    assert decision.app_id == "reliable"
    # 0.7 * (11/11) + 0.3 * (100/400) vs 0.7 * (6/11) + 0.3 * 1
    assert decision.scores["reliable"] == pytest.approx(0.7 + 0.3 * 0.25)
    assert decision.scores["flaky"] == pytest.approx(0.7 * 6 / 11 + 0.3)
    assert app_score(AppStats(), None) == pytest.approx(1.0)  # untried apps get tried


def test_auto_tries_an_untried_app_once_before_the_scores_decide() -> None:
    memory = RoundRobin()
    stats = {"slow": AppStats(attempts=10, successes=10, mean_duration_ms=400.0)}
    explored = _choose(("slow", "fast"), RoutingStrategy.AUTO, stats=stats, round_robin=memory)
    assert explored.app_id == "fast"
    assert "trying fast" in explored.reason
    # While that attempt has no outcome, the scores decide (ties go to config order).
    scored = _choose(("slow", "fast"), RoutingStrategy.AUTO, stats=stats, round_robin=memory)
    assert scored.app_id == "slow" and scored.scores
    # An open circuit is not explored.
    closed = _choose(
        ("slow", "fast"), RoutingStrategy.AUTO, stats=stats, is_open=lambda app: app == "fast"
    )
    assert closed.app_id == "slow"


def test_auto_skips_open_circuits() -> None:
    stats = {"best": AppStats(10, 10, 1.0), "other": AppStats(10, 1, 100.0)}
    decision = _choose(
        ("best", "other"), RoutingStrategy.AUTO, stats=stats, is_open=lambda app: app == "best"
    )
    assert decision.app_id == "other"
    everything_open = _choose(("best", "other"), RoutingStrategy.AUTO, is_open=lambda app: True)
    assert "circuit is open" in everything_open.reason


def test_app_stats_fold_outcomes() -> None:
    stats = AppStats().with_outcome(True, 100.0).with_outcome(False, 300.0)
    assert (stats.attempts, stats.successes, stats.mean_duration_ms) == (2, 1, 200.0)


def test_each_decision_is_a_valid_execution_request() -> None:
    workstream = WorkstreamSpec("ws-1", "proj", "PH-1", "WS", "obj", tasks=())
    the_task = task(classification={"domain": "python", "complexity": "simple"})
    decision = _choose(("aider", "codex"), RoutingStrategy.AUTO)
    request = execution_request(
        decision,
        the_task,
        workstream,
        request_id=new_ulid(),
        created_at=utc_timestamp(),
        max_attempts=3,
        timeout_seconds=2.5,
    )
    assert request["routing"]["selected_tool"] == "aider"
    assert request["routing"]["allowed_tools"] == ["aider", "codex"]
    assert request["routing"]["timeout_seconds"] == 3
    assert request["task_id"] == "t1"
    assert_valid("execution_request", request)
    direct = route_task(task(kind="x", command=("true",)), config())
    from uet.engine.planning.routing import Decision

    direct_request = execution_request(
        Decision(None, direct, direct.reason),
        task(kind="x"),
        workstream,
        request_id=new_ulid(),
        created_at=utc_timestamp(),
        max_attempts=1,
        timeout_seconds=None,
    )
    assert direct_request["routing"]["selected_tool"] == "uet.command"
    assert_valid("execution_request", direct_request)
