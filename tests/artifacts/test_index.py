"""Cross-artifact checks and the incremental workspace index."""

from __future__ import annotations

from uet.artifacts import SchemaRegistry, check_text
from uet.artifacts.index import WorkspaceIndex

from .support import summary

PREFIX = "https://uet.invalid/schemas/v1/"
NAMES = ("workstream_spec", "phase_spec", "router_config", "profile_extension", "project_profile")
REGISTRY = SchemaRegistry({name: {"$id": f"{PREFIX}{name}.schema.json"} for name in NAMES})

WORKSTREAM = """workstream_id: ws-build
phase_id: PH-BUILD
tasks:
  - task_id: lint
    tool: ruff
  - task_id: test
    depends_on: [lint]
    tool: pytest
"""
PHASE = "phase_id: PH-BUILD\nname: Build\n"
ROUTER = (
    '{"apps": {"ruff": {}, "pytest": {}}, '
    '"routing": {"rules": [{"select_from": ["ruff", "mypy"]}]}}'
)


def add(index: WorkspaceIndex, path: str, text: str) -> set[str]:
    return index.update(check_text(text, path, registry=REGISTRY))


def codes(index: WorkspaceIndex, path: str) -> list[tuple[str, str]]:
    report = index.report(path)
    assert report is not None
    return summary(report.parsed.line_index, index.diagnostics(path))


def test_clean_workspace() -> None:
    index = WorkspaceIndex(["generic"])
    add(index, "workstreams/build.yaml", WORKSTREAM)
    add(index, "phases/build.yaml", PHASE)
    add(index, "router_config.json", ROUTER.replace(', "mypy"', ""))
    assert [codes(index, path) for path in index.paths()] == [[], [], []]


def test_unknown_phase_appears_and_disappears_when_the_other_file_changes() -> None:
    index = WorkspaceIndex()
    add(index, "workstreams/build.yaml", WORKSTREAM)
    assert codes(index, "workstreams/build.yaml") == []  # no phases in the workspace: unchecked
    affected = add(index, "phases/build.yaml", PHASE.replace("PH-BUILD", "PH-BILD"))
    assert affected == {"phases/build.yaml", "workstreams/build.yaml"}
    assert codes(index, "workstreams/build.yaml") == [("UET304", "1:10-1:18")]
    message = index.diagnostics("workstreams/build.yaml")[0].message
    assert (
        message
        == "phase_id names unknown phase 'PH-BUILD'; did you mean 'PH-BILD'? (known: PH-BILD)"
    )
    affected = add(index, "phases/build.yaml", PHASE)
    assert "workstreams/build.yaml" in affected
    assert codes(index, "workstreams/build.yaml") == []
    index.remove("phases/build.yaml")
    assert codes(index, "workstreams/build.yaml") == []


def test_task_tools_must_be_router_apps_and_rules_must_name_apps() -> None:
    index = WorkspaceIndex()
    add(index, "router_config.json", ROUTER)
    add(index, "workstreams/build.yaml", WORKSTREAM.replace("tool: pytest", "tool: pytets"))
    assert codes(index, "workstreams/build.yaml") == [("UET305", "7:10-7:16")]
    assert "did you mean 'pytest'?" in index.diagnostics("workstreams/build.yaml")[0].message
    assert codes(index, "router_config.json") == [("UET305", "0:84-0:90")]


def test_editing_tasks_does_not_fan_out() -> None:
    index = WorkspaceIndex()
    add(index, "phases/build.yaml", PHASE)
    add(index, "workstreams/other.yaml", WORKSTREAM.replace("ws-build", "ws-other"))
    affected = add(index, "workstreams/build.yaml", WORKSTREAM)
    assert affected == {"workstreams/build.yaml"}
    affected = add(index, "workstreams/build.yaml", WORKSTREAM.replace("[lint]", "[lnt]"))
    assert affected == {"workstreams/build.yaml"}
    assert codes(index, "workstreams/build.yaml") == [("UET302", "6:17-6:20")]


def test_duplicate_ids_across_files_are_reported_in_each_file() -> None:
    index = WorkspaceIndex()
    add(index, "workstreams/a.yaml", WORKSTREAM)
    affected = add(index, "workstreams/b.yaml", WORKSTREAM)
    assert affected == {"workstreams/a.yaml", "workstreams/b.yaml"}
    assert codes(index, "workstreams/a.yaml") == [("UET301", "0:15-0:23")]
    assert codes(index, "workstreams/b.yaml") == [("UET301", "0:15-0:23")]
    related = index.diagnostics("workstreams/a.yaml")[0].related
    assert [item.path for item in related] == ["workstreams/b.yaml"]
    affected = index.remove("workstreams/b.yaml")
    assert "workstreams/a.yaml" in affected
    assert codes(index, "workstreams/a.yaml") == []


def test_profiles_must_exist() -> None:
    index = WorkspaceIndex(["generic", "software-dev-python"])
    add(index, "PROJECT_PROFILE.yaml", "profile_id: sofware-dev-python\n")
    assert codes(index, "PROJECT_PROFILE.yaml") == [("UET306", "0:12-0:30")]
    add(
        index,
        "profile_extension.yaml",
        "profile_id: sofware-dev-python\nextends_profile: generic\n",
    )
    assert codes(index, "PROJECT_PROFILE.yaml") == []


def test_a_cycle_is_reported_once_on_its_first_entry_with_the_others_related() -> None:
    index = WorkspaceIndex()
    text = (
        "workstream_id: w\ntasks:\n"
        "  - task_id: a\n    depends_on: [b]\n"
        "  - task_id: b\n    depends_on: [c]\n"
        "  - task_id: c\n    depends_on: [a]\n"
    )
    add(index, "workstreams/w.yaml", text)
    assert codes(index, "workstreams/w.yaml") == [("UET303", "3:17-3:18")]
    [cycle] = index.diagnostics("workstreams/w.yaml")
    assert cycle.message == "dependency cycle: a → b → c → a"
    assert [(item.span.start, item.message) for item in cycle.related] == [
        (text.index("[c]") + 1, "'b' depends on 'c'"),
        (text.index("[a]") + 1, "'c' depends on 'a'"),
    ]
    assert dict(cycle.data) == {"cycle": ["a", "b", "c", "a"], "length": 3, "tasks": 3}


def test_definitions_references_and_lookup_under_the_cursor() -> None:
    index = WorkspaceIndex()
    add(index, "phases/build.yaml", PHASE)
    add(index, "workstreams/build.yaml", WORKSTREAM)
    [definition] = index.definitions("phase", "PH-BUILD")
    assert definition.path == "phases/build.yaml"
    assert [item.path for item in index.references("phase", "PH-BUILD")] == [
        "workstreams/build.yaml"
    ]
    offset = WORKSTREAM.index("[lint]") + 2
    found = index.at("workstreams/build.yaml", offset)
    assert found is not None and (found.kind, found.id) == ("task", "lint")
    # Task ids are scoped to their workstream file, not to the workstream id.
    path = "workstreams/build.yaml"
    assert [item.item.span.start for item in index.definitions("task", "lint", path)] == [
        WORKSTREAM.index("lint")
    ]
    assert index.definitions("task", "lint", "ws-build") == []
    assert index.ids("task", path) == ["lint", "test"]
