"""Id completion offers what can be written there: in ``depends_on``, the other tasks of
the workstream that the list does not name yet (never the task itself)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from uet.artifacts import bundled_registry, load_text
from uet.artifacts.editing import complete, task_ids_of
from uet.artifacts.facts import APP, TASK

REGISTRY = bundled_registry()
TASKS = ("lint", "test", "build", "docs")


def ids(kind: str) -> Sequence[str]:
    return TASKS if kind == TASK else ("ruff", "pytest") if kind == APP else ()


def offered(marked: str, path: str = "workstreams/w.yaml") -> set[str]:
    text, offset = marked.replace("|", "", 1), marked.index("|")
    parsed = load_text(text, path)
    found = complete(parsed, offset, "workstream_spec", REGISTRY, ids=ids)
    return {item.label for item in found if item.kind == "id"}


HEAD = "workstream_id: w\ntasks:\n"
TASK_HEAD = "  - task_id: test\n    name: t\n    kind: k\n"
OTHERS = (
    "  - task_id: lint\n    name: l\n    kind: k\n  - task_id: build\n    name: b\n    kind: k\n"
)


@pytest.mark.parametrize(
    "depends",
    [
        "    depends_on: [lint, |]\n",
        "    depends_on: [lint, b|]\n",
        "    depends_on:\n      - lint\n      - |\n",
        "    depends_on:\n      - |\n      - lint\n",
    ],
)
def test_depends_on_offers_other_tasks_not_listed_yet(depends: str) -> None:
    assert offered(HEAD + TASK_HEAD + depends + OTHERS) == {"build", "docs"}


def test_the_entry_being_edited_stays_offered() -> None:
    assert offered(HEAD + TASK_HEAD + "    depends_on: [li|nt, build]\n" + OTHERS) == {
        "lint",
        "docs",
    }


def test_an_empty_list_offers_every_task_but_its_own() -> None:
    assert offered(HEAD + TASK_HEAD + "    depends_on: [|]\n" + OTHERS) == {"lint", "build", "docs"}


def test_json_depends_on_offers_other_tasks_not_listed_yet() -> None:
    marked = (
        '{"workstream_id": "w", "tasks": [{"task_id": "test", "name": "t", "kind": "k",'
        ' "depends_on": ["lint", "|"]}, {"task_id": "lint", "name": "l", "kind": "k"}]}'
    )
    assert offered(marked, "workstreams/w.json") == {"build", "docs"}


def test_other_id_lists_leave_out_what_they_list() -> None:
    marked = HEAD + TASK_HEAD + "    tool: |\n"
    assert offered(marked) == {"ruff", "pytest"}  # a scalar id: nothing is taken


def test_a_list_still_being_typed_is_read_from_the_last_value_that_parsed() -> None:
    good = HEAD + TASK_HEAD + "    depends_on: [lint]\n" + OTHERS
    typing = good.replace("[lint]", "[lint, ")  # no longer parses
    last_good = load_text(good, "workstreams/w.yaml").documents[0].root
    assert last_good is not None
    parsed = load_text(typing, "workstreams/w.yaml")
    offset = typing.index("[lint, ") + 7
    found = complete(
        parsed, offset, "workstream_spec", REGISTRY, ids=ids, root_value=last_good.value
    )
    assert {item.label for item in found if item.kind == "id"} == {"build", "docs"}
    assert task_ids_of(last_good.value) == ["test", "lint", "build"]
