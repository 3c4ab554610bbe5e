"""The compiled validity check agrees with jsonschema on every bundled schema.

If they disagreed, a document could be declared valid by the fast path while jsonschema
would report errors, so this is a differential test over examples and mutations of them.
The registry's validator skips children the compiled checks prove valid; it must report
exactly the errors plain jsonschema reports.
"""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from jsonschema.protocols import Validator

from uet.artifacts import bundled_registry
from uet.artifacts.formats import FORMAT_CHECKER

REGISTRY = bundled_registry()
NAMES = REGISTRY.artifact_names()


@cache
def plain(name: str) -> Validator:
    """jsonschema itself, without the registry's pruning."""
    return Draft202012Validator(
        REGISTRY.info(name).contents,
        registry=REGISTRY.referencing_registry,
        format_checker=FORMAT_CHECKER,
    )


def errors(validator: Validator, value: Any) -> list[tuple[Any, ...]]:
    found = [
        (tuple(error.absolute_path), str(error.validator), error.message)
        for error in validator.iter_errors(value)
    ]
    return sorted(found, key=repr)


json_leaf = (
    st.none()
    | st.booleans()
    | st.integers(-5, 100)
    | st.floats(allow_nan=False, allow_infinity=False, width=32)
    | st.sampled_from(["", "x", "fail_fast", "2025-01-01T00:00:00Z", "01ARZ3NDEKTSV4RRFFQ69G5FAV"])
)
json_values = st.recursive(
    json_leaf,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3)
    ),
    max_leaves=8,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found.extend(_paths(item, (*prefix, key)))
    elif isinstance(value, list):
        for position, item in enumerate(value):
            found.extend(_paths(item, (*prefix, position)))
    return found


def _mutate(value: Any, data: st.DataObject) -> Any:
    value = copy.deepcopy(value)
    for _ in range(data.draw(st.integers(1, 3))):
        paths = _paths(value)
        path = data.draw(st.sampled_from(paths))
        if not path:
            return data.draw(json_values)
        parent = value
        for part in path[:-1]:
            parent = parent[part]
        action = data.draw(st.sampled_from(["replace", "delete", "add"]))
        if action == "replace":
            parent[path[-1]] = data.draw(json_values)
        elif action == "delete":
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[data.draw(st.text(max_size=8))] = data.draw(json_values)
        else:
            parent.append(data.draw(json_values))
    return value


@pytest.mark.parametrize("name", NAMES)
def test_every_schema_compiles(name: str) -> None:
    assert REGISTRY.fast_check(name) is not None, f"{name} falls back to jsonschema only"


@pytest.mark.parametrize("name", NAMES)
def test_examples_agree(name: str) -> None:
    check = REGISTRY.fast_check(name)
    validator = plain(name)
    for example in REGISTRY.info(name).contents.get("examples", []):
        assert check is None or check(example) == validator.is_valid(example)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_examples_agree(data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(NAMES))
    examples = REGISTRY.info(name).contents.get("examples") or [{}]
    value = _mutate(data.draw(st.sampled_from(examples)), data)
    check = REGISTRY.fast_check(name)
    assert check is not None
    assert check(value) == plain(name).is_valid(value), (name, value)


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_pruned_validator_reports_what_jsonschema_reports(data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(NAMES))
    examples = REGISTRY.info(name).contents.get("examples") or [{}]
    value = _mutate(data.draw(st.sampled_from(examples)), data)
    assert errors(REGISTRY.validator(name), value) == errors(plain(name), value), (name, value)


def test_one_broken_task_among_many() -> None:
    """The case pruning is for (benchmarks/validate.py measures it): the errors are those of
    the broken task, exactly as jsonschema reports them."""
    tasks = [
        {"task_id": f"t-{number}", "name": f"Task {number}", "kind": "lint"}
        for number in range(200)
    ]
    tasks[150]["kind"] = 42
    value = {
        "workstream_id": "WS-1", "project_id": "PRJ-1", "phase_id": "PH-1",
        "name": "W", "objective": "o", "tasks": tasks,
    }  # fmt: skip
    found = errors(REGISTRY.validator("workstream_spec"), value)
    assert found == errors(plain("workstream_spec"), value)
    assert found and all(path[:2] == ("tasks", 150) for path, _, _ in found)
