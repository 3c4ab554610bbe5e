"""Cross-file checks on big and hostile workspaces: answers bounded in size and in work.

Real files through a real ``uet validate`` process where the output is the point; the
index and the checker directly where the data attached to diagnostics is. No timing: a
generous subprocess timeout only guards against a hang.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from uet.artifacts import check_text
from uet.artifacts import validation as validation_module
from uet.artifacts.facts import MAX_RELATED
from uet.artifacts.index import WorkspaceIndex
from uet.artifacts.suggestions import Suggester
from uet.artifacts.workspace import check_workspace

TASKS = 10_000
GUARD = 300  # seconds: only a hang fails on it


def workstream(shape: str, tasks: int = TASKS, workstream_id: str = "WS-BIG") -> str:
    """A workstream of ``tasks`` tasks whose ``depends_on`` have the given shape."""
    items: list[dict[str, Any]] = []
    for number in range(tasks):
        task: dict[str, Any] = {
            "task_id": "task-same" if shape == "duplicate" else f"task-{number:05d}",
            "name": f"Task {number}",
            "kind": "test",
        }
        if shape == "cycle":
            task["depends_on"] = [f"task-{(number + 1) % tasks:05d}"]
        elif shape == "unknown":
            task["depends_on"] = [f"missing-{number:05d}"]
        items.append(task)
    value = {
        "workstream_id": workstream_id,
        "project_id": "PRJ-SCALE",
        "phase_id": "PH-SCALE",
        "name": "Scale",
        "objective": "Be big.",
        "tasks": items,
    }
    return json.dumps(value, indent=1) + "\n"


def validate(folder: Path) -> tuple[list[dict[str, Any]], int]:
    """``uet validate --format json FOLDER``: its records and the bytes it printed."""
    done = subprocess.run(
        [sys.executable, "-m", "uet", "validate", "--format", "json", str(folder)],
        capture_output=True,
        timeout=GUARD,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    return json.loads(done.stdout), len(done.stdout)


def write(root: Path, relative: str, text: str) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_a_cycle_through_10000_tasks_is_reported_once_with_a_bounded_path(
    tmp_path: Path,
) -> None:
    write(tmp_path, "workstreams/big.json", workstream("cycle"))
    records, size = validate(tmp_path)
    assert [record["code"] for record in records] == ["UET303"]
    [cycle] = records
    message = cycle["message"]
    assert message.startswith("dependency cycle of 10000 tasks: task-00000 → task-00001 → ")
    assert message.endswith(" → … → task-09999 → task-00000")
    assert len(message) < 300
    assert size < 2_000
    # on the first entry of the file that lies on the cycle: task-00000's depends_on
    text = (tmp_path / "workstreams/big.json").read_text()
    assert cycle["line"] == text[: text.index('"task-00001"')].count("\n") + 1


def test_the_cycle_diagnostic_carries_bounded_related_information_and_data(
    tmp_path: Path,
) -> None:
    write(tmp_path, "workstreams/big.json", workstream("cycle"))
    index = check_workspace([tmp_path]).index
    [path] = index.paths()
    [cycle] = index.diagnostics(path)
    assert len(cycle.related) == MAX_RELATED
    assert cycle.related[0].message == "'task-00001' depends on 'task-00002'"
    assert cycle.related[-1].message.endswith(f"(and {TASKS - MAX_RELATED - 1} more steps)")
    assert cycle.data["length"] == TASKS and cycle.data["tasks"] == TASKS
    assert len(cycle.data["cycle"]) == MAX_RELATED + 1
    assert len(json.dumps(dict(cycle.data))) < 1_000


def test_10000_unknown_depends_on_entries_each_get_bounded_diagnostics(tmp_path: Path) -> None:
    write(tmp_path, "workstreams/big.json", workstream("unknown"))
    records, size = validate(tmp_path)
    assert [record["code"] for record in records] == ["UET302"] * TASKS
    assert records[0]["message"] == (
        "depends_on names unknown task 'missing-00000'; did you mean 'task-00000'?"
    )
    assert max(len(record["message"]) for record in records) < 120
    assert size < TASKS * 400  # in proportion to the entries, not to entries x ids
    index = check_workspace([tmp_path]).index
    [path] = index.paths()
    diagnostics = index.diagnostics(path)
    assert all(set(item.data) == {"id", "suggestion"} for item in diagnostics)
    assert diagnostics[0].data["suggestion"] == "task-00000"


def test_10000_duplicate_task_ids_point_at_the_first_definition_only(tmp_path: Path) -> None:
    write(tmp_path, "workstreams/big.json", workstream("duplicate"))
    records, _ = validate(tmp_path)
    assert [record["code"] for record in records] == ["UET301"] * (TASKS - 1)
    index = check_workspace([tmp_path]).index
    [path] = index.paths()
    assert {len(item.related) for item in index.diagnostics(path)} == {1}


def test_many_files_sharing_a_workstream_id_get_bounded_related_lists(tmp_path: Path) -> None:
    files = 60
    for number in range(files):
        write(tmp_path, f"workstreams/w{number:03d}.json", workstream("valid", tasks=1))
    index = check_workspace([tmp_path]).index
    for path in index.paths():
        [duplicate] = index.diagnostics(path)
        assert duplicate.code == "UET301"
        assert duplicate.message == f"duplicate workstream id 'WS-BIG' (defined {files} times)"
        assert len(duplicate.related) == MAX_RELATED
        assert path not in {item.path for item in duplicate.related}
    first, second = index.paths()[:2]
    [of_first] = index.diagnostics(first)
    assert of_first.related[0].path == second  # the others in path order


def test_one_change_to_many_files_updates_what_their_diagnostics_share() -> None:
    index = WorkspaceIndex()
    reports = [
        check_text(workstream("valid", tasks=1), f"workstreams/w{number}.json")
        for number in range(30)
    ]
    affected = index.apply(reports)
    assert affected == {report.path for report in reports}
    assert "(defined 30 times)" in index.diagnostics("workstreams/w0.json")[0].message
    affected = index.apply((), [f"workstreams/w{number}.json" for number in range(1, 29)])
    assert affected == {report.path for report in reports}
    assert "(defined 2 times)" in index.diagnostics("workstreams/w0.json")[0].message
    index.remove("workstreams/w29.json")
    assert index.diagnostics("workstreams/w0.json") == []
    phase = check_text("phase_id: PH-OTHER\nname: Other\n", "phases/other.yaml")
    assert "workstreams/w0.json" in index.update(phase)
    [unknown] = index.diagnostics("workstreams/w0.json")
    assert unknown.code == "UET304" and unknown.message.endswith("(known: PH-OTHER)")
    index.update(check_text("phase_id: PH-SCALE\nname: Scale\n", "phases/scale.yaml"))
    assert index.diagnostics("workstreams/w0.json") == []


def test_separate_cycles_are_reported_once_each_and_overlapping_ones_together() -> None:
    text = yaml.safe_dump(
        {
            "workstream_id": "w",
            "tasks": [
                {"task_id": "a", "depends_on": ["b"]},
                {"task_id": "b", "depends_on": ["a", "c"]},
                {"task_id": "c", "depends_on": ["b"]},
                {"task_id": "x", "depends_on": ["y"]},
                {"task_id": "y", "depends_on": ["x"]},
            ],
        },
        sort_keys=False,
    )
    index = WorkspaceIndex()
    index.update(check_text(text, "workstreams/w.yaml"))
    diagnostics = index.diagnostics("workstreams/w.yaml")
    messages = [item.message for item in diagnostics if item.code == "UET303"]
    assert messages == [
        "dependency cycle: a → b → a (3 tasks depend on each other in cycles here)",
        "dependency cycle: x → y → x",
    ]


def test_did_you_mean_among_10000_ids_finds_typos_within_a_bounded_number_of_lookups() -> None:
    ids = [f"build-{number:05d}-{'abcdefghij'[number % 10]}" for number in range(TASKS)]
    suggester = Suggester(ids, max_lookups=3)
    assert suggester("biuld-04242-c") == "build-04242-c"
    assert suggester("BUILD_00001_B") == "build-00001-b"  # case and separators
    assert suggester("zzzzzzzzzzzzz") is None  # the third fuzzy lookup
    assert suggester("biuld-04243-d") is None  # past the cap: no more guessing
    assert suggester("biuld-04242-c") == "build-04242-c"  # answers are kept per word
    assert suggester("BUILD_00002_C") == "build-00002-c"  # exact-but-case still answers


@pytest.mark.parametrize("key", ["zzzzzz", "timout_seconds"])
def test_unknown_keys_in_many_objects_walk_their_schema_once(
    key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = 0
    original = validation_module.static_properties

    def counting(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        return original(*args, **kwargs)

    monkeypatch.setattr(validation_module, "static_properties", counting)
    lines = ["workstream_id: W", "project_id: P", "phase_id: PH", "name: n", "objective: o"]
    lines.append("tasks:")
    for number in range(300):
        lines += [f"  - task_id: t{number}", "    name: n", "    kind: test", f"    {key}: 1"]
    report = check_text("\n".join(lines) + "\n", "workstreams/w.yaml")
    assert [item.code for item in report.diagnostics] == ["UET203"] * 300
    if key == "timout_seconds":
        assert "did you mean 'execution.timeout_seconds'?" in report.diagnostics[0].message
    assert calls < 60  # once per schema met, not once per object
