"""Where users click to run: code lenses and code actions.

Code lenses "▶ Run workstream" above a workstream and "▶ Run task" above each task; while a
run of the file executes, only "■ Cancel run" in their place, and a workstream with errors
gets none (``workspace/codeLens/refresh`` is sent when runs
start and end, if the client supports it). Clients without code lens (Neovim ≤ 0.10) get
the same as ``source`` code actions on the workstream / the task under the cursor. Every
client gets "Open the log of task …" for a run-result diagnostic (UET401/402).

Both are contributions (``uet.lsp.hooks``) to ``textDocument/codeLens`` and
``textDocument/codeAction``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from lsprotocol import types

from uet.artifacts import FileReport, Span
from uet.artifacts.facts import TASK, WORKSTREAM, FileFacts, extract_facts
from uet.lsp import convert, documents
from uet.lsp.features.runs.commands import CANCEL_RUN, OPEN_LOG, RUN_TASK, RUN_WORKSTREAM
from uet.lsp.features.runs.control import RunBoard, refusal_problems
from uet.lsp.server import UetLanguageServer

__all__ = ["register", "source_wanted"]

WORKSTREAM_SCHEMA = "workstream_spec"
_RESULT_CODES = frozenset({"UET401", "UET402"})


def register(server: UetLanguageServer, board: RunBoard) -> None:
    """Contribute the run code lenses and code actions."""

    async def code_lenses(
        ls: UetLanguageServer, params: types.CodeLensParams
    ) -> list[types.CodeLens] | None:
        found = await _workstream_facts(ls, params.text_document.uri)
        if found is None:
            return None
        report, facts = found
        if board.running_file(report.path) is None and refusal_problems(ls, report.path):
            return []  # it cannot run: no "▶ Run" that would only be refused
        return [
            types.CodeLens(range=_line_start(ls, report, span), command=command)
            for span, command in _commands(board, report, facts, None)
        ]

    async def run_actions(
        ls: UetLanguageServer, params: types.CodeActionParams
    ) -> list[types.CodeAction]:
        actions = await ls.in_pool(_log_actions, params.context.diagnostics)
        if ls.state.client.code_lens or not source_wanted(params.context.only):
            return actions
        found = await _workstream_facts(ls, params.text_document.uri)
        if found is None:
            return actions
        report, facts = found
        if board.running_file(report.path) is None and refusal_problems(ls, report.path):
            return actions
        index = report.parsed.line_index
        cursor = convert.to_offset(index, params.range.start, ls.encoding)
        for _, command in _commands(board, report, facts, cursor):
            actions.append(
                types.CodeAction(
                    title=command.title, kind=types.CodeActionKind.Source, command=command
                )
            )
        return actions

    hooks = server.state.hooks
    hooks.code_lenses.append(code_lenses)
    hooks.add_code_actions(run_actions, types.CodeActionKind.QuickFix, types.CodeActionKind.Source)


def source_wanted(only: Sequence[str] | None) -> bool:
    """Whether a ``context.only`` filter lets ``source`` actions through."""
    source = types.CodeActionKind.Source.value
    return not only or any(kind == source or source.startswith(f"{kind}.") for kind in only)


async def _workstream_facts(
    server: UetLanguageServer, uri: str
) -> tuple[FileReport, FileFacts] | None:
    """The current report and facts of a workstream document (``None`` for other files)."""
    report = await documents.current_report(server, uri)
    if report is None or report.schema != WORKSTREAM_SCHEMA:
        return None
    facts = server.state.index.facts(report.path)
    if facts is None or server.state.index.report(report.path) is not report:
        facts = extract_facts(report.path, report.schema, report.parsed.documents)
    return report, facts


def _commands(
    board: RunBoard, report: FileReport, facts: FileFacts, cursor: int | None
) -> list[tuple[Span, types.Command]]:
    """The run commands of a workstream file, each with the node it belongs to. With a
    ``cursor`` (code actions), only the tasks whose node holds it. While the file's run
    executes, only "■ Cancel run" (one run per workstream at a time); a file with errors
    gets none (it cannot run; a run command would be refused with them)."""
    uri = convert.uri_of(report.path)
    running = board.running_file(report.path)
    found: list[tuple[Span, types.Command]] = []
    for symbol in facts.symbols:
        span = symbol.node_span
        if symbol.kind == WORKSTREAM:
            command = (
                types.Command(title="▶ Run workstream", command=RUN_WORKSTREAM, arguments=[uri])
                if running is None
                else types.Command(
                    title="■ Cancel run", command=CANCEL_RUN, arguments=[running.run_id]
                )
            )
            found.append((span, command))
        elif (
            symbol.kind == TASK
            and running is None
            and (cursor is None or span.start <= cursor <= span.end)
        ):
            title = "▶ Run task" if cursor is None else f"▶ Run task {symbol.id}"
            found.append(
                (span, types.Command(title=title, command=RUN_TASK, arguments=[uri, symbol.id]))
            )
    return found


def _line_start(server: UetLanguageServer, report: FileReport, span: Span) -> types.Range:
    at = Span(span.start, span.start)
    return convert.to_range(report.parsed.line_index, at, server.encoding)


def _log_actions(diagnostics: Sequence[types.Diagnostic]) -> list[types.CodeAction]:
    """ "Open the log" for the run-result diagnostics the client sends back whose log file
    exists (a task that printed nothing has none; a log may have been deleted since).
    Looks at files: runs in the thread pool."""
    actions: list[types.CodeAction] = []
    for diagnostic in diagnostics:
        data = diagnostic.data if isinstance(diagnostic.data, dict) else {}
        run_id, task_id = data.get("run_id"), data.get("task_id")
        if diagnostic.code not in _RESULT_CODES or not isinstance(run_id, str):
            continue
        log_path = data.get("log_path")
        if not isinstance(log_path, str) or not Path(log_path).is_file():
            continue
        actions.append(
            types.CodeAction(
                title=f"Open the log of task '{task_id}'",
                kind=types.CodeActionKind.QuickFix,
                diagnostics=[diagnostic],
                command=types.Command(
                    title="Open log", command=OPEN_LOG, arguments=[run_id, str(task_id)]
                ),
            )
        )
    return actions
