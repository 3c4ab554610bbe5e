"""Reading the files a run needs: the workstream and the router config.

Files are checked by :mod:`uet.artifacts` against their schemas first; a file with an
error-severity diagnostic is refused with the diagnostics formatted as
``path:line:col: error CODE message`` lines (in :class:`SpecError.problems`). The valid
plain values are then turned into the engine's frozen specs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from uet.engine.config import RouterConfig, parse_router_config
from uet.engine.errors import SpecError
from uet.engine.spec import WorkstreamSpec, parse_workstream
from uet.engine.workspace import Workspace

__all__ = ["check_document", "load_router_config_value", "load_workstream_value"]


def check_document(path: Path, schema: str, workspace: Workspace) -> Any:
    """The plain value of ``path`` once it passed ``schema``; raises :class:`SpecError`."""
    from uet.artifacts.checking import check_file

    report = check_file(path, schema, root=workspace.root)
    if not report.ok or report.value is None:
        shown = workspace.relative(path)
        problems = report.format_lines(shown) or [f"{shown}: cannot be read as {schema}"]
        raise SpecError(f"{shown} is not a valid {schema}", problems)
    return report.value


def load_workstream_value(path: Path, workspace: Workspace) -> tuple[Any, WorkstreamSpec]:
    """The checked workstream file: its plain value and its spec."""
    value = check_document(path, "workstream_spec", workspace)
    return value, workstream_from_value(value, workspace.relative(path))


def load_router_config_value(path: Path | None, workspace: Workspace) -> tuple[Any, RouterConfig]:
    """The checked router config (explicit ``path``, else ``<root>/router_config.json``).

    Without an explicit path a missing default file means an empty config: tasks must
    then carry their own ``command``.
    """
    if path is None:
        path = workspace.router_config_path
        if not path.exists():
            return None, RouterConfig()
    value = check_document(path, "router_config", workspace)
    return value, router_config_from_value(value, workspace.relative(path))


def workstream_from_value(value: Any, shown: str = "workstream") -> WorkstreamSpec:
    """The workstream spec of a checked value; raises :class:`SpecError`."""
    spec, problems = parse_workstream(value)
    if spec is None:
        raise SpecError(f"{shown} cannot be run", [f"{shown}: {item}" for item in problems])
    return spec


def router_config_from_value(value: Any, shown: str = "router config") -> RouterConfig:
    """The router config of a checked value (``None``: empty); raises :class:`SpecError`."""
    if value is None:
        return RouterConfig()
    config, problems = parse_router_config(value)
    if config is None:
        raise SpecError(f"{shown} cannot be used", [f"{shown}: {item}" for item in problems])
    return config
