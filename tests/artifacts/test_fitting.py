"""Values that fit the schema: the UET202 quick fix over every schema of the registry, and
the check a renamed id goes through."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from uet.artifacts import FileReport, bundled_registry, check_text
from uet.artifacts.fitting import Place, first_new_error, placeholders
from uet.artifacts.quickfix import TextEdit, quick_fixes

REGISTRY = bundled_registry()
SCHEMAS = REGISTRY.artifact_names()


def apply(text: str, edits: tuple[TextEdit, ...]) -> str:
    for edit in sorted(edits, key=lambda item: -item.span.start):
        text = text[: edit.span.start] + edit.new_text + text[edit.span.end :]
    return text


def add_missing(report: FileReport) -> str | None:
    """The text after the first UET202 quick fix (``None``: no UET202 left)."""
    for diagnostic in report.diagnostics:
        if diagnostic.code == "UET202":
            fixes = quick_fixes(
                report.parsed,
                diagnostic.code,
                diagnostic.span,
                diagnostic.data,
                schema=report.schema,
                registry=REGISTRY,
            )
            assert fixes, diagnostic.message
            return apply(report.parsed.text, fixes[0].edits)
    return None


def problems(report: FileReport) -> list[str]:
    return [f"{item.code} {item.message}" for item in report.diagnostics]


@pytest.mark.parametrize("language", ["json", "yaml"])
@pytest.mark.parametrize("schema", SCHEMAS)
def test_adding_what_is_missing_makes_an_empty_document_valid(schema: str, language: str) -> None:
    """Every required property of every schema (nested required objects, minItems,
    minLength, patterns, formats, ranges, conditionals) gets a value that fits."""
    text = "{}" if language == "json" else "{}\n"
    for _ in range(5):  # a conditional may require more once the first ones exist
        fixed = add_missing(check_text(text, f"a.{language}", schema, registry=REGISTRY))
        if fixed is None:
            break
        text = fixed
    assert problems(check_text(text, f"a.{language}", schema, registry=REGISTRY)) == []


def objects(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], dict]]:
    if isinstance(value, dict):
        yield path, value
        for key, item in value.items():
            yield from objects(item, (*path, key))
    elif isinstance(value, list):
        for position, item in enumerate(value):
            yield from objects(item, (*path, position))


def without(value: Any, path: tuple[Any, ...], key: str) -> Any:
    if not path:
        return {name: item for name, item in value.items() if name != key}
    copy = list(value) if isinstance(value, list) else dict(value)
    copy[path[0]] = without(value[path[0]], path[1:], key)
    return copy


@pytest.mark.parametrize(
    "schema", [name for name in SCHEMAS if REGISTRY.info(name).contents.get("examples")]
)
def test_each_required_property_removed_from_an_example_is_added_back_validly(
    schema: str,
) -> None:
    """Remove each property of each object of the schema's own examples in turn; where
    that makes a required property missing, the fix adds one that brings no new error."""
    for example in REGISTRY.info(schema).contents["examples"]:
        assert problems(check_text(json.dumps(example), "a.json", schema, registry=REGISTRY)) == []
        for path, node in objects(example):
            for key in node:
                text = json.dumps(without(example, path, key), indent=2)
                report = check_text(text, "a.json", schema, registry=REGISTRY)
                fixed = add_missing(report)
                if fixed is None:
                    continue  # the property was optional
                after = check_text(fixed, "a.json", schema, registry=REGISTRY)
                assert problems(after) == [], (path, key)


def test_placeholders_satisfy_min_length_instead_of_an_empty_string() -> None:
    root = {"workstream_id": "ws", "project_id": "p", "phase_id": "PH", "objective": "o"}
    chosen = placeholders(REGISTRY, "workstream_spec", root, (), ["name"])
    assert isinstance(chosen["name"], str) and chosen["name"] != ""
    assert (
        first_new_error(REGISTRY, "workstream_spec", root, [(Place(()), {**root, **chosen})])
        is None
    )


def test_a_value_the_schema_rejects_is_reported_with_its_reason() -> None:
    root = {"workstream_id": "ws", "tasks": [{"task_id": "a"}]}
    where = Place(("tasks", 0, "task_id"))
    assert first_new_error(REGISTRY, "workstream_spec", root, [(where, "b")]) is None
    error = first_new_error(REGISTRY, "workstream_spec", root, [(where, "a b")])
    assert error is not None and "does not match" in error
    # A renamed key is checked by the object's propertyNames; errors inside the renamed
    # member (this app lacks its required properties) are not new.
    router = {"apps": {"ruff": {}}}
    key = Place(("apps",), "ruff")
    assert first_new_error(REGISTRY, "router_config", router, [(key, "ruff-2")]) is None
    error = first_new_error(REGISTRY, "router_config", router, [(key, "-x")])
    assert error is not None and "does not match" in error
