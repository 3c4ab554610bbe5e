"""Running workstreams from the editor: commands, code lenses and actions, progress, results.

One feature in several modules, each owning one part (start here, then follow a run):

- ``commands``: the ``uet.*Run*`` commands, async adapters over ``control``;
- ``control``: starting, resuming, cancelling and finding runs; the ``RunBoard`` of the
  runs this server follows (one run per workstream file at a time);
- ``trust``: nothing starts in a workspace that is not trusted;
- ``progress``: following one run: engine events to the loop, work-done progress,
  ``uet/runStatus``, the closing summary;
- ``results``: run outcomes as diagnostics on the workstream's tasks (UET401/402/403);
- ``history``: the results of runs this server did not execute (``uet run``, other
  sessions), read after each index sync and when a run store changes;
- ``store``: what is read from the run stores (thread pool only);
- ``editor``: where users click: code lenses and code actions;
- ``exit``: the end of ``uet serve`` stops every run it executes.

Shutdown cancels every run the server executes: their processes would outlive it
otherwise. Importing this package does not load ``uet.engine``: the engine is imported by
the first run or run-store read, in the thread pool.
"""

from __future__ import annotations

from uet.lsp.features.runs import commands, editor, history, results
from uet.lsp.features.runs.control import RunBoard
from uet.lsp.server import UetLanguageServer

__all__ = ["register"]


def register(server: UetLanguageServer) -> None:
    """Add the run commands, code lenses and code actions, the run results and the past
    runs' results."""
    board = RunBoard()
    results.install(server, board.results)
    watcher = history.install(server, board)
    commands.register(server, board)
    editor.register(server, board)

    async def shut_down(ls: UetLanguageServer) -> None:
        watcher.stop()
        await commands.stop_runs(ls, board)

    server.state.hooks.shutdown.append(shut_down)
