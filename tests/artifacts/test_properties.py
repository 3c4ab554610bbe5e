"""Property tests: whatever the input, loading and checking return diagnostics, never raise."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from uet.artifacts import LineIndex, SchemaRegistry, check_text, load_bytes, load_text

PREFIX = "https://uet.invalid/schemas/v1/"
REGISTRY = SchemaRegistry(
    {
        "common": {"$id": f"{PREFIX}common.schema.json", "$defs": {"id": {"type": "string"}}},
        "thing": {
            "$id": f"{PREFIX}thing.schema.json",
            "type": "object",
            "additionalProperties": False,
            "required": ["id"],
            "properties": {
                "id": {"$ref": "common.schema.json#/$defs/id"},
                "n": {"type": "integer", "minimum": 0},
                "mode": {"enum": ["a", "b"]},
                "cmd": {
                    "oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]
                },
                "items": {"type": "array", "items": {"$ref": "#"}},
            },
        },
    }
)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(
            st.sampled_from(["id", "n", "mode", "cmd", "items", "x"]) | st.text(max_size=5),
            children,
            max_size=5,
        )
    ),
    max_leaves=30,
)


def _spans_are_inside(text: str, report_spans: list[tuple[int, int]]) -> None:
    index = LineIndex(text)
    for start, end in report_spans:
        assert 0 <= start <= end <= len(text)
        index.utf16_position(start)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.text(max_size=300), st.sampled_from(["a.thing.json", "a.thing.yaml"]))
def test_arbitrary_text_never_raises(text: str, path: str) -> None:
    report = check_text(text, path, registry=REGISTRY)
    _spans_are_inside(report.parsed.text, [(d.span.start, d.span.end) for d in report.diagnostics])


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_never_raise(data: bytes) -> None:
    for path in ("a.json", "a.yaml"):
        parsed = load_bytes(data, path, max_bytes=200)
        assert parsed.problems or parsed.text is not None


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(json_values)
def test_arbitrary_json_values_round_trip_and_validate(value: Any) -> None:
    text = json.dumps(value, indent=1)
    parsed = load_text(text, "a.thing.json")
    assert parsed.problems == []
    assert parsed.value == value
    report = check_text(text, "a.thing.json", registry=REGISTRY)
    _spans_are_inside(text, [(d.span.start, d.span.end) for d in report.diagnostics])
    yaml_text = json.dumps(value)  # JSON is (almost) YAML: exercise the YAML path too
    check_text(yaml_text, "a.thing.yaml", registry=REGISTRY)
