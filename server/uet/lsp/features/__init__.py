"""Every LSP feature of uet-lsp, one module each (a package for the bigger ones: ``runs``,
``bootstrap``), registered in this order.

Each exposes ``register(server)`` and keeps its handlers to thin adapters: decode the
params, call a domain function (``uet.artifacts``), convert with ``uet.lsp.convert``.
Features never import each other: they meet through ``uet.lsp.hooks`` and share the
modules of ``uet.lsp`` (``documents``, ``index_sync``, ``folders``).
"""

from __future__ import annotations

from types import ModuleType

from uet.lsp.features import (
    bootstrap,
    code_actions,
    completion,
    configuration,
    diagnostics,
    folding,
    hover,
    indexing,
    navigation,
    rename,
    runs,
    schema_info,
    startup,
    symbols,
)

__all__ = ["FEATURES"]

FEATURES: tuple[ModuleType, ...] = (
    startup,
    configuration,
    diagnostics,
    indexing,
    hover,
    completion,
    code_actions,
    symbols,
    folding,
    navigation,
    rename,
    schema_info,
    bootstrap,
    runs,
)
