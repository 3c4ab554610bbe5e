"""The domain helpers behind the editing features, without a server: cursor contexts,
schema navigation, completion, hover, quick fixes, outline, rename, settings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from uet.artifacts import bundled_registry, check_text, load_text
from uet.artifacts.cursor import cursor_context
from uet.artifacts.editing import Completion, complete, hover, id_kind_at, render_scalar
from uet.artifacts.facts import extract_facts
from uet.artifacts.index import WorkspaceIndex
from uet.artifacts.navigation import definitions, references, rename_edits, target_at
from uet.artifacts.outline import document_outline, folding_ranges
from uet.artifacts.quickfix import TextEdit, quick_fixes
from uet.artifacts.schema_nav import property_schemas, schemas_at, summarize
from uet.settings import (
    Settings,
    configuration_contributions,
    configuration_markdown,
    parse_settings,
)

REGISTRY = bundled_registry()
DOCS = Path(__file__).resolve().parents[2] / "docs"


def split(marked: str) -> tuple[str, int]:
    """Text and cursor offset from a text with one ``|``."""
    return marked.replace("|", "", 1), marked.index("|")


@pytest.mark.parametrize(
    ("marked", "language", "path", "position", "prefix"),
    [
        ("name: a\nna|\n", "yaml", (), "key", "na"),
        ("tasks:\n  - task_id: x\n    |\n", "yaml", ("tasks", 0), "key", ""),
        ("tasks:\n  - task_id: a\n  - task_id: b\n    na|", "yaml", ("tasks", 1), "key", "na"),
        (
            "tasks:\n- task_id: x\n  depends_on:\n    - |\n",
            "yaml",
            ("tasks", 0, "depends_on", 0),
            "item",
            "",
        ),
        ("tasks:\n  - depends_on: [a, |]\n", "yaml", ("tasks", 0, "depends_on", 1), "value", ""),
        (
            "error_handling:\n  strategy: fa|\n",
            "yaml",
            ("error_handling", "strategy"),
            "value",
            "fa",
        ),
        (
            '{"tasks": [{"a": 1}, {"depends_on": ["|"]}]}',
            "json",
            ("tasks", 1, "depends_on", 0),
            "value",
            "",
        ),
        ('{"a": 1, "|', "json", (), "key", ""),
        ('{"e": {"strategy": f|', "json", ("e", "strategy"), "value", "f"),
    ],
)
def test_cursor_context(
    marked: str, language: str, path: tuple[Any, ...], position: str, prefix: str
) -> None:
    text, offset = split(marked)
    context = cursor_context(text, offset, language)
    assert (context.path, context.position, context.prefix) == (path, position, prefix)


def test_schema_navigation_follows_refs_and_merges_descriptions() -> None:
    nodes = schemas_at(REGISTRY, "workstream_spec", ["error_handling", "strategy"])
    summary = summarize(nodes)
    assert summary.description == "Reaction to a failed task."  # beside the $ref, not the def
    assert summary.enum == ("fail_fast", "continue", "escalate")
    assert len(summary.enum_descriptions) == 3 and summary.default == "fail_fast"
    task_keys = property_schemas(schemas_at(REGISTRY, "workstream_spec", ["tasks", 0]), REGISTRY)
    assert {"task_id", "depends_on", "tool"} <= set(task_keys)
    assert schemas_at(REGISTRY, "no_such_schema", []) == []


def test_completion_candidates() -> None:
    text, offset = split("workstream_id: a\ntasks:\n  - task_id: x\n    |\n")
    labels = {
        item.label
        for item in complete(load_text(text, "w.yaml"), offset, "workstream_spec", REGISTRY)
    }
    assert "depends_on" in labels and "task_id" not in labels
    text, offset = split('{"tasks": [{"task_id": "a", "depends_on": ["|"]}]}')
    items = complete(
        load_text(text, "w.json"),
        offset,
        "workstream_spec",
        REGISTRY,
        ids=lambda kind: [f"{kind}-1"],
    )
    assert [(item.label, item.insert_text) for item in items] == [("task-1", '"task-1"')]
    assert id_kind_at("workstream_spec", ("tasks", 3, "tool")) == "app"


def candidates(marked: str, path: str, schema: str) -> dict[str, Completion]:
    """Completions at the ``|`` of ``marked``, by label."""
    text, offset = split(marked)
    return {item.label: item for item in complete(load_text(text, path), offset, schema, REGISTRY)}


def test_key_completions_carry_snippets() -> None:
    """Snippets give the value's skeleton: an enum as a choice, a default as a
    placeholder, lists and objects on the next line (YAML) or in brackets (JSON)."""
    items = candidates("workstream_id: a\n|\n", "w.yaml", "workstream_spec")
    assert items["tasks"].snippet == "tasks:\n  - $0"
    assert items["error_handling"].snippet == "error_handling:\n  $0"
    assert items["name"].snippet == "name: $0"
    assert items["name"].insert_text == "name: "
    items = candidates("error_handling:\n  |\n", "w.yaml", "workstream_spec")
    assert items["strategy"].snippet == "strategy: ${1|fail_fast,continue,escalate|}"
    items = candidates(
        "tasks:\n  - task_id: a\n    execution:\n      |\n", "w.yaml", "workstream_spec"
    )
    assert items["background"].snippet == "background: ${1:false}"  # the default
    items = candidates("|\n", "r.yaml", "bootstrap_report")
    assert items["ready_for_workstreams"].snippet == "ready_for_workstreams: ${1|true,false|}"
    items = candidates('{"workstream_id": "a", |}', "w.json", "workstream_spec")
    assert items["tasks"].snippet == '"tasks": [$0]'
    assert items["name"].snippet == '"name": "$0"'


def test_hover_text() -> None:
    parsed = load_text("error_handling:\n  strategy: continue\n", "w.yaml")
    info = hover(parsed, 30, "workstream_spec", REGISTRY)
    assert info is not None and info.path == ("error_handling", "strategy")
    assert "*(current)*" in info.markdown and "Reaction to a failed task." in info.markdown


@pytest.mark.parametrize(
    ("value", "language", "expected"),
    [
        ("lint", "yaml", "lint"),
        ("yes", "yaml", '"yes"'),
        ("1.5", "yaml", '"1.5"'),
        ("a", "json", '"a"'),
        (3, "yaml", "3"),
    ],
)
def test_render_scalar(value: Any, language: str, expected: str) -> None:
    assert render_scalar(value, language) == expected


def apply(text: str, edits: tuple[TextEdit, ...]) -> str:
    for edit in sorted(edits, key=lambda item: -item.span.start):
        text = text[: edit.span.start] + edit.new_text + text[edit.span.end :]
    return text


WORKSTREAM = """workstream_id: ws
project_id: p
phase_id: PH
objective: o
tasks:
  - task_id: a
    nme: x
    kind: lint
