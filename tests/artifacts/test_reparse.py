"""Incremental reparsing gives exactly what a full parse gives, or declines.

The property: for any text, any edit, whenever ``reparse`` answers, its documents equal
those of parsing the new text from scratch — every value (with its type), every node span
and every key span — and the full parse has no problems either.
"""

from __future__ import annotations

import json
import math
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from uet.artifacts.guards import MAX_DEPTH
from uet.artifacts.loader import ParsedFile, load_text
from uet.artifacts.reparse import reparse
from uet.artifacts.tree import Node, NodeKind


def shape(node: Node | None) -> Any:
    """Everything a node holds, spans included, as plain comparable data."""
    if node is None:
        return None
    if node.kind is NodeKind.SCALAR:
        return ("scalar", tuple(node.span), type(node.value).__name__, _plain(node.value))
    if node.kind is NodeKind.ARRAY:
        return ("array", tuple(node.span), _plain(node.value), [shape(item) for item in node.items])
    members = [(m.key, tuple(m.key_span), shape(m.value)) for m in node.members]
    return ("object", tuple(node.span), _plain(node.value), members)


def _plain(value: Any) -> Any:
    """The value with types made explicit (1 and True and 1.0 must not compare equal)."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, float) and math.isnan(value):
        return ("nan",)
    return (type(value).__name__, value)


def documents(parsed: ParsedFile) -> Any:
    return [(tuple(doc.span), shape(doc.root)) for doc in parsed.documents]


def assert_same_as_full_parse(previous: ParsedFile, text: str) -> bool:
    """Check the property for one edit; True when the fast path answered."""
    patched = reparse(previous, text)
    if patched is None:
        return False
    full = load_text(text, previous.path, previous.language)
    assert not full.problems, (text, full.problems)
    assert patched.text == text
    assert documents(patched) == documents(full), text
    return True


WORKSTREAM_YAML = """\
workstream_id: WS-1  # a comment
project_id: PRJ-1
phase_id: PH-1
name: Sample workstream
objective: "Quoted text"
error_handling: {strategy: fail_fast, max_retries: 2}
tasks:
  - task_id: task-1
    name: First task
    kind: lint
    tags: [a, b, 12]
    execution:
      timeout_seconds: 60
      enabled: true
      ratio: 0.5
  - task_id: task-2
    name: >
      folded text
    kind: test
    depends_on:
      - task-1
    note:
      continued plain
      scalar here
---
second: document
list:
- -5
- x y z
"""

values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-1000, 1000)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(alphabet="abc -_:#,'\"!&*01.", max_size=8),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(alphabet="abkey_", min_size=1, max_size=5), children, max_size=4)
    ),
    max_leaves=12,
)
edit_text = st.text(alphabet="abz019 -_:#,[]{}'\"!&*.\n\t~\u2028", max_size=4)


def _apply(text: str, data: st.DataObject) -> str:
    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, min(len(text), start + 3)))
    return text[:start] + data.draw(edit_text) + text[end:]


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_edits_of_a_workstream(data: st.DataObject) -> None:
    previous = load_text(WORKSTREAM_YAML, "ws.yaml")
    assert not previous.problems
    text = WORKSTREAM_YAML
    for _ in range(data.draw(st.integers(1, 3))):  # successive edits, each from the last parse
        text = _apply(text, data)
        patched = reparse(previous, text)
        if patched is None:
            previous = load_text(text, "ws.yaml")
            if previous.problems:
                return
            continue
        assert_same_as_full_parse(previous, text)
        previous = patched


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values, st.sampled_from(["json", "yaml-block", "yaml-flow"]), st.data())
def test_edits_of_generated_documents(value: Any, style: str, data: st.DataObject) -> None:
    if style == "json":
        text, language = json.dumps(value, indent=data.draw(st.sampled_from([None, 2]))), "json"
    else:
        text = yaml.safe_dump(value, default_flow_style=style == "yaml-flow", allow_unicode=True)
        language = "yaml"
    previous = load_text(text, f"doc.{language}", language)  # type: ignore[arg-type]
    if previous.problems:
        return
    assert_same_as_full_parse(previous, _apply(text, data))


def test_typing_inside_values_takes_the_fast_path() -> None:
    previous = load_text(WORKSTREAM_YAML, "ws.yaml")
    edits = [
        ("kind: lint", "kind: lin"),
        ("kind: lint", "kind: linting"),
        ("timeout_seconds: 60", "timeout_seconds: 600"),
        ("name: First task", "name: First big task"),
        ("strategy: fail_fast", "strategy: fail_fst"),
        ("- -5", "- -57"),
        ("enabled: true", "enabled: tru"),
    ]
    for old, new in edits:
        assert assert_same_as_full_parse(previous, WORKSTREAM_YAML.replace(old, new, 1)), new
    as_json = load_text(json.dumps({"a": ["x", 1, True], "b": {"c": "d"}}, indent=2), "f.json")
    for old, new in [('"x"', '"xy"'), ("1,", "12,"), ('"d"', '"e f"')]:
        assert assert_same_as_full_parse(as_json, as_json.text.replace(old, new, 1)), new


def test_structural_edits_decline() -> None:
    previous = load_text(WORKSTREAM_YAML, "ws.yaml")
    for old, new in [
        ("kind: lint", "kind: lint: x"),  # a nested key
        ("kind: lint", "kind: lint # c"),  # a comment
        ("kind: lint", "kind: [lint]"),  # flow
        ("kind: lint", "knd: lint"),  # a key
        ("kind: lint", "kind: 'lint'"),  # quoting
        ("kind: lint", "kind: "),  # emptied: null
        ("name: First task", "name: First\n task"),  # a line break
        ('objective: "Quoted text"', 'objective: "Quoted tex"'),  # quoted YAML
    ]:
        assert reparse(previous, WORKSTREAM_YAML.replace(old, new, 1)) is None, new
    tagged = load_text("a: !!str 12\nb: c\n", "t.yaml")
    assert reparse(tagged, "a: !!str 123\nb: c\n") is None
    anchored = load_text("a: &x b\nc: *x\n", "t.yaml")
    assert reparse(anchored, "a: &x bb\nc: *x\n") is None


def test_unchanged_text_is_the_previous_parse() -> None:
    previous = load_text(WORKSTREAM_YAML, "ws.yaml")
    assert reparse(previous, WORKSTREAM_YAML) is previous


def test_a_tree_too_deep_to_move_recursively_is_parsed_whole() -> None:
    """Moving the nodes after an edit recurses; nesting at the parsers' depth limit
    either patches correctly or declines (the caller parses the whole text)."""
    depth = MAX_DEPTH - 1
    deep = "[" * depth + "1" + "]" * depth
    previous = load_text(f"a: x\nb: {deep}\n", "deep.yaml")
    assert not previous.problems
    text = f"a: xy\nb: {deep}\n"
    patched = reparse(previous, text)
    assert patched is None or documents(patched) == documents(load_text(text, "deep.yaml"))
