"""Typed, frozen view of a router config: apps, routing rules and defaults.

Like :mod:`uet.engine.planning.spec`, parsing takes a schema-valid plain value and returns
``(config, problems)``; it reports what the schema cannot see (rules naming unknown apps).
Defaults are the documented ones (``docs/schema-conventions.md``) and live here only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any, NamedTuple

from uet.engine.planning.spec import EMPTY, Command

__all__ = [
    "DEFAULT_BREAKER",
    "DEFAULT_MAX_ATTEMPTS",
    "DEFAULT_RETRY",
    "DIRECT_TOOL_ID",
    "AppConfig",
    "BreakerPolicy",
    "RetryPolicy",
    "RouterConfig",
    "RoutingRule",
    "RoutingStrategy",
    "parse_router_config",
]

# The tool id recorded for tasks that run their own ``command`` without a router app.
DIRECT_TOOL_ID = "uet.command"


class RoutingStrategy(StrEnum):
    """How a rule picks one app among its candidates."""

    FIXED = "fixed"
    ROUND_ROBIN = "round_robin"
    AUTO = "auto"


class RetryPolicy(NamedTuple):
    """When and how often an app's failed attempts are retried.

    ``max_attempts`` is ``None`` when the app does not say; the engine then falls back to
    ``defaults.max_attempts`` and finally :data:`DEFAULT_MAX_ATTEMPTS`.
    """

    max_attempts: int | None = None
    base_delay_seconds: float = 1.0
    max_delay_seconds: float = 60.0
    retryable_exit_codes: frozenset[int] = frozenset()
    retry_on_timeout: bool = True


class BreakerPolicy(NamedTuple):
    """When an app's circuit opens and how long it stays open."""

    failure_threshold: int = 5
    recovery_timeout_seconds: float = 60.0


DEFAULT_MAX_ATTEMPTS = 3
DEFAULT_RETRY = RetryPolicy()
DEFAULT_BREAKER = BreakerPolicy()


class AppConfig(NamedTuple):
    """One router app: how to run it and what it can do."""

    app_id: str
    kind: str = "tool"
    command: Command | None = None
    shell: bool = False
    cwd: str | None = None
    env: Mapping[str, str] = EMPTY
    task_kinds: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()
    max_parallel: int | None = None
    timeout_seconds: float | None = None
    safety_tier: str | None = None
    retry: RetryPolicy = DEFAULT_RETRY
    breaker: BreakerPolicy = DEFAULT_BREAKER


class RoutingRule(NamedTuple):
    """``routing.rules[]``: which tasks it matches and which apps it selects from."""

    rule_id: str
    task_kinds: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    risk_tiers: tuple[str, ...] = ()
    complexity: str | None = None
    select_from: tuple[str, ...] = ()
    strategy: RoutingStrategy | None = None
    validate_with: tuple[str, ...] = ()
    required: bool = False


class RouterConfig(NamedTuple):
    """A whole router config. An empty one (no apps, no rules) is valid."""

    version: str = "1.0.0"
    apps: Mapping[str, AppConfig] = EMPTY
    rules: tuple[RoutingRule, ...] = ()
    default_max_attempts: int | None = None
    default_timeout_seconds: float | None = None
    default_strategy: RoutingStrategy = RoutingStrategy.AUTO


def parse_router_config(value: Any) -> tuple[RouterConfig | None, list[str]]:
    """The router config in ``value`` (a schema-valid document), or ``None`` with problems."""
    if not isinstance(value, Mapping):
        return None, ["a router config must be an object"]
    problems: list[str] = []
    apps: dict[str, AppConfig] = {}
    for app_id, raw in _mapping(value.get("apps")).items():
        app = _parse_app(str(app_id), raw, problems)
        if app is not None:
            apps[app.app_id] = app
    rules: list[RoutingRule] = []
    for index, raw in enumerate(_sequence(_mapping(value.get("routing")).get("rules"))):
        rule = _parse_rule(raw, index, problems)
        if rule is None:
            continue
        for app_id in (*rule.select_from, *rule.validate_with):
            if app_id not in apps:
                problems.append(f"routing rule {rule.rule_id!r} names unknown app {app_id!r}")
        rules.append(rule)
    defaults = _mapping(value.get("defaults"))
    strategy = _strategy(defaults.get("strategy"), "defaults.strategy", problems)
    if problems:
        return None, problems
    attempts = defaults.get("max_attempts")
    timeout = defaults.get("timeout_seconds")
    return (
        RouterConfig(
            version=str(value.get("version", "1.0.0")),
            apps=apps,
            rules=tuple(rules),
            default_max_attempts=attempts if isinstance(attempts, int) and attempts >= 1 else None,
            default_timeout_seconds=_positive(timeout),
            default_strategy=strategy or RoutingStrategy.AUTO,
        ),
        [],
    )


