"""jsonschema-rs and jsonschema agree on every bundled schema.

The registry answers "is this document valid?" with jsonschema-rs and explains errors from
jsonschema-rs's errors; jsonschema is the reference both are held to. If they disagreed, a
document could be declared valid while jsonschema would report errors, or be explained
differently than jsonschema would, so this is a differential test over examples and
mutations of them.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from functools import cache
from typing import Any

import jsonschema_rs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from jsonschema.protocols import Validator

from uet.artifacts import bundled_registry, check_text
from uet.artifacts.formats import FORMAT_CHECKER, FORMAT_TESTS
from uet.artifacts.registry import JSONSCHEMA_RS_FORMATS, SchemaRegistry
from uet.artifacts.schema_errors import SchemaError, schema_errors

REGISTRY = bundled_registry()
NAMES = REGISTRY.artifact_names()


@cache
def plain(name: str) -> Validator:
    """jsonschema itself."""
    return Draft202012Validator(
        REGISTRY.info(name).contents,
        registry=REGISTRY.referencing_registry,
        format_checker=FORMAT_CHECKER,
    )


class JsonschemaOnly(SchemaRegistry):
    """The bundled schemas, without jsonschema-rs: errors come from jsonschema."""

    def check(self, name: str) -> Any:
        return None


def _outline(error: SchemaError) -> tuple[Any, ...]:
    """What the explanations read of an error (not the library's own message)."""
    return (
        error.path,
        error.keyword,
        id(error.schema),
        repr(error.argument),
        tuple(tuple(sorted(map(_outline, branch), key=repr)) for branch in error.branches),
    )


def outlines(registry: SchemaRegistry, name: str, value: Any) -> list[tuple[Any, ...]]:
    return sorted({_outline(error) for error in schema_errors(registry, name, value)}, key=repr)


JSONSCHEMA_ONLY = JsonschemaOnly({name: REGISTRY.info(name).contents for name in REGISTRY.names()})


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
def test_every_schema_builds(name: str) -> None:
    assert REGISTRY.check(name) is not None, f"{name}: jsonschema-rs cannot build it"


@pytest.mark.parametrize("name", NAMES)
def test_examples_agree(name: str) -> None:
    validator = plain(name)
    for example in REGISTRY.info(name).contents.get("examples", []):
        assert REGISTRY.is_valid(name, example) == validator.is_valid(example)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_examples_agree(data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(NAMES))
    examples = REGISTRY.info(name).contents.get("examples") or [{}]
    value = _mutate(data.draw(st.sampled_from(examples)), data)
    assert REGISTRY.is_valid(name, value) == plain(name).is_valid(value), (name, value)


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_errors_are_those_jsonschema_reports(data: st.DataObject) -> None:
    """Same places, keywords, subschemas (the registry's very objects) and alternatives."""
    name = data.draw(st.sampled_from(NAMES))
    examples = REGISTRY.info(name).contents.get("examples") or [{}]
    value = _mutate(data.draw(st.sampled_from(examples)), data)
    ours = outlines(REGISTRY, name, value)
    assert ours == outlines(JSONSCHEMA_ONLY, name, value), (name, value)
    assert bool(ours) != REGISTRY.is_valid(name, value)


def test_one_broken_task_among_many() -> None:
    """The errors of one broken task among 200 are those of the broken task, exactly as
    jsonschema reports them."""
    tasks = [
        {"task_id": f"t-{number}", "name": f"Task {number}", "kind": "lint"}
        for number in range(200)
    ]
    tasks[150]["kind"] = 42
    value = {
        "workstream_id": "WS-1", "project_id": "PRJ-1", "phase_id": "PH-1",
        "name": "W", "objective": "o", "tasks": tasks,
    }  # fmt: skip
    found = outlines(REGISTRY, "workstream_spec", value)
    assert found == outlines(JSONSCHEMA_ONLY, "workstream_spec", value)
    assert found and all(path[:2] == ("tasks", 150) for path, *_ in found)


def _small_registry(schema: dict[str, Any]) -> SchemaRegistry:
    return SchemaRegistry(
        {"small": {"$id": "https://uet.invalid/schemas/v1/small.schema.json"} | schema}
    )


def test_infinity_is_judged_as_jsonschema_judges_it() -> None:
    """JSON has no infinity and jsonschema-rs reads one as null, which passes ``maximum``:
    the registry must not call such a document valid."""
    registry = _small_registry({"properties": {"limit": {"maximum": 5}, "low": {"minimum": 0}}})
    assert not registry.is_valid("small", {"limit": float("inf")})
    assert not registry.is_valid("small", {"low": float("-inf")})
    assert registry.is_valid("small", {"limit": 5, "low": 0})
    report = check_text("limit: .inf\nlow: -.inf\n", "doc.yaml", "small", registry=registry)
    schema_problems = [item for item in report.diagnostics if item.code.startswith("UET2")]
    assert [item.code for item in schema_problems] == ["UET206", "UET206"]
    assert "must be at most 5" in schema_problems[0].message


@pytest.mark.parametrize("key", ["", "0", "12"])
def test_errors_under_odd_property_names_land_on_their_value(key: str) -> None:
    """jsonschema-rs 0.61 drops an empty property name from its error paths and gives
    ``"0"`` as the number 0: the explanation must still land on the value under ``key``."""
    registry = _small_registry({"additionalProperties": {"type": "string"}})
    value = {"fine": "x", key: 42}
    assert outlines(registry, "small", value)[0][0] == (key,)
    text = f'fine: x\n"{key}": 42\n'
    report = check_text(text, "doc.yaml", "small", registry=registry)
    assert [(item.code, item.span.start) for item in report.diagnostics] == [
        ("UET201", text.index("42"))
    ]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_diagnostics_are_those_from_jsonschema_errors(data: st.DataObject) -> None:
    """What a user reads: the same diagnostics whichever library found the errors (codes,
    places and messages; a message quoting the library's own wording aside)."""
    name = data.draw(st.sampled_from(NAMES))
    examples = REGISTRY.info(name).contents.get("examples") or [{}]
    value = _mutate(data.draw(st.sampled_from(examples)), data)
    text = json.dumps(value, indent=1)
    reports = [
        check_text(text, "doc.json", name, registry=registry).diagnostics
        for registry in (REGISTRY, JSONSCHEMA_ONLY)
    ]
    ours, theirs = (
        [
            (item.span, item.code, item.message if item.code != "UET299" else "")
            for item in diagnostics
        ]
        for diagnostics in reports
    )
    assert ours == theirs, (name, value)


def _known_to_jsonschema_rs(format_name: str) -> bool:
    """Whether jsonschema-rs checks ``format_name`` by itself (it refuses unknown ones here)."""
    try:
        jsonschema_rs.validator_for(
            {"format": format_name}, validate_formats=True, ignore_unknown_formats=False
        )
    except jsonschema_rs.ValidationError:
        return False
    return True


def _named_formats(value: object) -> Iterator[str]:
    if isinstance(value, dict):
        if isinstance(value.get("format"), str):
            yield value["format"]
        for item in value.values():
            yield from _named_formats(item)
    elif isinstance(value, list):
        for item in value:
            yield from _named_formats(item)


def test_the_formats_jsonschema_rs_knows_are_listed() -> None:
    """Every format a bundled schema names is ours, an annotation the registry lists, or one
    jsonschema-rs ignores: none is checked by jsonschema-rs alone."""
    assert all(_known_to_jsonschema_rs(name) for name in JSONSCHEMA_RS_FORMATS)
    for name in REGISTRY.names():
        for format_name in _named_formats(REGISTRY.info(name).contents):
            assert (
                format_name in FORMAT_TESTS
                or format_name in JSONSCHEMA_RS_FORMATS
                or not _known_to_jsonschema_rs(format_name)
            ), (name, format_name)


@pytest.mark.parametrize("format_name", ["email", "ipv4", "uuid", "x-unknown", "date"])
def test_formats_are_judged_as_jsonschema_judges_them(format_name: str) -> None:
    """A format we do not check is an annotation only, as with jsonschema's FORMAT_CHECKER."""
    registry = SchemaRegistry({"small": {"type": "string", "format": format_name}})
    plain_validator = Draft202012Validator(
        registry.info("small").contents, format_checker=FORMAT_CHECKER
    )
    for value in ("not-valid", "2026-12-08"):
        assert registry.is_valid("small", value) == plain_validator.is_valid(value)
