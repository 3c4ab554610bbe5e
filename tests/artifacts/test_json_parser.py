"""The positional JSON parser: values, ranges, and one precise range per syntax error."""

from __future__ import annotations

import json

import pytest

from uet.artifacts import LineIndex
from uet.artifacts.json_parser import MAX_DEPTH, parse_json
from uet.artifacts.tree import NodeKind

from .support import span_text, summary


def test_values_match_the_standard_library() -> None:
    text = '{"a": [1, 2.5, -3e2, true, false, null], "b": {"c": "\\u00e9\\n"}, "d": ""}'
    result = parse_json(text)
    assert result.problems == []
    assert result.document is not None and result.document.root is not None
    assert result.document.root.value == json.loads(text)


def test_every_key_and_value_knows_its_range() -> None:
    text = '{\n  "tasks": [\n    {"task_id": "a", "kind": "lint"}\n  ]\n}'
    result = parse_json(text)
    assert result.document is not None
    index = LineIndex(text)
    node, member = result.document.resolve(["tasks", 0, "kind"])
    assert node is not None and member is not None
    assert span_text(index, member.key_span) == "2:21-2:27"
    assert span_text(index, node.span) == "2:29-2:35"
    tasks, _ = result.document.resolve(["tasks"])
    assert tasks is not None and tasks.kind is NodeKind.ARRAY
    assert span_text(index, tasks.span) == "1:11-3:3"


@pytest.mark.parametrize(
    ("text", "code", "where", "words"),
    [
        ('{"a": 1,}', "UET101", "0:8-0:9", "no trailing commas"),
        ("[1, 2", "UET101", "0:0-0:1", "never closed"),
        ('{"a" 1}', "UET101", "0:5-0:6", "':' after the property name 'a'"),
        ("{'a': 1}", "UET101", "0:1-0:2", "double quotes"),
        ('{"a": tru}', "UET101", "0:6-0:9", "'tru'"),
        ('{"a": [}', "UET101", "0:7-0:8", "expected ']'"),
        ('{"a": "x\\qy"}', "UET101", "0:8-0:10", "escape"),
        ('{"a": "abc\n}', "UET101", "0:6-0:10", "unterminated string"),
        ('{"a": "\t"}', "UET101", "0:7-0:8", "control character"),
        ('{"a": 1} x', "UET101", "0:9-0:10", "after the end"),
        ('{"a": 1}\n\n{"b": 2}', "UET101", "2:0-2:1", "after the end"),
    ],
)
def test_syntax_errors_have_one_precise_range(text: str, code: str, where: str, words: str) -> None:
    result = parse_json(text)
    assert result.document is None
    assert summary(LineIndex(text), result.problems) == [(code, where)]
    assert words in result.problems[0].message


def test_duplicate_keys_are_reported_on_the_second_key_and_last_wins() -> None:
    text = '{"a": 1, "b": {"x": 1}, "a": {"y": 2}}'
    result = parse_json(text, "f.json")
    assert result.document is not None and result.document.root is not None
    assert result.document.root.value == {"a": {"y": 2}, "b": {"x": 1}}
    assert summary(LineIndex(text), result.problems) == [("UET102", "0:24-0:27")]
    assert result.problems[0].related[0].span.start == 1


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_numbers_are_diagnosed_but_parsing_goes_on(token: str) -> None:
    result = parse_json(f'{{"a": {token}, "b": 1}}')
    assert [problem.code for problem in result.problems] == ["UET107"]
    assert result.document is not None and result.document.root is not None
    assert result.document.root.value["b"] == 1


def test_deep_nesting_is_refused_without_recursion() -> None:
    text = "[" * 10_000 + "]" * 10_000
    result = parse_json(text)
    assert result.document is None
    assert [problem.code for problem in result.problems] == ["UET105"]
    assert result.problems[0].span.start == MAX_DEPTH


def test_nesting_up_to_the_limit_parses() -> None:
    text = "[" * MAX_DEPTH + "]" * MAX_DEPTH
    assert parse_json(text).problems == []


def test_empty_and_whitespace_files_have_no_document_and_no_problem() -> None:
    for text in ("", "  \n\t"):
        result = parse_json(text)
        assert result.document is None and result.problems == []


def test_byte_order_mark_is_whitespace() -> None:
    result = parse_json('\ufeff{"a": 1}')
    assert result.problems == [] and result.document is not None
