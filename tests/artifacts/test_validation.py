"""Schema errors land on the exact node, with what was found and what is allowed."""

from __future__ import annotations

from typing import Any

import pytest

from uet.artifacts import SchemaRegistry, check_text

from .support import summary

PREFIX = "https://uet.invalid/schemas/v1/"
COMMON: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": f"{PREFIX}common.schema.json",
    "$defs": {
        "strategy": {"type": "string", "enum": ["fail_fast", "continue", "escalate"]},
        "ulid": {"type": "string", "pattern": "^[0-9A-HJKMNP-TV-Z]{26}$"},
    },
}
THING: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": f"{PREFIX}thing.schema.json",
    "type": "object",
    "additionalProperties": False,
    "patternProperties": {"^x-": {}},
    "required": ["thing_id", "name"],
    "properties": {
        "$schema": {"type": "string"},
        "thing_id": {"type": "string", "minLength": 1},
        "name": {"type": "string"},
        "strategy": {"$ref": "common.schema.json#/$defs/strategy"},
        "run_id": {"$ref": "common.schema.json#/$defs/ulid"},
        "count": {"type": "integer", "minimum": 1},
        "when": {"type": "string", "format": "date-time"},
        "items": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["id", "kind"],
                "properties": {
                    "id": {"type": "string"},
                    "kind": {"type": "string", "default": "lint"},
                    "tags": {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
                },
            },
        },
        "command": {
            "oneOf": [
                {"type": "string", "minLength": 1},
                {"type": "array", "items": {"type": "string"}, "minItems": 1},
            ]
        },
    },
}
REGISTRY = SchemaRegistry({"common": COMMON, "thing": THING})


def check(text: str, path: str = "a.thing.yaml") -> tuple[list[tuple[str, str]], list[str]]:
    report = check_text(text, path, registry=REGISTRY)
    return summary(report.parsed.line_index, report.diagnostics), [
        item.message for item in report.diagnostics
    ]


def test_valid_document_has_no_diagnostics() -> None:
    assert check("thing_id: t\nname: n\nx-extra: 1\nstrategy: continue\n") == ([], [])


def test_four_kinds_of_error_on_their_nodes() -> None:
    text = (
        "thing_id: t\n"
        "strategy: fail-fast\n"  # wrong enum -> the value
        "nmae: n\n"  # unknown key -> the key (and name is missing -> first key)
        "items:\n"
        "  - id: a\n"  # missing kind -> the first key of the item
        "count: '3'\n"  # wrong type -> the value
    )
    ranges, messages = check(text)
    assert ranges == [
        ("UET202", "0:0-0:8"),
        ("UET204", "1:10-1:19"),
        ("UET203", "2:0-2:4"),
        ("UET202", "4:4-4:6"),
        ("UET201", "5:7-5:10"),
    ]
    assert messages[0] == "missing required property 'name'"
    assert "did you mean 'fail_fast'?" in messages[1]
    assert "allowed: fail_fast, continue, escalate" in messages[1]
    assert messages[2].startswith("unknown property 'nmae'; did you mean 'name'?")
    assert messages[3] == "missing required property 'kind' in this item"
    assert messages[4] == "'count' must be an integer; found string '3'"


def test_quick_fix_data_is_attached() -> None:
    report = check_text(
        "thing_id: t\nname: n\nstrategy: contnue\nitems:\n  - id: a\n",
        "a.thing.yaml",
        registry=REGISTRY,
    )
    by_code = {item.code: item.data for item in report.diagnostics}
    assert by_code["UET204"]["values"] == ["fail_fast", "continue", "escalate"]
    assert by_code["UET204"]["suggestion"] == "continue"
    # The values to add are chosen by the quick fix itself (``uet.artifacts.fitting``).
    assert by_code["UET202"] == {"missing": ["kind"]}


@pytest.mark.parametrize(
    ("line", "code", "words"),
    [
        ("run_id: 01J2ZCD4JX8P6M9QW3E7K2ABC", "UET205", "must match the pattern"),
        ("count: 0", "UET206", "must be at least 1"),
        ("when: yesterday", "UET208", "valid date-time"),
        ("items: [{id: a, kind: k, tags: [x, x]}]", "UET209", "must not contain duplicates"),
        ("thing_id: ''", "UET206", "at least 1 character"),
    ],
)
def test_value_errors(line: str, code: str, words: str) -> None:
    text = "thing_id: t\nname: n\n" + line + "\n"
    if line.startswith("thing_id"):
        text = "name: n\n" + line + "\n"
    _, messages = check(text)
    report = check_text(text, "a.thing.yaml", registry=REGISTRY)
    assert [item.code for item in report.diagnostics] == [code]
    assert words in messages[0]


def test_one_of_is_resolved_to_the_intended_branch() -> None:
    ranges, messages = check("thing_id: t\nname: n\ncommand: []\n")
    assert ranges == [("UET206", "2:9-2:11")]
    assert messages == ["'command' must be a list of at least 1 item(s); found a list"]


def test_one_of_with_no_plausible_branch_names_the_alternatives() -> None:
    ranges, messages = check("thing_id: t\nname: n\ncommand: 3\n")
    assert ranges == [("UET210", "2:9-2:10")]
    assert messages == ["'command' must be a string or a list; found number 3"]


def test_json_documents_get_the_same_treatment() -> None:
    text = '{\n  "thing_id": "t",\n  "name": 5\n}\n'
    ranges, messages = check(text, "a.thing.json")
    assert ranges == [("UET201", "2:10-2:11")]
    assert messages == ["'name' must be a string; found number 5"]


def test_every_document_of_a_stream_is_validated() -> None:
    ranges, _ = check("thing_id: t\nname: n\n---\nthing_id: u\n")
    assert ranges == [("UET202", "3:0-3:8")]


def test_unassociated_files_get_nothing_even_when_broken() -> None:
    report = check_text("{ not json", "notes/random.json", registry=REGISTRY)
    assert report.schema is None and report.diagnostics == []


def test_syntax_errors_of_artifacts_are_reported_without_schema_noise() -> None:
    ranges, _ = check("thing_id: [\n")
    assert [code for code, _ in ranges] == ["UET101"]
