"""Public names of a package loaded on first use (PEP 562), written once for every package.

``uet.artifacts``, ``uet.bootstrap`` and ``uet.engine`` export names defined in their
submodules without importing those submodules up front: importing the package costs
nothing, and each name brings only its own module (the CLI and the server start faster,
and ``uet run`` never loads, say, the monitoring queries). A package keeps its
``TYPE_CHECKING`` imports of the same names, so type checkers and editors see them.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, MutableMapping
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(
    package: str, sources: Mapping[str, str], namespace: MutableMapping[str, Any]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The module ``__getattr__`` and ``__dir__`` of ``package``.

    ``sources`` maps each public name to the module defining it. A name is imported from its
    module on first access and stored in ``namespace`` (the package's ``globals()``), so
    later accesses are plain attribute lookups.
    """

    def __getattr__(name: str) -> Any:
        source = sources.get(name)
        if source is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(source), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted({*namespace, *sources})

    return __getattr__, __dir__
