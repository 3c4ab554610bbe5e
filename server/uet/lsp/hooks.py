"""Extension points through which one feature module contributes to a request another
module owns (pygls allows one handler per LSP method).

``ServerState.hooks`` holds them. A feature appends its hooks in its ``register(server)``,
so hooks run in the order of ``uet.lsp.features.FEATURES``. Every hook runs on the event
loop and must not block it (do I/O with ``server.in_pool``):

- ``code_actions``: awaited by ``textDocument/codeAction`` after the quick fixes; each
  returns extra actions (the bootstrap feature's ``source`` actions);
- ``hovers``: awaited by ``textDocument/hover`` with the schema's hover info of the key or
  value under the cursor; each returns that info, possibly extended;
- ``indexed``: called (not awaited) after an index sync brought the given folders in step
  with the disk; schedule any follow-up work with ``server.spawn``.

Besides hooks, a feature lists in ``deferred_imports`` the modules its handlers import
lazily (domain packages it needs only when a request comes: ``uet.bootstrap``, ...): they
stay out of the server's start-up and are imported in the background right after
``initialized`` (``features.startup``), so that the first request does not pay for them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

from lsprotocol import types

if TYPE_CHECKING:
    from uet.artifacts import FileReport
    from uet.artifacts.editing import HoverInfo
    from uet.lsp.server import UetLanguageServer

__all__ = ["CodeActionHook", "Hooks", "HoverHook", "IndexedHook"]

CodeActionHook: TypeAlias = Callable[
    ["UetLanguageServer", types.CodeActionParams], Awaitable[list[types.CodeAction]]
]
HoverHook: TypeAlias = Callable[
    ["UetLanguageServer", "FileReport", "HoverInfo"], Awaitable["HoverInfo"]
]
IndexedHook: TypeAlias = Callable[["UetLanguageServer", list[Path]], None]


@dataclass(slots=True, eq=False)
class Hooks:
    """The hooks features registered, in registration order."""

    code_actions: list[CodeActionHook] = field(default_factory=list)
    hovers: list[HoverHook] = field(default_factory=list)
    indexed: list[IndexedHook] = field(default_factory=list)
    deferred_imports: list[str] = field(default_factory=list)  # module names
