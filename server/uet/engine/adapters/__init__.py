"""Adapters execute single attempts; the registry maps router apps to adapters."""

from uet.engine.adapters.base import (
    Adapter,
    AdapterRequest,
    AdapterResult,
    AttemptStatus,
    OutputSink,
    SpawnHook,
)
from uet.engine.adapters.registry import AdapterRegistry, build_registry
from uet.engine.adapters.subprocess import SubprocessAdapter

__all__ = [
    "Adapter",
    "AdapterRegistry",
    "AdapterRequest",
    "AdapterResult",
    "AttemptStatus",
    "OutputSink",
    "SpawnHook",
    "SubprocessAdapter",
    "build_registry",
]
