"""How features meet: the contributions one feature makes to requests and events that no
single feature owns (pygls allows one handler per LSP method), and the handlers that
collect them.

``ServerState.hooks`` holds them. A feature adds its contributions in its
``register(server)``, so they run in the order of ``uet.lsp.features.FEATURES``. Every
contribution runs on the event loop and must not block it (do I/O with
``server.in_pool``):

- ``code_actions`` (``add_code_actions``): each returns actions for a
  ``textDocument/codeAction`` request (quick fixes, bootstrap's ``source`` actions, the
  run actions); the answer lists them in contribution order;
- ``code_lenses``: each returns lenses for ``textDocument/codeLens`` (``None``: the
  document is none of its business);
- ``commands`` (``add_command``): one handler per ``workspace/executeCommand`` name;
  ``cancellable`` ones are cancelled by ``$/cancelRequest`` (see ``cancellable``);
- ``hovers``: awaited by ``textDocument/hover`` (through ``ask``) with the schema's hover
  info of the key or value under the cursor; each returns that info, possibly extended;
- ``indexed``: called (not awaited) after an index sync brought the given folders in step
  with the disk; schedule any follow-up work with ``server.spawn``;
- ``shutdown``: awaited on ``shutdown``, after indexing was stopped.

``install`` registers the one handler of each method several features contribute to, once
every feature registered (``create_server``). Contributions are asked through ``ask``: one
that raises is reported through the error barrier (``report_server_error``: logged with its
traceback, shown once per session) and left out of the answer: the other features' actions,
lenses and hover text still arrive, and the other shutdown work still runs.

Besides hooks, a feature lists in ``deferred_imports`` the modules its handlers import
lazily (domain packages it needs only when a request comes: ``uet.bootstrap``, ...): they
stay out of the server's start-up and are imported in the background right after
``initialized`` (``features.startup``), so that the first request does not pay for them.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias, TypeVar

from lsprotocol import types

if TYPE_CHECKING:
    from uet.artifacts import FileReport
    from uet.artifacts.editing import HoverInfo
    from uet.lsp.server import UetLanguageServer

__all__ = [
    "CodeActionHook",
    "CodeLensHook",
    "CommandHook",
    "Hooks",
    "HoverHook",
    "IndexedHook",
    "ShutdownHook",
    "ask",
    "cancellable",
    "install",
    "shut_down",
]

T = TypeVar("T")
CodeActionHook: TypeAlias = Callable[
    ["UetLanguageServer", types.CodeActionParams], Awaitable[list[types.CodeAction]]
]
CodeLensHook: TypeAlias = Callable[
    ["UetLanguageServer", types.CodeLensParams], Awaitable[list[types.CodeLens] | None]
]
# ``(server, *arguments)``: the command's arguments as the client sent them.
CommandHook: TypeAlias = Callable[..., Awaitable[Any]]
HoverHook: TypeAlias = Callable[
    ["UetLanguageServer", "FileReport", "HoverInfo"], Awaitable["HoverInfo"]
]
IndexedHook: TypeAlias = Callable[["UetLanguageServer", list[Path]], None]
ShutdownHook: TypeAlias = Callable[["UetLanguageServer"], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Command:
    """A command a feature contributes."""

    run: CommandHook
    cancellable: bool


@dataclass(slots=True, eq=False)
class Hooks:
    """The contributions features registered, in registration order."""

    code_actions: list[CodeActionHook] = field(default_factory=list)
    code_action_kinds: list[str] = field(default_factory=list)  # what codeAction offers
    code_lenses: list[CodeLensHook] = field(default_factory=list)
    commands: dict[str, Command] = field(default_factory=dict)
    hovers: list[HoverHook] = field(default_factory=list)
    indexed: list[IndexedHook] = field(default_factory=list)
    shutdown: list[ShutdownHook] = field(default_factory=list)
    deferred_imports: list[str] = field(default_factory=list)  # module names

    def add_code_actions(self, provide: CodeActionHook, *kinds: types.CodeActionKind) -> None:
        """Contribute code actions of the given kinds (declared in the server's
        capabilities)."""
        self.code_actions.append(provide)
        for kind in kinds:
            if kind.value not in self.code_action_kinds:
                self.code_action_kinds.append(kind.value)

    def add_command(self, name: str, run: CommandHook, *, cancellable: bool = False) -> None:
        """Contribute the command ``name``; ``cancellable``: ``$/cancelRequest`` of its
        request cancels it (a command that waits for a run or for the user)."""
        if name in self.commands:
            raise ValueError(f"the command {name} is contributed twice")
        self.commands[name] = Command(run, cancellable)


def install(server: UetLanguageServer) -> None:
    """Register ``textDocument/codeAction``, ``textDocument/codeLens`` (when a feature
    contributes to them) and the contributed commands."""
    hooks = server.state.hooks
    if hooks.code_actions:
        kinds = [types.CodeActionKind(kind) for kind in hooks.code_action_kinds]

        @server.feature(
            types.TEXT_DOCUMENT_CODE_ACTION, types.CodeActionOptions(code_action_kinds=kinds)
        )
        async def code_action(
            ls: UetLanguageServer, params: types.CodeActionParams
        ) -> list[types.CodeAction] | None:
            actions: list[types.CodeAction] = []
            for provide in ls.state.hooks.code_actions:
                actions.extend(await ask(ls, provide, params) or ())
            return actions or None

    if hooks.code_lenses:

        @server.feature(types.TEXT_DOCUMENT_CODE_LENS)
        async def code_lens(
            ls: UetLanguageServer, params: types.CodeLensParams
        ) -> list[types.CodeLens] | None:
            answers = [await ask(ls, provide, params) for provide in ls.state.hooks.code_lenses]
            given = [answer for answer in answers if answer is not None]
            return [lens for answer in given for lens in answer] if given else None

    for name, command in hooks.commands.items():
        run = _cancellable_command(command.run) if command.cancellable else command.run
        server.command(name)(run)


async def shut_down(server: UetLanguageServer) -> None:
    """Await every ``shutdown`` contribution (one that fails does not stop the others)."""
    for stop in server.state.hooks.shutdown:
        await ask(server, stop)


@contextmanager
def cancellable(server: UetLanguageServer) -> Iterator[None]:
    """Let ``$/cancelRequest`` of the request being handled cancel the current task: pygls
    runs a command behind its own ``workspace/executeCommand`` handler and would cancel only
    that (``UetProtocol`` cancels what is registered here)."""
    msg_id = server.protocol.msg_id
    task = asyncio.current_task()
    if msg_id is not None and task is not None:
        server.command_tasks[msg_id] = task
    try:
        yield
    finally:
        if msg_id is not None:
            server.command_tasks.pop(msg_id, None)


def _cancellable_command(run: CommandHook) -> CommandHook:
    """``run`` within ``cancellable``; pygls reads the signature (and the argument types)
    of ``run`` through ``functools.wraps``."""

    @functools.wraps(run)
    async def cancellable_run(ls: UetLanguageServer, *arguments: Any) -> Any:
        with cancellable(ls):
            return await run(ls, *arguments)

    return cancellable_run


async def ask(
    server: UetLanguageServer, provide: Callable[..., Awaitable[T]], *arguments: Any
) -> T | None:
    """What one contribution answers to ``arguments``; ``None`` when it failed (reported
    through the error barrier, not raised)."""
    try:
        return await provide(server, *arguments)
    except Exception as error:  # one feature's bug must not cost the others their answer
        server.report_server_error(error, provide)
        return None
