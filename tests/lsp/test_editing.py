"""Hover, completion, quick fixes, symbols and folding over the real server."""

from __future__ import annotations

import pytest
from lsprotocol import types

from .conftest import Session, codes

pytestmark = pytest.mark.asyncio(loop_scope="session")  # every test on the served server

WORKSTREAM = "workstreams/build.yaml"


def at(text: str, marker: str, delta: int = 0) -> types.Position:
    """The position of the first ``marker`` in ``text`` (plus ``delta`` columns)."""
    offset = text.index(marker) + delta
    line = text.count("\n", 0, offset)
    column = offset - (text.rfind("\n", 0, offset) + 1)
    return types.Position(line=line, character=column)


def apply(text: str, edits: list[types.TextEdit]) -> str:
    """Apply LSP text edits (ASCII text: columns are code points)."""
    lines = text.split("\n")
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line) + 1)
    resolved = [
        (
            starts[edit.range.start.line] + edit.range.start.character,
            starts[edit.range.end.line] + edit.range.end.character,
            edit.new_text,
        )
        for edit in edits
    ]
    for start, end, new_text in sorted(resolved, reverse=True):
        text = text[:start] + new_text + text[end:]
    return text


def edits_of(edit: types.WorkspaceEdit) -> dict[str, list[types.TextEdit]]:
    """Edits per URI, from ``changes`` or ``documentChanges``."""
    if edit.changes is not None:
        return {uri: list(items) for uri, items in edit.changes.items()}
    found: dict[str, list[types.TextEdit]] = {}
    for change in edit.document_changes or []:
        assert isinstance(change, types.TextDocumentEdit)
        found.setdefault(change.text_document.uri, []).extend(change.edits)  # type: ignore[arg-type]
    return found


async def test_hover_shows_description_and_allowed_values(served: Session) -> None:
    text = (served.root / WORKSTREAM).read_text()
    uri = served.open(WORKSTREAM, text)
    hover = await served.client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri), position=at(text, "fail_fast", 2)
        )
    )
    assert hover is not None and isinstance(hover.contents, types.MarkupContent)
    value = hover.contents.value
    assert "Reaction to a failed task." in value
    assert "escalate" in value and "Stop and hand the decision to a human." in value
    assert "workstream_spec" in value
    assert hover.range == types.Range(start=at(text, "fail_fast"), end=at(text, "fail_fast", 9))


async def complete(
    session: Session, uri: str, position: types.Position
) -> dict[str, types.CompletionItem]:
    result = await session.client.text_document_completion_async(
        types.CompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri), position=position
        )
    )
    assert isinstance(result, types.CompletionList)
    return {item.label: item for item in result.items}


async def test_completion_offers_keys_values_and_ids(served: Session) -> None:
    text = (served.root / WORKSTREAM).read_text()
    uri = served.open(WORKSTREAM, text)
    # A new key in the second task: keys not written yet, not the ones present.
    edited = text.replace("    tool: pytest\n", "    tool: pytest\n    \n")
    served.replace(uri, edited)
    items = await complete(served, uri, at(edited, "    tool: pytest\n    \n", 17 + 4))
    assert "allow_parallel" in items and "tool" not in items and "task_id" not in items
    # Enum values with their descriptions.
    items = await complete(served, uri, at(edited, "fail_fast"))
    assert {"fail_fast", "continue", "escalate"} <= set(items)
    # Task ids of this workstream in depends_on (the entry being edited, never the task
    # itself), phase ids, app ids.
    items = await complete(served, uri, at(edited, "[lint]", 1))
    assert "lint" in items and "test" not in items
    items = await complete(served, uri, at(edited, "PH-BUILD"))
    assert "PH-BUILD" in items
    items = await complete(served, uri, at(edited, "tool: ruff", 6))
    assert {"ruff", "pytest"} <= set(items)


