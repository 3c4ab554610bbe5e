"""``AdapterRegistry``: the apps of a router config as callable tools.

It offers the original UET's registry methods (``list_tools``, ``get``, ``find_for_task``) and
``adapter.execute(request, timeout)`` over what ``uet run`` uses: the router config is
checked against its schema and parsed as for a run, an app's command line, working
directory, environment and timeout are resolved as for a task of a run
(:func:`uet.engine.planning.plan.resolve_invocation`), and the child runs under the
engine's subprocess adapter (own process group, output capped, the whole group stopped at
the timeout).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from uet.engine.adapters.base import Adapter, AdapterRequest, AttemptStatus
from uet.engine.adapters.registry import build_registry
from uet.engine.cancel import CancelToken
from uet.engine.errors import SpecError
from uet.engine.planning.loading import check_document, router_config_from_value
from uet.engine.planning.plan import resolve_invocation
from uet.engine.planning.router_config import AppConfig, RouterConfig
from uet.engine.planning.spec import TaskSpec
from uet.engine.workspace import Workspace, find_workspace

__all__ = ["AdapterRegistry", "ExecutionResult", "ToolAdapter"]

_OUTPUT_NAME = "output.log"


class ExecutionResult(NamedTuple):
    """How one execution of a tool went.

    ``stdout`` holds the child's standard output and error as one stream, in the order they
    were written (the engine reads both through one pipe, as for run logs), decoded as
    UTF-8; ``truncated`` says whether the middle of a very long output was left out.
    ``error_message`` says why it failed (``None`` on success).
    """

    success: bool
    status: AttemptStatus
    exit_code: int | None
    stdout: str
    duration_seconds: float
    error_message: str | None
    truncated: bool = False


class ToolAdapter:
    """One app of the router config, run as a child process."""

    def __init__(
        self, app: AppConfig, config: RouterConfig, workspace: Workspace, adapter: Adapter
    ) -> None:
        self._app = app
        self._config = config
        self._workspace = workspace
        self._adapter = adapter

    @property
    def tool_id(self) -> str:
        """The app's id in the router config."""
        return self._app.app_id

    @property
    def config(self) -> AppConfig:
        """The app as the router config declares it."""
        return self._app

    def execute(
        self, request: Mapping[str, Any] | None = None, timeout: float | None = None
    ) -> ExecutionResult:
        """Run the app's command once and wait for it.

        ``request`` may add ``args`` (appended to the command), ``cwd`` (a folder of the
        workspace) and ``env`` (extra variables); other keys, such as an execution
        request's ids, are ignored. ``timeout`` (seconds) is capped by the app's
        ``limits.timeout_seconds``; without either the router's default applies, if any.
        Raises :class:`SpecError` when the app has no command and
        :class:`~uet.engine.errors.WorkspaceError` for a ``cwd`` outside the workspace.
        """
        request = request or {}
        cwd = request.get("cwd")
        if cwd is not None and not isinstance(cwd, str):
            raise TypeError("request 'cwd' must be a string (a folder of the workspace)")
        task = TaskSpec(  # what a run's task on this app would say
            task_id=self.tool_id,
            name=self.tool_id,
            kind="tool",
            args=_strings(request.get("args"), "args"),
            cwd=cwd,
            env={str(key): str(value) for key, value in dict(request.get("env") or {}).items()},
            timeout_seconds=timeout,
            tool=self.tool_id,
        )
        try:
            invocation = resolve_invocation(task, self._app, self._config, self._workspace)
        except SpecError as exc:
            raise SpecError(f"tool {self.tool_id!r} cannot run: {exc}") from None
        with tempfile.TemporaryDirectory(prefix="uet-tool-") as folder, CancelToken() as cancel:
            result = self._adapter.execute(
                AdapterRequest(
                    argv=invocation.argv,
                    cwd=invocation.cwd,
                    log_path=Path(folder, _OUTPUT_NAME),
                    env=invocation.env,
                    timeout_seconds=invocation.timeout_seconds,
                ),
                cancel,
            )
            output = result.log_path.read_bytes() if result.log_path is not None else b""
        return ExecutionResult(
            success=result.succeeded,
            status=result.status,
            exit_code=result.exit_code,
            stdout=output.decode("utf-8", "replace"),
            duration_seconds=result.duration_ms / 1000.0,
            error_message=None if result.succeeded else result.reason,
            truncated=result.truncated,
        )

    def __repr__(self) -> str:
        return f"ToolAdapter({self.tool_id!r})"


class AdapterRegistry:
    """The tools of a router config: a path to the file (JSON or YAML), its parsed value,
    or a :class:`RouterConfig`.

    Tools run inside ``workspace`` (a folder; by default the workspace holding the file, or
    the current directory's). Raises :class:`SpecError`, with the problems, for a config
    that does not pass its schema.
    """

    def __init__(
        self,
        router_config: str | os.PathLike[str] | Mapping[str, Any] | RouterConfig,
        *,
        workspace: str | os.PathLike[str] | None = None,
    ) -> None:
        path = None if isinstance(router_config, RouterConfig | Mapping) else Path(router_config)
        if workspace is not None:
            where = Workspace(Path(workspace).resolve())
        else:
            where = find_workspace(path)
        if isinstance(router_config, RouterConfig):
            config = router_config
        elif isinstance(router_config, Mapping):
            config = _checked_value(router_config)
        else:
            path = Path(router_config)
            checked = check_document(path, "router_config", where)
            config = router_config_from_value(checked.value, where.relative(path))
        self.workspace = where
        self.router_config = config
        self._registry = registry = build_registry(config)
        self._tools = {
            app_id: ToolAdapter(app, config, where, registry.adapter(app_id))
            for app_id, app in config.apps.items()
        }

    def list_tools(self) -> list[str]:
        """The tool ids, in the config's order."""
        return list(self._tools)

    def get(self, tool_id: str) -> ToolAdapter | None:
        """The tool called ``tool_id``, or ``None``."""
        return self._tools.get(tool_id)

    def find_for_task(self, task_kind: str, domain: str | None = None) -> list[ToolAdapter]:
        """The tools whose capabilities list ``task_kind`` (and ``domain``, when both the
        app and the caller name domains), in the config's order."""
        return [self._tools[app_id] for app_id in self._registry.find_for_task(task_kind, domain)]

    def __contains__(self, tool_id: object) -> bool:
        return tool_id in self._tools


def _checked_value(value: Mapping[str, Any]) -> RouterConfig:
    """The router config of a plain value, checked against the schema first."""
    from uet.artifacts import Severity, check_text

    shown = "router config"
    report = check_text(json.dumps(value), "router_config.json", "router_config")
    if not report.ok:  # positions in the re-encoded text would mean nothing to the caller
        problems = [
            f"{shown}: {item.code} {item.message}"
            for item in report.diagnostics
            if item.severity is Severity.ERROR
        ]
        raise SpecError(f"the {shown} is not a valid router_config", problems)
    return router_config_from_value(value, shown)


def _strings(value: Any, name: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise TypeError(f"request {name!r} must be a list of strings")
    return tuple(str(item) for item in value)
