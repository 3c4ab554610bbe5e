"""Running part of a workstream (``RunOptions.only_tasks``): the selected tasks and their
transitive dependencies run, nothing else is part of the run, and resume keeps the subset."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from engine_support import check_run_artifacts, journal, task_states, write_workspace

from uet.engine.errors import SpecError
from uet.engine.planning.plan import plan_from_document
from uet.engine.running.session import RunOptions
from uet.engine.running.start import start_run
from uet.engine.store.lifecycle import RunState
from uet.engine.workspace import Workspace

TASKS = [
    {"task_id": "setup", "program": ["sleep", "0"]},
    {"task_id": "build", "program": ["sleep", "0"], "depends_on": ["setup"]},
    {"task_id": "lint", "program": ["sleep", "0"]},
    {"task_id": "test", "program": ["sleep", "0"], "depends_on": ["build"]},
    {"task_id": "docs", "program": ["sleep", "0"], "depends_on": ["build", "lint"]},
]


def test_a_task_runs_with_what_it_depends_on_and_nothing_else(tmp_path: Path) -> None:
    path = write_workspace(tmp_path, TASKS)
    handle = start_run(path, options=RunOptions(only_tasks=("test",)))
    result = handle.wait(timeout=30)
    assert result is not None and result.state is RunState.SUCCEEDED
    db_path = tmp_path / ".uet" / "runs.db"
    states = {task: state for task, (state, _) in task_states(db_path, result.run_id).items()}
    assert states == {"setup": "succeeded", "build": "succeeded", "test": "succeeded"}
    started = [name for event, name, _ in journal(tmp_path) if event == "start"]
    assert started == ["setup", "build", "test"]  # dependencies first, in order
    assert result.snapshot.total == 3
    check_run_artifacts(db_path, result.run_id)


def test_the_selection_is_stored_so_resume_plans_the_same_subset(tmp_path: Path) -> None:
    path = write_workspace(tmp_path, TASKS)
    handle = start_run(path, options=RunOptions(only_tasks=("docs", "lint")))
    result = handle.wait(timeout=30)
    assert result is not None and result.state is RunState.SUCCEEDED
    connection = sqlite3.connect(tmp_path / ".uet" / "runs.db")
    try:
        (text,) = connection.execute(
            "SELECT plan_json FROM run_plans WHERE run_id = ?", (result.run_id,)
        ).fetchone()
    finally:
        connection.close()
    document = json.loads(text)
    assert document["only_tasks"] == ["docs", "lint"]
    plan = plan_from_document(Workspace(tmp_path.resolve()), document)
    assert plan.graph.order == ("setup", "build", "lint", "docs")


def test_an_unknown_task_is_refused_before_anything_starts(tmp_path: Path) -> None:
    path = write_workspace(tmp_path, TASKS)
    with pytest.raises(SpecError) as caught:
        start_run(path, options=RunOptions(only_tasks=("test", "deploy")))
    assert caught.value.problems == ("the workstream has no task 'deploy'",)
    assert not (tmp_path / "journal.txt").exists()


def _stored_plan(root: Path, run_id: str) -> str:
    connection = sqlite3.connect(root / ".uet" / "runs.db")
    try:
        (text,) = connection.execute(
            "SELECT plan_json FROM run_plans WHERE run_id = ?", (run_id,)
        ).fetchone()
    finally:
        connection.close()
    return str(text)


@pytest.mark.parametrize("form", ["json", "yaml"])
def test_the_stored_plan_is_the_plan_document(tmp_path: Path, form: str) -> None:
    # Whether the workstream was JSON or YAML, the stored text reads back as exactly the
    # plan's document, from which resume plans the same run.
    path = write_workspace(
        tmp_path,
        [{"task_id": "t1", "name": "Café – tâche", "command": ["true"], "tags": ["x"]}],
        router={"version": "1.0.0", "apps": {}, "routing": {"rules": []}},
    )
    (tmp_path / "router_config.json").write_text(
        json.dumps(json.loads((tmp_path / "router_config.json").read_text()), indent=4)
    )
    if form == "yaml":
        import yaml

        yaml_path = tmp_path / "ws.yaml"
        yaml_path.write_text(yaml.safe_dump(json.loads(path.read_text()), allow_unicode=True))
        path = yaml_path
    result = start_run(path).wait(timeout=30)
    assert result is not None and result.state is RunState.SUCCEEDED
    text = _stored_plan(tmp_path, result.run_id)
    plan = plan_from_document(Workspace(tmp_path.resolve()), json.loads(text))
    assert plan.workstream.tasks[0].name == "Café – tâche"
    from uet.engine.planning.plan import plan_run

    expected = plan_run(Workspace(tmp_path.resolve()), path).document
    assert json.loads(text) == expected
