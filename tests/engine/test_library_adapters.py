"""``uet.engine.AdapterRegistry``: a router config's apps run as real child processes."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from uet.engine import AdapterRegistry, SpecError, ToolAdapter, WorkspaceError
from uet.engine.adapters.base import AttemptStatus
from uet.engine.planning.router_config import AppConfig, RouterConfig

PYTHON = sys.executable


def app(code: str, **extra: Any) -> dict[str, Any]:
    return {
        "kind": "tool",
        "command": [PYTHON, "-c", code],
        "capabilities": {"task_kinds": ["any"]},
        **extra,
    }


def config(**apps: dict[str, Any]) -> dict[str, Any]:
    return {"version": "1.0.0", "apps": apps, "routing": {"rules": []}}


def tool(registry: AdapterRegistry, tool_id: str) -> ToolAdapter:
    found = registry.get(tool_id)
    assert found is not None, tool_id
    return found


def write(root: Path, value: dict[str, Any]) -> Path:
    path = root / "router_config.json"
    path.write_text(json.dumps(value))
    return path


def test_tools_are_listed_found_by_capability_and_got_by_id(tmp_path: Path) -> None:
    registry = AdapterRegistry(
        write(
            tmp_path,
            config(
                editor=app("pass", capabilities={"task_kinds": ["edit"], "domains": ["py"]}),
                anything=app("pass", capabilities={"task_kinds": ["edit", "review"]}),
                reviewer=app("pass", capabilities={"task_kinds": ["review"]}),
            ),
        )
    )
    assert registry.list_tools() == ["editor", "anything", "reviewer"]
    assert [tool.tool_id for tool in registry.find_for_task("edit")] == ["editor", "anything"]
    assert [tool.tool_id for tool in registry.find_for_task("edit", "py")] == [
        "editor",
        "anything",
    ]
    assert [tool.tool_id for tool in registry.find_for_task("edit", "js")] == ["anything"]
    assert registry.find_for_task("deploy") == []
    assert registry.get("missing") is None and "editor" in registry
    editor = registry.get("editor")
    assert editor is not None and editor.config.domains == ("py",)


def test_execute_runs_the_command_with_args_env_and_output(tmp_path: Path) -> None:
    code = (
        "import os, sys\n"
        "print('args', sys.argv[1:])\n"
        "print('to stderr', file=sys.stderr, flush=True)\n"
        "print('env', os.environ['GREETING'], os.environ['FROM_APP'])\n"
        "print('cwd', os.getcwd())\n"
    )
    registry = AdapterRegistry(write(tmp_path, config(echo=app(code, env={"FROM_APP": "1"}))))
    (tmp_path / "sub").mkdir()
    result = tool(registry, "echo").execute(
        {"request_id": "R1", "args": ["a b", "c"], "env": {"GREETING": "hi"}, "cwd": "sub"},
        timeout=60,
    )
    assert result.success and result.status is AttemptStatus.COMPLETED
    assert (result.exit_code, result.error_message, result.truncated) == (0, None, False)
    assert result.stdout.splitlines() == [
        "args ['a b', 'c']",
        "to stderr",
        "env hi 1",
        f"cwd {(tmp_path / 'sub').resolve()}",
    ]
    assert result.duration_seconds > 0
    # Without a request the child runs at the workspace root: the config's folder.
    plain = AdapterRegistry(write(tmp_path, config(pwd=app("import os; print(os.getcwd())"))))
    result = tool(plain, "pwd").execute()
    assert result.stdout.strip() == str(tmp_path.resolve())


def test_a_failing_command_returns_a_failed_result(tmp_path: Path) -> None:
    registry = AdapterRegistry(
        write(
            tmp_path,
            config(
                lint=app("print('3 problems'); raise SystemExit(4)"),
                missing=app("", command=[str(tmp_path / "no-such-program")]),
            ),
        )
    )
    result = tool(registry, "lint").execute()
    assert not result.success and result.status is AttemptStatus.FAILED
    assert (result.exit_code, result.error_message) == (4, "exit code 4")
    assert result.stdout == "3 problems\n"
    result = tool(registry, "missing").execute()
    assert not result.success and result.status is AttemptStatus.SPAWN_FAILED
    assert result.exit_code is None
    assert "cannot start" in (result.error_message or "")


def test_the_timeout_stops_the_child_and_the_app_limit_caps_it(tmp_path: Path) -> None:
    sleeper = "import time; print('started', flush=True); time.sleep(60)"
    registry = AdapterRegistry(
        write(
            tmp_path,
            config(
                free=app(sleeper),
                limited=app(sleeper, limits={"timeout_seconds": 1}),
            ),
        )
    )
    result = tool(registry, "free").execute(timeout=0.5)
    assert result.status is AttemptStatus.TIMED_OUT and not result.success
    assert result.error_message == "timed out after 0.5 s"
    assert result.stdout == "started\n"
    result = tool(registry, "limited").execute(timeout=600)
    assert result.status is AttemptStatus.TIMED_OUT
    assert result.error_message == "timed out after 1 s"


def test_a_shell_app_gets_its_arguments_quoted(tmp_path: Path) -> None:
    shell = app("", command="printf '%s|' \"$@\"", shell=True)
    registry = AdapterRegistry(config(shell=shell), workspace=tmp_path)
    result = tool(registry, "shell").execute({"args": ["two words", "$HOME"]})
    assert result.success, result.error_message
    assert "two words|" in result.stdout and "$HOME|" in result.stdout


def test_requests_a_tool_cannot_run_raise(tmp_path: Path) -> None:
    apps = {"nothing": AppConfig("nothing"), "echo": AppConfig("echo", command=("true",))}
    registry = AdapterRegistry(RouterConfig(apps=apps), workspace=tmp_path)
    with pytest.raises(SpecError, match="'nothing' cannot run"):
        tool(registry, "nothing").execute()
    with pytest.raises(WorkspaceError, match="outside the workspace"):
        tool(registry, "echo").execute({"cwd": ".."})
    with pytest.raises(TypeError, match="list of strings"):
        tool(registry, "echo").execute({"args": "one string"})


def test_a_config_is_checked_against_its_schema(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as raised:
        AdapterRegistry({"version": "1.0.0", "apps": {"x": {"kind": 3}}}, workspace=tmp_path)
    problems = "\n".join(raised.value.problems)
    assert "routing" in problems and "kind" in problems, problems
    path = tmp_path / "router_config.json"
    path.write_text('{"version": "1.0.0", "apps": {}, ')
    with pytest.raises(SpecError) as raised:
        AdapterRegistry(path)
    assert all(line.startswith("router_config.json:") for line in raised.value.problems)


def test_a_yaml_file_and_a_parsed_config_work_too(tmp_path: Path) -> None:
    yaml_path = tmp_path / "router.yaml"
    yaml_path.write_text(
        "version: '1.0.0'\n"
        "apps:\n"
        "  hello:\n"
        "    kind: tool\n"
        f"    command: ['{PYTHON}', '-c', 'print(42)']\n"
        "    capabilities: {task_kinds: [any]}\n"
        "routing:\n"
        "  rules: []\n"
    )
    from_yaml = AdapterRegistry(yaml_path, workspace=tmp_path)
    assert tool(from_yaml, "hello").execute().stdout == "42\n"
    parsed = AdapterRegistry(from_yaml.router_config, workspace=tmp_path)
    assert isinstance(parsed.router_config, RouterConfig)
    assert tool(parsed, "hello").execute().stdout == "42\n"
