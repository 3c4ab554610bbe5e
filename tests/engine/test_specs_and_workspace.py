"""Spec and router-config parsing, file loading, workspace discovery and confinement."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from uet.engine.errors import SpecError, WorkspaceError
from uet.engine.planning.loading import load_router_config_value, load_workstream_value
from uet.engine.planning.plan import plan_run, resolve_invocation
from uet.engine.planning.router_config import (
    DEFAULT_BREAKER,
    DEFAULT_RETRY,
    RouterConfig,
    RoutingStrategy,
    parse_router_config,
)
from uet.engine.planning.spec import ErrorStrategy, parse_workstream
from uet.engine.workspace import Workspace, confine, find_workspace

BASE = {
    "workstream_id": "ws-1",
    "project_id": "p",
    "phase_id": "PH-1",
    "name": "WS",
    "objective": "o",
}


def test_parse_workstream_fields_and_defaults() -> None:
    value = {
        **BASE,
        "concurrency": {"max_parallel": 4},
        "tasks": [
            {
                "task_id": "a",
                "name": "A",
                "kind": "lint",
                "command": "ruff check .",
                "execution": {"max_attempts": 2, "timeout_seconds": 30},
                "classification": {"domain": "python"},
                "env": {"X": "1"},
            }
        ],
    }
    spec, problems = parse_workstream(value)
    assert problems == [] and spec is not None
    assert spec.max_parallel == 4
    assert spec.error_strategy is ErrorStrategy.FAIL_FAST
    task = spec.task("a")
    assert (task.max_attempts, task.timeout_seconds, task.domain) == (2, 30.0, "python")
    assert task.command == "ruff check ."
    assert dict(task.env) == {"X": "1"}


def test_every_task_field_lands_in_its_own_place() -> None:
    # TaskSpec and Invocation are built positionally on the hot path: a field given a
    # distinct value everywhere shows any two swapped.
    value = {
        **BASE,
        "tasks": [
            {"task_id": "first", "name": "First", "kind": "prep", "command": ["true"]},
            {
                "task_id": "second",
                "name": "Second",
                "kind": "build",
                "depends_on": ["first"],
                "tags": ["t1", "t2"],
                "classification": {"domain": "python", "risk_tier": "low"},
                "execution": {"max_attempts": 3, "timeout_seconds": 12.5},
                "tool": "builder",
                "command": ["make", "all"],
                "args": ["-j2"],
                "cwd": "src",
                "env": {"MODE": "fast"},
                "resource_scope_delta": {"paths": ["src/"]},
            },
        ],
    }
    spec, problems = parse_workstream(value)
    assert problems == [] and spec is not None
    task = spec.task("second")
    assert task._asdict() == {
        "task_id": "second",
        "name": "Second",
        "kind": "build",
        "depends_on": ("first",),
        "tags": ("t1", "t2"),
        "classification": {"domain": "python", "risk_tier": "low"},
        "max_attempts": 3,
        "timeout_seconds": 12.5,
        "tool": "builder",
        "command": ("make", "all"),
        "args": ("-j2",),
        "cwd": "src",
        "env": {"MODE": "fast"},
        "resource_scope": {"paths": ["src/"]},
    }
    first = spec.task("first")
    workspace_root = Path(__file__).resolve().parent
    invocation = resolve_invocation(
        first._replace(cwd=None, timeout_seconds=7.0, max_attempts=2, env={"A": "b"}),
        None,
        RouterConfig(),
        Workspace(workspace_root),
    )
    assert invocation._asdict() == {
        "app_id": None,
        "argv": ("true",),
        "cwd": workspace_root,
        "env": {"A": "b"},
        "timeout_seconds": 7.0,
        "max_attempts": 2,
        "retry": invocation.retry,
        "breaker": invocation.breaker,
    }
    assert (invocation.retry, invocation.breaker) == (DEFAULT_RETRY, DEFAULT_BREAKER)


def test_parse_workstream_reports_what_schemas_cannot_see() -> None:
    value = {
        **BASE,
        "tasks": [
            {"task_id": "a", "name": "A", "kind": "k", "depends_on": ["a", "ghost"]},
            {"task_id": "a", "name": "A2", "kind": "k"},
        ],
    }
    spec, problems = parse_workstream(value)
    assert spec is None
    assert problems == [
        "task id 'a' is used more than once",
        "task 'a' depends on itself",
        "task 'a' depends on unknown task 'ghost'",
    ]
    assert parse_workstream([1, 2])[1] == ["a workstream must be an object"]


def test_parse_router_config_defaults() -> None:
    config, problems = parse_router_config(
        {
            "version": "1.0.0",
            "apps": {"x": {"kind": "tool", "command": "x", "capabilities": {}}},
            "routing": {},
        }
    )
    assert problems == [] and config is not None
    app = config.apps["x"]
    assert app.retry == DEFAULT_RETRY
    assert (app.breaker.failure_threshold, app.breaker.recovery_timeout_seconds) == (5, 60.0)
    assert config.default_strategy is RoutingStrategy.AUTO
    assert not app.shell


def test_yaml_workstreams_load_and_plan(tmp_path: Path) -> None:
    (tmp_path / ".uet").mkdir()
    path = tmp_path / "ws.yaml"
    path.write_text(
        "workstream_id: ws-y\nproject_id: p\nphase_id: PH-1\nname: Y\nobjective: o\n"
        "tasks:\n  - task_id: a\n    name: A\n    kind: k\n    command: [echo, hi]\n"
    )
    workspace = Workspace(tmp_path.resolve())
    checked, spec = load_workstream_value(path, workspace)
    assert spec.tasks[0].command == ("echo", "hi")
    assert checked.value["workstream_id"] == "ws-y"
    plan = plan_run(workspace, path, jobs=3)
    assert plan.jobs == 3
    assert plan.tasks["a"].invocations[None].argv == ("echo", "hi")
    assert plan.document["workstream_path"] == "ws.yaml"


def test_invalid_router_config_is_refused_with_positions(tmp_path: Path) -> None:
    workspace = Workspace(tmp_path.resolve())
    (tmp_path / "router_config.json").write_text(json.dumps({"version": "one", "apps": {}}))
    with pytest.raises(SpecError) as info:
        load_router_config_value(None, workspace)
    assert all(line.startswith("router_config.json:") for line in info.value.problems)
    (tmp_path / "router_config.json").unlink()
    assert load_router_config_value(None, workspace)[0].value is None  # no file: empty config


def test_find_workspace_walks_up_to_a_marker(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    nested = tmp_path / "a" / "b"
    nested.mkdir(parents=True)
    (nested / "ws.json").write_text("{}")
    assert find_workspace(nested / "ws.json").root == tmp_path.resolve()
    lonely = tmp_path / "elsewhere"
    lonely.mkdir()
    # Without a marker above, the current directory is the workspace.
    assert find_workspace(None, cwd=nested).root == tmp_path.resolve()
    workspace = Workspace(tmp_path.resolve())
    assert workspace.db_path == tmp_path.resolve() / ".uet" / "runs.db"
    assert workspace.relative(nested / "ws.json") == "a/b/ws.json"


def test_confine_refuses_escapes(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "sub").mkdir(parents=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    (root / "link").symlink_to(outside)
    workspace = Workspace(root.resolve())
    assert confine(workspace, None) == root.resolve()
    assert confine(workspace, "sub") == (root / "sub").resolve()
    for bad in ("..", "sub/../..", str(outside), "link"):
        with pytest.raises(WorkspaceError, match="outside the workspace"):
            confine(workspace, bad)
    with pytest.raises(WorkspaceError, match="does not exist"):
        confine(workspace, "missing")


def test_engine_imports_no_protocol_or_ui_package() -> None:
    """Architecture invariant: uet.engine never imports pygls, lsprotocol, uet.lsp, uet.cli."""
    engine = Path(__file__).resolve().parents[2] / "server" / "uet" / "engine"
    forbidden = ("pygls", "lsprotocol", "uet.lsp", "uet.cli", "rich")
    for path in engine.rglob("*.py"):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert not name.startswith(forbidden), f"{path.name} imports {name}"


_TASK = '{"task_id": "a", "name": "A", "kind": "lint", "command": ["true"]}'
_HEAD = (
    '{"workstream_id": "ws-1", "project_id": "p", "phase_id": "PH-1", "name": "WS",'
    ' "objective": "o",'
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Every file the fast path (stdlib parser + jsonschema-rs) cannot vouch for goes
        # through the positional checker, whose diagnostics carry line and column.
        (f'{_HEAD} "tasks": [{_TASK}], "name": "again"}}', "1:177: error UET102 duplicate"),
        (f'{_HEAD} "tasks": [{_TASK}], "x_timeout": NaN}}', "UET107"),
        (f'{_HEAD} "tasks": [{_TASK},]}}', "UET101"),
        (f'{_HEAD} "tasks": "none"}}', "UET201"),
        ("\ufeff" + f'{_HEAD} "tasks": [{_TASK}], "name": "again"}}', "UET102"),
    ],
)
def test_workstreams_the_fast_path_cannot_vouch_for_get_positional_diagnostics(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = tmp_path / "ws.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SpecError) as info:
        load_workstream_value(path, Workspace(tmp_path.resolve()))
    assert any(expected in line for line in info.value.problems), info.value.problems


def test_a_valid_json_workstream_loads_the_same_either_way(tmp_path: Path) -> None:
    text = f'{_HEAD} "tasks": [{_TASK}]}}'
    fast, slow = tmp_path / "ws.json", tmp_path / "ws.yaml"
    fast.write_text(text, encoding="utf-8")
    slow.write_text(text, encoding="utf-8")  # JSON is YAML: this one takes the slow path
    workspace = Workspace(tmp_path.resolve())
    (fast_file, fast_spec), (slow_file, slow_spec) = (
        load_workstream_value(path, workspace) for path in (fast, slow)
    )
    assert (fast_file.value, fast_spec) == (slow_file.value, slow_spec)