error_handling:
  strategy: fail_fst
"""


def test_quick_fixes_yaml() -> None:
    report = check_text(WORKSTREAM, "workstreams/a.yaml", registry=REGISTRY)
    fixed: dict[str, list[str]] = {}
    for diagnostic in report.diagnostics:
        for fix in quick_fixes(
            report.parsed,
            diagnostic.code,
            diagnostic.span,
            diagnostic.data,
            schema=report.schema,
            registry=REGISTRY,
        ):
            fixed.setdefault(fix.title, []).append(apply(WORKSTREAM, fix.edits))
    # ``name`` has a minLength of 1: the placeholder is not an empty string.
    root_fix, task_fix = fixed["Add missing property 'name'"]
    assert root_fix.endswith("  strategy: fail_fst\nname: name\n")
    assert "    kind: lint\n    name: name\nerror_handling:" in task_fix
    assert "    name: x\n" in fixed["Rename 'nme' to 'name'"][0]
    assert "nme" not in fixed["Remove property 'nme'"][0]
    assert "strategy: fail_fast" in fixed['Replace with "fail_fast"'][0]


def test_quick_fixes_json_keep_quotes_and_commas() -> None:
    tasks = '"tasks": [{"task_id": "a", "name": "n", "kind": "k", "bogus": 1}]'
    text = '{\n  "workstream_id": "ws",\n  ' + tasks + "\n}\n"
    report = check_text(text, "workstreams/a.json", registry=REGISTRY)
    results = {
        fix.title: apply(text, fix.edits)
        for diagnostic in report.diagnostics
        for fix in quick_fixes(
            report.parsed,
            diagnostic.code,
            diagnostic.span,
            diagnostic.data,
            schema=report.schema,
            registry=REGISTRY,
        )
    }
    assert '"kind": "k"}]' in results["Remove property 'bogus'"]
    added = next(value for title, value in results.items() if title.startswith("Add missing"))
    members = {"project_id": "project_id", "phase_id": "PH-CORE-01", "name": "name"}
    members["objective"] = ""  # no minLength: an empty string fits
    inserted = "".join(f',\n  "{name}": "{value}"' for name, value in members.items())
    assert added.endswith(tasks + inserted + "\n}\n")


def test_outline_and_folds() -> None:
    report = check_text(WORKSTREAM, "workstreams/a.yaml", registry=REGISTRY)
    facts = extract_facts(report.path, report.schema, report.parsed.documents)
    items, truncated = document_outline(report.parsed, facts)
    assert [
        (item.kind, [child.id if hasattr(child, "id") else child.name for child in item.children])
        for item in items
    ] == [("workstream", ["a"])]
    assert not truncated
    folds, _ = folding_ranges(report.parsed)
    assert [(fold.start, fold.end) for fold in folds] == [(0, 9), (4, 7), (5, 7), (8, 9)]
    _, truncated = document_outline(report.parsed, facts, limit=0)
    assert truncated


def test_rename_edits_keep_the_style_of_each_file() -> None:
    index = WorkspaceIndex()
    index.update(check_text("phase_id: PH-A\nname: A\n", "phases/a.yaml", registry=REGISTRY))
    index.update(
        check_text(
            '{"workstream_id": "w", "phase_id": "PH-A"}', "workstreams/w.json", registry=REGISTRY
        )
    )
    target = target_at(index, "phases/a.yaml", 11)
    assert target is not None and target.id == "PH-A"
    edits, problem = rename_edits(index, REGISTRY, target, "PH-B")
    assert problem is None
    assert {path: [edit.new_text for edit in items] for path, items in edits.items()} == {
        "phases/a.yaml": ["PH-B"],
        "workstreams/w.json": ['"PH-B"'],
    }
    assert rename_edits(index, REGISTRY, target, "bad id")[1] is not None


def test_rename_refuses_an_id_that_exists_or_that_the_schema_rejects() -> None:
    index = WorkspaceIndex(known_profiles=["python-lib"])
    index.update(check_text("phase_id: PH-A\nname: A\n", "phases/a.yaml", registry=REGISTRY))
    index.update(check_text("phase_id: PH-B\nname: B\n", "phases/b.yaml", registry=REGISTRY))
    text = "workstream_id: w\nphase_id: PH-A\ntasks:\n  - task_id: a\n  - task_id: b\n"
    index.update(check_text(text, "workstreams/w.yaml", registry=REGISTRY))
    phase = target_at(index, "phases/a.yaml", 11)
    assert phase is not None
    edits, problem = rename_edits(index, REGISTRY, phase, "PH-B")
    assert edits == {} and problem is not None
    assert "phase id 'PH-B' already exists (in phases/b.yaml)" in problem
    task = target_at(index, "workstreams/w.yaml", text.index("task_id: a") + 9)
    assert task is not None and task.id == "a"
    edits, problem = rename_edits(index, REGISTRY, task, "b")
    assert edits == {} and problem is not None and "task id 'b' already exists" in problem
    # The schema's own pattern decides what an id may be.
    edits, problem = rename_edits(index, REGISTRY, task, "-a")
    assert edits == {} and problem is not None
    assert problem.startswith("'-a' is not a valid id for this task: ") and "match" in problem
    assert rename_edits(index, REGISTRY, task, "c") == (
        {"workstreams/w.yaml": [TextEdit(task.item.span, "c")]},
        None,
    )


def test_task_ids_are_scoped_to_their_workstream_file() -> None:
    """Two files sharing a workstream_id (UET301) are still two workstreams for navigation."""
    index = WorkspaceIndex()
    text = "workstream_id: w\ntasks:\n  - task_id: a\n  - task_id: b\n    depends_on: [a]\n"
    for name in ("one", "two"):
        index.update(check_text(text, f"workstreams/{name}.yaml", registry=REGISTRY))
    use = target_at(index, "workstreams/one.yaml", text.index("[a]") + 1)
    assert use is not None
    start = text.index("task_id: a") + 9
    assert [(item.path, item.item.span.start) for item in definitions(index, use)] == [
        ("workstreams/one.yaml", start)
    ]
    assert {item.path for item in references(index, use)} == {"workstreams/one.yaml"}
    edits, problem = rename_edits(index, REGISTRY, use, "first")
    assert problem is None and set(edits) == {"workstreams/one.yaml"}
    assert index.ids("task", "workstreams/two.yaml") == ["a", "b"]


def test_settings_parse_and_fall_back() -> None:
    settings, messages = parse_settings(
        {"uet": {"schemas": {"workstream_spec": "plans/*.yaml"}, "debounce": -1, "nope": 1}}
    )
    assert settings.schemas == {"workstream_spec": ("plans/*.yaml",)}
    assert settings.debounce == Settings().debounce
    assert len(messages) == 2
    assert parse_settings(None) == (Settings(), [])
    assert parse_settings([1])[0] == Settings()
    assert set(configuration_contributions()) >= {
        "uet.schemas",
        "uet.maxFileSize",
        "uet.logLevel",
        "uet.exclude",
        "uet.trustedWorkspace",
        "uet.debounce",
    }


def test_configuration_doc_is_generated_from_the_model() -> None:
    assert (DOCS / "configuration.md").read_text(encoding="utf-8") == configuration_markdown()