async def test_key_completion_is_a_snippet_where_the_client_expands_them(
    served: Session,
) -> None:
    """VS Code gets the value's skeleton as a snippet; Neovim 0.7 (no snippet support)
    gets plain text."""
    text = (served.root / WORKSTREAM).read_text()
    uri = served.open(WORKSTREAM, text)
    edited = text.replace("error_handling:\n  strategy: fail_fast\n", "error_handling:\n  \n")
    served.replace(uri, edited)
    items = await complete(served, uri, at(edited, "error_handling:\n  \n", 18))
    strategy = items["strategy"]
    assert strategy.text_edit is not None
    if served.profile == "neovim":
        assert strategy.insert_text_format in (None, types.InsertTextFormat.PlainText)
        assert strategy.text_edit.new_text == "strategy: "
    else:
        assert strategy.insert_text_format == types.InsertTextFormat.Snippet
        assert strategy.text_edit.new_text == "strategy: ${1|fail_fast,continue,escalate|}"
    items = await complete(served, uri, at(edited, "tasks:", 5))  # retyping the key
    assert items["tasks"].text_edit is not None
    expected = "tasks:" if served.profile == "neovim" else "tasks:\n  - $0"
    assert items["tasks"].text_edit.new_text == expected


async def test_quick_fixes_repair_the_document(served: Session) -> None:
    text = (served.root / WORKSTREAM).read_text()
    broken = (
        text.replace("name: Build and test\n", "")
        .replace("strategy: fail_fast", "strategy: fail_fst")
        .replace("    kind: lint\n", "    kind: lint\n    tol: ruff\n    extra: 1\n")
        .replace("    tool: ruff\n", "")
    )
    uri = served.open(WORKSTREAM, broken)
    diagnostics = await served.diagnostics(uri)
    assert sorted(codes(diagnostics)) == ["UET202", "UET203", "UET203", "UET204"]
    actions = await served.client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=types.Range(start=types.Position(line=0, character=0), end=at(broken, "tasks:")),
            context=types.CodeActionContext(diagnostics=diagnostics),
        )
    )
    assert actions is not None
    titles = {action.title for action in actions if isinstance(action, types.CodeAction)}
    assert "Add missing property 'name'" in titles
    assert "Rename 'tol' to 'tool'" in titles
    assert "Remove property 'extra'" in titles
    assert {'Replace with "fail_fast"', 'Replace with "escalate"'} <= titles
    chosen = [
        action
        for action in actions
        if isinstance(action, types.CodeAction)
        and action.title
        in (
            "Add missing property 'name'",
            "Rename 'tol' to 'tool'",
            "Remove property 'extra'",
            'Replace with "fail_fast"',
        )
    ]
    assert all(action.kind == types.CodeActionKind.QuickFix for action in chosen)
    fixed = broken
    for action in sorted(chosen, key=lambda a: -a.diagnostics[0].range.start.line):  # type: ignore[index]
        assert action.edit is not None
        (edits,) = edits_of(action.edit).values()
        fixed = apply(fixed, edits)
    # The added ``name`` fits its schema (minLength 1): nothing is left to fix by hand.
    assert "\nname: name" in fixed
    served.replace(uri, fixed)
    assert await served.diagnostics(uri) == []


async def test_document_symbols_nest_tasks_under_the_workstream(served: Session) -> None:
    uri = served.open(WORKSTREAM)
    symbols = await served.client.text_document_document_symbol_async(
        types.DocumentSymbolParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )
    assert symbols is not None
    (workstream,) = symbols
    assert isinstance(workstream, types.DocumentSymbol)
    assert workstream.name == "Build and test"
    assert [child.name for child in workstream.children or []] == [
        "Lint the sources",
        "Run the tests",
    ]


async def test_folding_ranges_for_yaml_and_json(served: Session) -> None:
    for relative, expected in ((WORKSTREAM, (8, 17)), ("router_config.json", (2, 12))):
        uri = served.open(relative)
        folds = await served.client.text_document_folding_range_async(
            types.FoldingRangeParams(text_document=types.TextDocumentIdentifier(uri=uri))
        )
        assert folds is not None
        assert expected in {(fold.start_line, fold.end_line) for fold in folds}


async def code_actions(
    session: Session, uri: str, diagnostics: list[types.Diagnostic]
) -> list[types.CodeAction]:
    """The code actions offered for ``diagnostics`` (at the first one's range)."""
    actions = await session.client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=diagnostics[0].range,
            context=types.CodeActionContext(diagnostics=diagnostics),
        )
    )
    return [action for action in actions or [] if isinstance(action, types.CodeAction)]


