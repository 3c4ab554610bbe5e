"""``uet.engine.ResilientExecutor``: real retries through tenacity and real breaker
transitions, on an injected clock and sleep (nothing waits)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from uet.engine import CircuitBreakerOpen, ResilientExecutor, RetryExhausted


class FakeTime:
    """A clock that only ``sleep`` (or the test) moves."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def failing(times: int, error: Exception, value: str = "ok") -> tuple[Callable[[], str], list[int]]:
    """A call failing ``times`` times with ``error``, then returning ``value``."""
    calls: list[int] = []

    def call() -> str:
        calls.append(1)
        if len(calls) <= times:
            raise error
        return value

    return call, calls


@pytest.fixture
def fake() -> FakeTime:
    return FakeTime()


@pytest.fixture
def executor(fake: FakeTime) -> ResilientExecutor:
    return ResilientExecutor(clock=fake.clock, sleep=fake.sleep)


def test_failures_are_retried_with_exponential_backoff_and_jitter(
    executor: ResilientExecutor, fake: FakeTime
) -> None:
    executor.register_tool("api", max_attempts=4, base_delay=2.0, failure_threshold=10)
    call, calls = failing(3, ConnectionError("reset"))
    assert executor.execute("api", call) == "ok"
    assert len(calls) == 4
    assert len(fake.sleeps) == 3
    for n, slept in enumerate(fake.sleeps, start=1):
        assert 2.0 * 2 ** (n - 1) <= slept <= 2.0 * 2 ** (n - 1) + 2.0, fake.sleeps
    state = executor.get_tool_state("api")
    assert state is not None and (state.state, state.failure_count) == ("closed", 0)


def test_arguments_are_passed_and_the_delay_is_capped(
    executor: ResilientExecutor, fake: FakeTime
) -> None:
    executor.register_tool("api", max_attempts=3, base_delay=10.0, max_delay=1.5)
    seen: list[tuple[int, str]] = []

    def call(number: int, *, label: str) -> int:
        seen.append((number, label))
        if len(seen) < 3:
            raise OSError("busy")
        return number * 2

    assert executor.execute("api", call, 21, label="x") == 42
    assert seen == [(21, "x")] * 3
    assert fake.sleeps and all(slept <= 1.5 for slept in fake.sleeps)


def test_when_every_attempt_fails_retry_exhausted_carries_the_last_error(
    executor: ResilientExecutor, fake: FakeTime
) -> None:
    executor.register_tool("api", max_retries=3, base_delay=0.5)  # the original's name
    errors = iter([TimeoutError("first"), TimeoutError("second"), TimeoutError("third")])

    def call() -> None:
        raise next(errors)

    with pytest.raises(RetryExhausted) as raised:
        executor.execute("api", call)
    assert raised.value.attempts == 3
    assert str(raised.value.last_error) == "third"
    assert raised.value.__cause__ is raised.value.last_error
    assert str(raised.value) == "'api' failed after 3 attempts; last error: TimeoutError: third"
    assert len(fake.sleeps) == 2


def test_an_exception_that_is_not_retried_is_raised_as_it_is_and_still_counts(
    executor: ResilientExecutor, fake: FakeTime
) -> None:
    executor.register_tool("api", retry_on=(ConnectionError,), failure_threshold=5)
    call, calls = failing(1, KeyError("bad input"))
    with pytest.raises(KeyError):
        executor.execute("api", call)
    assert len(calls) == 1 and fake.sleeps == []
    state = executor.get_tool_state("api")
    assert state is not None and state.failure_count == 1


def test_the_circuit_opens_mid_retries_and_stops_them(
    executor: ResilientExecutor, fake: FakeTime
) -> None:
    executor.register_tool(
        "api", failure_threshold=2, recovery_timeout=30, max_attempts=5, base_delay=1.0
    )
    call, calls = failing(100, ConnectionError("down"))
    with pytest.raises(CircuitBreakerOpen) as raised:
        executor.execute("api", call)
    assert len(calls) == 2  # the third attempt was refused by the open circuit
    assert raised.value.tool == "api"
    assert 0 < raised.value.retry_in_seconds <= 30
    state = executor.get_tool_state("api")
    assert state is not None
    assert (state.state, state.failure_count, state.failure_threshold) == ("open", 2, 2)
    # While open, calls are refused without being made.
    with pytest.raises(CircuitBreakerOpen):
        executor.execute("api", call)
    assert len(calls) == 2


