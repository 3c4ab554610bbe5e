"""Quick fixes as a user meets them: the suggested fix first and preferred, and an unknown
or self dependency removed from ``depends_on`` in every list syntax, leaving a document
that parses and no longer has the problem."""

from __future__ import annotations

import pytest

from uet.artifacts import bundled_registry, check_text
from uet.artifacts.facts import extract_facts
from uet.artifacts.quickfix import QuickFix, TextEdit, quick_fixes

REGISTRY = bundled_registry()


def apply(text: str, edits: tuple[TextEdit, ...]) -> str:
    for edit in sorted(edits, key=lambda item: item.span.start, reverse=True):
        text = text[: edit.span.start] + edit.new_text + text[edit.span.end :]
    return text


def fixes_of(text: str, path: str, code: str) -> list[QuickFix]:
    """The fixes of the first ``code`` diagnostic of ``text`` (schema or workstream facts)."""
    report = check_text(text, path, registry=REGISTRY)
    diagnostics = list(report.diagnostics)
    diagnostics += extract_facts(
        report.path, report.schema, report.parsed.documents
    ).local_diagnostics
    diagnostic = next(item for item in diagnostics if item.code == code)
    return quick_fixes(
        report.parsed,
        diagnostic.code,
        diagnostic.span,
        diagnostic.data,
        schema=report.schema,
        registry=REGISTRY,
    )


def problems(text: str, path: str) -> list[str]:
    report = check_text(text, path, registry=REGISTRY)
    facts = extract_facts(report.path, report.schema, report.parsed.documents)
    return sorted(item.code for item in [*report.diagnostics, *facts.local_diagnostics])


HEAD = "workstream_id: ws\nproject_id: p\nphase_id: PH\nname: n\nobjective: o\n"


def test_the_suggested_enum_value_is_the_first_fix_and_the_only_preferred_one() -> None:
    text = (
        HEAD + "error_handling:\n  strategy: contnue\ntasks:\n  - {task_id: a, name: a, kind: k}\n"
    )
    fixes = fixes_of(text, "workstreams/w.yaml", "UET204")
    assert [fix.title for fix in fixes] == [
        'Replace with "continue"',
        'Replace with "fail_fast"',
        'Replace with "escalate"',
    ]
    assert [fix.preferred for fix in fixes] == [True, False, False]


YAML_TASKS = "tasks:\n  - task_id: a\n    name: a\n    kind: k\n"


@pytest.mark.parametrize(
    ("depends", "expected"),
    [
        # YAML block list: the entry's line goes; the only entry leaves an empty flow list.
        ("    depends_on:\n      - b\n      - nowhere\n", "    depends_on:\n      - b\n"),
        ("    depends_on:\n      - nowhere\n      - b\n", "    depends_on:\n      - b\n"),
        ("    depends_on:\n      - 'nowhere'  # later\n", "    depends_on: []\n"),
        ("    depends_on:\n    - nowhere\n", "    depends_on: []\n"),
        # YAML flow list, with the separator.
        ("    depends_on: [b, nowhere]\n", "    depends_on: [b]\n"),
        ("    depends_on: [nowhere, b]\n", "    depends_on: [b]\n"),
        ('    depends_on: ["nowhere"]\n', "    depends_on: []\n"),
    ],
)
def test_an_unknown_dependency_without_a_match_can_be_removed_in_yaml(
    depends: str, expected: str
) -> None:
    other = "  - task_id: b\n    name: b\n    kind: k\n"
    text = HEAD + YAML_TASKS + depends + other
    (fix,) = fixes_of(text, "workstreams/w.yaml", "UET302")
    assert fix.title == "Remove 'nowhere' from depends_on" and not fix.preferred
    fixed = apply(text, fix.edits)
    assert fixed == HEAD + YAML_TASKS + expected + other
    assert problems(fixed, "workstreams/w.yaml") == []


@pytest.mark.parametrize(
    ("depends", "expected"),
    [
        ('["b", "nowhere"]', '["b"]'),
        ('["nowhere", "b"]', '["b"]'),
        ('["nowhere"]', "[]"),
        ('[\n        "b",\n        "nowhere"\n      ]', '[\n        "b"\n      ]'),
        ('[\n        "nowhere",\n        "b"\n      ]', '[\n        "b"\n      ]'),
    ],
)
def test_an_unknown_dependency_can_be_removed_in_json(depends: str, expected: str) -> None:
    template = (
        '{"workstream_id": "ws", "project_id": "p", "phase_id": "PH", "name": "n",\n'
        ' "objective": "o", "tasks": [\n'
        '    {"task_id": "a", "name": "a", "kind": "k",\n      "depends_on": %s},\n'
        '    {"task_id": "b", "name": "b", "kind": "k"}]}\n'
    )
    text = template % depends
    (fix,) = fixes_of(text, "workstreams/w.json", "UET302")
    fixed = apply(text, fix.edits)
    assert fixed == template % expected
    assert problems(fixed, "workstreams/w.json") == []


def test_a_close_match_comes_first_and_removal_second() -> None:
    text = (
        HEAD + YAML_TASKS + "    depends_on: [lnt]\n  - task_id: lint\n    name: l\n    kind: k\n"
    )
    fixes = fixes_of(text, "workstreams/w.yaml", "UET302")
    assert [(fix.title, fix.preferred) for fix in fixes] == [
        ("Change to 'lint'", True),
        ("Remove 'lnt' from depends_on", False),
    ]


def test_a_self_dependency_is_removed_by_the_preferred_fix() -> None:
    text = HEAD + YAML_TASKS + "    depends_on:\n      - a\n"
    (fix,) = fixes_of(text, "workstreams/w.yaml", "UET307")
    assert fix.preferred and fix.title == "Remove 'a' from depends_on"
    fixed = apply(text, fix.edits)
    assert fixed.endswith("    kind: k\n    depends_on: []\n")
    assert problems(fixed, "workstreams/w.yaml") == []