async def test_the_suggested_fix_is_first_and_preferred(served: Session) -> None:
    """Pressing 1 in Neovim's list applies the did-you-mean, not the first allowed value."""
    text = (served.root / WORKSTREAM).read_text()
    broken = text.replace("strategy: fail_fast", "strategy: contnue")
    uri = served.open(WORKSTREAM, broken)
    diagnostics = await served.diagnostics(uri)
    assert codes(diagnostics) == ["UET204"]
    actions = await code_actions(served, uri, diagnostics)
    assert [action.title for action in actions][:2] == [
        'Replace with "continue"',
        'Replace with "fail_fast"',
    ]
    assert [bool(action.is_preferred) for action in actions] == [True] + [False] * (
        len(actions) - 1
    )


async def test_an_unknown_or_self_dependency_can_be_removed(served: Session) -> None:
    text = (served.root / WORKSTREAM).read_text()
    broken = text.replace("depends_on: [lint]", "depends_on: [lint, nowhere, test]")
    uri = served.open(WORKSTREAM, broken)
    diagnostics = await served.diagnostics(uri)
    assert sorted(codes(diagnostics)) == ["UET302", "UET307"]
    fixed = broken
    for code, after in (
        ("UET307", "depends_on: [lint, nowhere]"),
        ("UET302", "depends_on: [lint]"),
    ):
        diagnostic = next(item for item in diagnostics if item.code == code)
        (action,) = await code_actions(served, uri, [diagnostic])
        assert action.kind == types.CodeActionKind.QuickFix
        assert action.is_preferred == (True if code == "UET307" else None)
        assert action.edit is not None
        (edits,) = edits_of(action.edit).values()
        fixed = apply(fixed, edits)
        assert after + "\n" in fixed
        served.replace(uri, fixed)
        diagnostics = await served.diagnostics(uri)
    assert diagnostics == []


async def test_depends_on_completion_offers_only_other_tasks_not_listed(served: Session) -> None:
    """Accepting what is offered never yields 'depends on itself' or a duplicate."""
    text = (served.root / WORKSTREAM).read_text()
    more = "  - task_id: docs\n    name: Docs\n    kind: docs\n"
    grown = text + more
    uri = served.open(WORKSTREAM, grown)
    assert await served.diagnostics(uri) == []
    # As typed: the bracket closed by the editor, then (Neovim) a bracket not closed yet.
    for typing in (
        grown.replace("depends_on: [lint]", "depends_on: [lint, ]"),
        grown.replace("depends_on: [lint]", "depends_on: [lint, "),
    ):
        served.replace(uri, typing)
        items = await complete(served, uri, at(typing, "[lint, ", 7))
        ids = {label for label, item in items.items() if item.detail == "task id"}
        assert ids == {"docs"}, typing
    chosen = items["docs"]
    assert chosen.text_edit is not None
    accepted = typing.replace("[lint, ", "[lint, " + chosen.text_edit.new_text + "]")
    served.replace(uri, accepted)
    assert await served.diagnostics(uri) == []


async def test_did_you_mean_names_what_the_user_meant_or_nothing(served: Session) -> None:
    """'retries' is 'execution.max_attempts' (a synonym the schema lists), not the
    far-fetched 'resource_scope_delta.create'; 'deps' is renamed to 'depends_on' by the
    preferred fix; a key like nothing gets the allowed keys instead of a guess."""
    text = (served.root / WORKSTREAM).read_text()
    broken = text.replace(
        "    tool: ruff\n", "    tool: ruff\n    retries: 3\n    deps: []\n    bananas: 1\n"
    )
    uri = served.open(WORKSTREAM, broken)
    diagnostics = await served.diagnostics(uri)
    messages = {item.message.split(";")[0].split(" (")[0]: item for item in diagnostics}
    assert messages["unknown property 'retries'"].message == (
        "unknown property 'retries'; did you mean 'execution.max_attempts'?"
    )
    deps = messages["unknown property 'deps'"]
    assert deps.message == "unknown property 'deps'; did you mean 'depends_on'?"
    bananas = messages["unknown property 'bananas'"].message
    assert "did you mean" not in bananas and "allowed: " in bananas
    actions = await code_actions(served, uri, [deps])
    assert [(action.title, action.is_preferred) for action in actions] == [
        ("Rename 'deps' to 'depends_on'", True),
        ("Remove property 'deps'", None),
    ]
