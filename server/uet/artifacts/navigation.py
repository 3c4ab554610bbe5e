"""Go to definition, find references and rename for ids across artifacts.

An id (workstream, task, phase, app, profile) is written where it is defined (a ``Symbol``)
and where it is used (a ``Reference``); the workspace index knows both. Task ids are scoped
to their workstream, so renaming a task never touches another workstream.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from uet.artifacts.facts import Reference, Symbol
from uet.artifacts.index import Located, WorkspaceIndex
from uet.artifacts.quickfix import TextEdit, replace_scalar

__all__ = ["IDENTIFIER", "Target", "definitions", "references", "rename_edits", "target_at"]

# The shape of every id (common.schema.json#/$defs/identifier).
IDENTIFIER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")


@dataclass(frozen=True, slots=True)
class Target:
    """The id under the cursor."""

    kind: str
    id: str
    scope: str
    item: Symbol | Reference


def target_at(index: WorkspaceIndex, path: str, offset: int) -> Target | None:
    """The id defined or used at ``offset`` of ``path``."""
    item = index.at(path, offset)
    if item is None:
        return None
    return Target(item.kind, item.id, item.scope, item)


def definitions(index: WorkspaceIndex, target: Target) -> list[Located]:
    """Where the target's id is defined."""
    return index.definitions(target.kind, target.id, target.scope)


def references(
    index: WorkspaceIndex, target: Target, include_declaration: bool = True
) -> list[Located]:
    """Every use of the target's id (and its definitions when asked)."""
    found = list(index.references(target.kind, target.id, target.scope))
    if include_declaration:
        found = definitions(index, target) + found
    return found


def rename_edits(
    index: WorkspaceIndex, target: Target, new_id: str
) -> tuple[dict[str, list[TextEdit]], str | None]:
    """Edits per file renaming every definition and use; or a reason it is refused."""
    if not IDENTIFIER.match(new_id):
        return {}, (
            f"'{new_id}' is not a valid id: use letters, digits and . _ : - "
            "(starting with a letter or digit)"
        )
    edits: dict[str, list[TextEdit]] = {}
    seen: set[tuple[str, int]] = set()
    for located in references(index, target, include_declaration=True):
        report = index.report(located.path)
        span = located.item.span
        if report is None or (located.path, span.start) in seen:
            continue
        seen.add((located.path, span.start))
        edits.setdefault(located.path, []).append(replace_scalar(report.parsed, span, new_id))
    return edits, None
