"""Memory kept by a parsed document stays a small multiple of its text (issue 15, item 13).

Measured with ``tracemalloc`` (bytes still allocated after parsing), which counts the same
allocations on every run: no timing is involved. The bounds sit between what the tree kept
when every node and key held a ``Span`` object (34x, 21x, 53x, 40 bytes a line) and what it
keeps now (about 19x, 11x, 32x, 8 bytes a line).
"""

from __future__ import annotations

import json
import tracemalloc

import pytest

from uet.artifacts import load_text
from uet.artifacts.positions import LineIndex


def _workstream_yaml(tasks: int) -> str:
    return "tasks:\n" + "".join(
        f"  - task_id: t{n}\n    name: Task number {n}\n"
        f"    depends_on: [t{max(n - 1, 0)}]\n    kind: lint\n"
        for n in range(tasks)
    )


def _workstream_json(tasks: int) -> str:
    listed = [
        {"task_id": f"t{n}", "name": f"Task number {n}", "depends_on": [f"t{max(n - 1, 0)}"]}
        for n in range(tasks)
    ]
    return json.dumps({"tasks": listed}, indent=2)


def _flow_list(values: int) -> str:
    return "items: [" + ", ".join(str(n % 100) for n in range(values)) + "]\n"


def _kept(build: object) -> int:
    """Bytes still allocated by ``build()`` once it returned (its result is alive)."""
    assert callable(build)
    tracemalloc.start()
    try:
        result = build()
        kept = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    del result
    return kept


@pytest.mark.parametrize(
    ("text", "name", "bound"),
    [
        (_workstream_yaml(3_000), "big.yaml", 24),
        (_workstream_json(3_000), "big.json", 15),
        (_flow_list(60_000), "flow.yaml", 40),
    ],
    ids=["yaml-workstream", "json-workstream", "yaml-flow-list-of-small-ints"],
)
def test_a_parsed_document_keeps_a_small_multiple_of_its_text(
    text: str, name: str, bound: int
) -> None:
    parsed = load_text(text, name)
    assert not parsed.problems
    kept = _kept(lambda: load_text(text, name))
    assert kept <= bound * len(text), f"kept {kept / len(text):.1f}x the text"


def test_the_tree_still_answers_every_span() -> None:
    text = _workstream_yaml(3)
    root = load_text(text, "small.yaml").documents[0].root
    assert root is not None
    task = root.get("tasks")
    assert task is not None
    first = task.items[0]
    member = first.member("depends_on")
    assert member is not None
    assert text[member.key_span.start : member.key_span.end] == "depends_on"
    assert (member.key_start, member.key_end) == tuple(member.key_span)
    assert text[member.value.span.start : member.value.span.end] == "[t0]"
    assert (member.value.start, member.value.end) == tuple(member.value.span)


def test_a_line_index_keeps_a_machine_int_per_line() -> None:
    text = "x\n" * 100_000
    kept = _kept(lambda: LineIndex(text))
    assert kept <= 16 * 100_000, f"{kept / 100_000:.1f} bytes a line"