def test_after_the_recovery_timeout_one_trial_decides(
    executor: ResilientExecutor, fake: FakeTime
) -> None:
    executor.register_tool("api", failure_threshold=1, recovery_timeout=60, max_attempts=1)
    down, _ = failing(100, ConnectionError("down"))
    with pytest.raises(RetryExhausted):
        executor.execute("api", down)
    state = executor.get_tool_state("api")
    assert state is not None and state.state == "open" and state.retry_in_seconds == 60.0
    fake.now += 59
    with pytest.raises(CircuitBreakerOpen):
        executor.execute("api", down)
    fake.now += 1
    with pytest.raises(RetryExhausted):  # the trial failed: open again, for 60 s more
        executor.execute("api", down)
    state = executor.get_tool_state("api")
    assert state is not None and state.state == "open" and state.retry_in_seconds == 60.0
    fake.now += 60
    up, _ = failing(0, ConnectionError("unused"))
    assert executor.execute("api", up) == "ok"  # the trial succeeded: closed
    state = executor.get_tool_state("api")
    assert state is not None and (state.state, state.failure_count) == ("closed", 0)


def test_a_half_open_circuit_lets_one_trial_through_at_a_time(
    executor: ResilientExecutor, fake: FakeTime
) -> None:
    executor.register_tool("api", failure_threshold=1, recovery_timeout=5, max_attempts=1)
    down, _ = failing(1, ConnectionError("down"))
    with pytest.raises(RetryExhausted):
        executor.execute("api", down)
    fake.now += 5
    refused: list[CircuitBreakerOpen] = []

    def trial() -> str:
        state = executor.get_tool_state("api")
        assert state is not None and state.state == "half_open"
        try:
            executor.execute("api", lambda: "second caller")
        except CircuitBreakerOpen as exc:
            refused.append(exc)
        return "trial"

    assert executor.execute("api", trial) == "trial"
    assert len(refused) == 1 and refused[0].retry_in_seconds == 0.0


def test_an_interrupted_trial_frees_the_circuit_for_the_next(
    executor: ResilientExecutor, fake: FakeTime
) -> None:
    executor.register_tool("api", failure_threshold=1, recovery_timeout=5, max_attempts=1)
    down, _ = failing(1, ConnectionError("down"))
    with pytest.raises(RetryExhausted):
        executor.execute("api", down)
    fake.now += 5

    def interrupted() -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        executor.execute("api", interrupted)
    assert executor.execute("api", lambda: "next trial") == "next trial"


def test_tools_are_separate_and_registered_on_first_use(
    executor: ResilientExecutor, fake: FakeTime
) -> None:
    assert executor.get_tool_state("never") is None
    assert executor.execute("auto", lambda: 7) == 7
    auto = executor.get_tool_state("auto")
    assert auto is not None
    assert (auto.failure_threshold, auto.recovery_timeout, auto.max_attempts) == (5, 60.0, 3)
    executor.register_tool("a", failure_threshold=1, max_attempts=1)
    down, _ = failing(1, ConnectionError("down"))
    with pytest.raises(RetryExhausted):
        executor.execute("a", down)
    assert executor.execute("b", lambda: "b is fine") == "b is fine"
    executor.reset_tool("a")
    state = executor.get_tool_state("a")
    assert state is not None and (state.state, state.failure_count) == ("closed", 0)
    assert state.failure_threshold == 1  # its settings stay


def test_settings_are_checked(executor: ResilientExecutor) -> None:
    with pytest.raises(ValueError):
        executor.register_tool("x", max_attempts=0)
    with pytest.raises(ValueError):
        executor.register_tool("x", failure_threshold=0)
    with pytest.raises(ValueError):
        executor.register_tool("x", base_delay=-1)
