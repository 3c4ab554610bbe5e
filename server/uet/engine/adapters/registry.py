"""The adapter registry: one adapter per router app, and capability lookup.

Every app kind (tool, validator, analyzer) runs as a child process today, so each app maps
to the shared :class:`SubprocessAdapter`; the registry is the seam where other adapter
kinds plug in. Direct ``command`` tasks (no app) use :data:`DIRECT_TOOL_ID`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

from uet.engine.adapters.base import Adapter
from uet.engine.adapters.subprocess import SubprocessAdapter
from uet.engine.planning.router_config import DIRECT_TOOL_ID, AppConfig, RouterConfig

__all__ = ["AdapterRegistry", "build_registry"]


class AdapterRegistry(NamedTuple):
    """Adapters by app id, plus the apps' declared capabilities."""

    apps: Mapping[str, AppConfig]
    adapters: Mapping[str, Adapter]
    direct: Adapter

    def adapter(self, app_id: str | None) -> Adapter:
        """The adapter for ``app_id`` (the direct adapter for ``None`` or the direct id)."""
        if app_id is None or app_id == DIRECT_TOOL_ID:
            return self.direct
        return self.adapters[app_id]

    def find_for_task(self, kind: str, domain: str | None = None) -> list[str]:
        """Apps whose capabilities list ``kind`` (and ``domain`` when both say one)."""
        return [
            app.app_id
            for app in self.apps.values()
            if kind in app.task_kinds
            and (domain is None or not app.domains or domain in app.domains)
        ]


def build_registry(config: RouterConfig, adapter: Adapter | None = None) -> AdapterRegistry:
    """The registry of ``config``'s apps (all served by ``adapter``, subprocess by default)."""
    shared = adapter if adapter is not None else SubprocessAdapter()
    return AdapterRegistry(
        apps=dict(config.apps),
        adapters={app_id: shared for app_id in config.apps},
        direct=shared,
    )
