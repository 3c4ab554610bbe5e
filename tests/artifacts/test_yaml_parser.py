"""YAML to positional trees: 1.2 scalars, multi-document streams, hostile input."""

from __future__ import annotations

import pytest

from uet.artifacts import LineIndex
from uet.artifacts.yaml_parser import MAX_DEPTH, MAX_EXPANDED_NODES, parse_yaml

from .support import span_text, summary


def values(text: str) -> list[object]:
    result = parse_yaml(text)
    return [document.root.value if document.root else None for document in result.documents]


def test_scalars_follow_yaml_1_2_core_schema() -> None:
    text = (
        "a: no\nb: on\nc: 2024-01-01\nd: 0x1f\ne: 1.5\nf: ~\ng: true\nh: '1'\ni: 012\n"
        'j: -3\nk: null\nl:\nm: "true"\n'
    )
    assert values(text) == [
        {
            "a": "no",
            "b": "on",
            "c": "2024-01-01",
            "d": 31,
            "e": 1.5,
            "f": None,
            "g": True,
            "h": "1",
            "i": 12,
            "j": -3,
            "k": None,
            "l": None,
            "m": "true",
        }
    ]


def test_comments_and_block_scalars() -> None:
    text = "# a comment\nname: x  # trailing\nbody: |\n  line 1\n  line 2\n"
    assert values(text) == [{"name": "x", "body": "line 1\nline 2\n"}]


def test_ranges_of_keys_and_values() -> None:
    text = "tasks:\n  - task_id: a\n    kind: lint\n"
    result = parse_yaml(text)
    index = LineIndex(text)
    node, member = result.documents[0].resolve(["tasks", 0, "kind"])
    assert node is not None and member is not None
    assert span_text(index, member.key_span) == "2:4-2:8"
    assert span_text(index, node.span) == "2:10-2:14"


def test_multi_document_streams_keep_every_document() -> None:
    text = "doc_id: D-1\n---\nphase_id: P\n---\n- 1\n"
    assert values(text) == [{"doc_id": "D-1"}, {"phase_id": "P"}, [1]]
    result = parse_yaml(text)
    assert [document.span.start for document in result.documents] == [0, 16, 32]


def test_duplicate_keys_point_at_the_repeat() -> None:
    text = "a: 1\nb: 2\na: 3\n"
    result = parse_yaml(text, "f.yaml")
    assert values(text) == [{"a": 3, "b": 2}]
    assert summary(LineIndex(text), result.problems) == [("UET102", "2:0-2:1")]


def test_aliases_and_merge_keys() -> None:
    text = "base: &b {k: 1, j: 2}\nuse:\n  <<: *b\n  j: 3\nagain: *b\n"
    assert values(text) == [
        {"base": {"k": 1, "j": 2}, "use": {"j": 3, "k": 1}, "again": {"k": 1, "j": 2}}
    ]


@pytest.mark.parametrize(
    ("text", "code", "where", "words"),
    [
        ("a: [1, 2\n", "UET101", "0:3-0:6", "expected ',' or ']'"),
        ("a: b: c\n", "UET101", "0:4-0:5", "mapping values are not allowed"),
        ("a:\n\tb: 1\n", "UET101", "1:0-1:1", "tab characters"),
        ("a: 'abc\n", "UET101", "0:3-0:7", "quoted scalar"),
        ("a: !Ref x\n", "UET110", "0:3-0:9", "custom tag"),
        ("a: .inf\n", "UET107", "0:3-0:7", "cannot be represented in JSON"),
        ("? [a]\n: 1\n", "UET110", "0:2-0:5", "complex mapping keys"),
    ],
)
def test_problems_have_precise_ranges(text: str, code: str, where: str, words: str) -> None:
    result = parse_yaml(text)
    assert summary(LineIndex(text), result.problems) == [(code, where)]
    assert words in result.problems[0].message


def test_alias_bomb_is_refused_quickly() -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    previous = "a"
    for name in "bcdefghi":
        lines.append(f"{name}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]")
        previous = name
    result = parse_yaml("\n".join(lines) + "\n")
    assert result.documents == []
    assert [problem.code for problem in result.problems] == ["UET106"]
    assert f"{MAX_EXPANDED_NODES:,}" in result.problems[0].message


@pytest.mark.parametrize("opener", ["[", "{a: "])
def test_deep_flow_nesting_is_refused_with_one_diagnostic(opener: str) -> None:
    text = opener * 10_000
    result = parse_yaml(text)
    assert result.documents == []
    assert [problem.code for problem in result.problems] == ["UET105"]


def test_nesting_below_the_limit_parses() -> None:
    depth = MAX_DEPTH - 1
    assert values("[" * depth + "]" * depth) != []


def test_deep_brackets_inside_strings_do_not_count() -> None:
    text = "a: '" + "[" * 1000 + "'\n"
    assert values(text) == [{"a": "[" * 1000}]


def test_empty_stream_has_no_document() -> None:
    assert values("") == []
    assert values("# only a comment\n") == []