def _parse_app(app_id: str, raw: Any, problems: list[str]) -> AppConfig | None:
    if not isinstance(raw, Mapping):
        problems.append(f"app {app_id!r} must be an object")
        return None
    command = raw.get("command")
    if isinstance(command, list):
        command = tuple(str(part) for part in command)
    elif command is not None and not isinstance(command, str):
        problems.append(f"app {app_id!r}: 'command' must be a string or an array of strings")
        command = None
    capabilities = _mapping(raw.get("capabilities"))
    limits = _mapping(raw.get("limits"))
    retry = _mapping(raw.get("retry"))
    breaker = _mapping(raw.get("circuit_breaker"))
    max_parallel = limits.get("max_parallel")
    return AppConfig(
        app_id=app_id,
        kind=str(raw.get("kind", "tool")),
        command=command,
        shell=raw.get("shell") is True,
        cwd=raw.get("cwd") if isinstance(raw.get("cwd"), str) else None,
        env={str(key): str(text) for key, text in _mapping(raw.get("env")).items()},
        task_kinds=_strings(capabilities.get("task_kinds")),
        domains=_strings(capabilities.get("domains")),
        max_parallel=max_parallel if isinstance(max_parallel, int) and max_parallel > 0 else None,
        timeout_seconds=_positive(limits.get("timeout_seconds")),
        safety_tier=raw.get("safety_tier") if isinstance(raw.get("safety_tier"), str) else None,
        retry=RetryPolicy(
            max_attempts=_optional_int_at_least(retry.get("max_attempts"), 1),
            base_delay_seconds=_non_negative(
                retry.get("base_delay_seconds"), DEFAULT_RETRY.base_delay_seconds
            ),
            max_delay_seconds=_non_negative(
                retry.get("max_delay_seconds"), DEFAULT_RETRY.max_delay_seconds
            ),
            retryable_exit_codes=frozenset(
                code
                for code in _sequence(retry.get("retryable_exit_codes"))
                if isinstance(code, int)
            ),
            retry_on_timeout=retry.get("retry_on_timeout", True) is not False,
        ),
        breaker=BreakerPolicy(
            failure_threshold=_int_at_least(
                breaker.get("failure_threshold"), 1, DEFAULT_BREAKER.failure_threshold
            ),
            recovery_timeout_seconds=_non_negative(
                breaker.get("recovery_timeout_seconds"), DEFAULT_BREAKER.recovery_timeout_seconds
            ),
        ),
    )


def _parse_rule(raw: Any, index: int, problems: list[str]) -> RoutingRule | None:
    if not isinstance(raw, Mapping):
        problems.append(f"routing.rules[{index}] must be an object")
        return None
    rule_id = str(raw.get("id") or f"rule-{index}")
    match = _mapping(raw.get("match"))
    complexity = match.get("complexity")
    return RoutingRule(
        rule_id=rule_id,
        task_kinds=_strings(match.get("task_kind")),
        domains=_strings(match.get("domain")),
        tags=_strings(match.get("tags")),
        risk_tiers=_strings(match.get("risk_tier")),
        complexity=complexity if isinstance(complexity, str) else None,
        select_from=_strings(raw.get("select_from")),
        strategy=_strategy(raw.get("strategy"), f"rule {rule_id!r} strategy", problems),
        validate_with=_strings(raw.get("validate_with")),
        required=raw.get("required") is True,
    )


def _strategy(value: Any, where: str, problems: list[str]) -> RoutingStrategy | None:
    if value is None:
        return None
    try:
        return RoutingStrategy(value)
    except ValueError:
        problems.append(f"{where}: unknown routing strategy {value!r}")
        return None


def _mapping(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, Mapping) else {}


def _sequence(value: Any) -> Sequence[Any]:
    return value if isinstance(value, Sequence) and not isinstance(value, str) else ()


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(str(item) for item in _sequence(value))


def _positive(value: Any) -> float | None:
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    return float(value) if is_number and value > 0 else None


def _non_negative(value: Any, default: float) -> float:
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    return float(value) if is_number and value >= 0 else default


def _optional_int_at_least(value: Any, minimum: int) -> int | None:
    is_int = isinstance(value, int) and not isinstance(value, bool)
    return value if is_int and value >= minimum else None


def _int_at_least(value: Any, minimum: int, default: int) -> int:
    is_int = isinstance(value, int) and not isinstance(value, bool)
    return value if is_int and value >= minimum else default
