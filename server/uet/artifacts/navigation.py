"""Go to definition, find references and rename for ids across artifacts.

An id (workstream, task, phase, app, profile) is written where it is defined (a ``Symbol``)
and where it is used (a ``Reference``); the workspace index knows both. Task ids are scoped
to their workstream file: a ``depends_on`` entry resolves only to the tasks of its own file
(two files that share a ``workstream_id`` are a UET301 error, not one workstream), so
renaming a task never touches another file. Other ids are looked up in the workspace of
the file they are written in: a nested project's ids are its own.

A rename is refused, with a message saying why, when the new id is already defined (two
definitions would become one), when the schema rejects it at any place it would be written,
or when the id has no definition in the workspace to rename.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from uet.artifacts.facts import PROFILE, TASK, Reference, Symbol
from uet.artifacts.fitting import first_new_error, place_of
from uet.artifacts.index import Located, WorkspaceIndex
from uet.artifacts.positions import Span
from uet.artifacts.quickfix import TextEdit, replace_scalar
from uet.artifacts.registry import SchemaRegistry
from uet.artifacts.tree import Document

__all__ = [
    "Target",
    "definitions",
    "references",
    "rename_edits",
    "rename_refusal",
    "target_at",
]


@dataclass(frozen=True, slots=True)
class Target:
    """The id under the cursor; ``scope`` is what its lookups are limited to (for a task,
    the path of its workstream file), ``workspace`` the workspace of the file it is in."""

    kind: str
    id: str
    scope: str
    item: Symbol | Reference
    workspace: str = ""


def target_at(index: WorkspaceIndex, path: str, offset: int) -> Target | None:
    """The id defined or used at ``offset`` of ``path``."""
    item = index.at(path, offset)
    if item is None:
        return None
    scope = path if item.kind == TASK else item.scope
    return Target(item.kind, item.id, scope, item, index.workspace_of(path))


def definitions(index: WorkspaceIndex, target: Target) -> list[Located]:
    """Where the target's id is defined."""
    return index.definitions(target.kind, target.id, target.scope, target.workspace)


def references(
    index: WorkspaceIndex, target: Target, include_declaration: bool = True
) -> list[Located]:
    """Every use of the target's id (and its definitions when asked)."""
    found = list(index.references(target.kind, target.id, target.scope, target.workspace))
    if include_declaration:
        found = definitions(index, target) + found
    return found


def rename_refusal(index: WorkspaceIndex, target: Target) -> str | None:
    """Why the target's id cannot be renamed at all (``None``: it can)."""
    if definitions(index, target):
        return None
    if target.kind == PROFILE and target.id in index.ids(PROFILE, workspace=target.workspace):
        return f"'{target.id}' is a built-in profile: it cannot be renamed"
    return f"{target.kind} '{target.id}' is not defined in this workspace: nothing to rename"


def rename_edits(
    index: WorkspaceIndex, registry: SchemaRegistry, target: Target, new_id: str
) -> tuple[dict[str, list[TextEdit]], str | None]:
    """Edits per file renaming every definition and use; or the reason it is refused."""
    refusal = rename_refusal(index, target)
    if refusal is not None:
        return {}, refusal
    if new_id != target.id:
        taken = index.definitions(target.kind, new_id, target.scope, target.workspace)
        in_use = index.ids(PROFILE, workspace=target.workspace) if target.kind == PROFILE else []
        if taken or new_id in in_use:
            where = f" (in {taken[0].path})" if taken else ""
            return {}, (
                f"{target.kind} id '{new_id}' already exists{where}: renaming "
                f"'{target.id}' to it would make two {target.kind}s one"
            )
    edits: dict[str, list[TextEdit]] = {}
    spans: dict[str, list[Span]] = {}
    for located in references(index, target, include_declaration=True):
        report = index.report(located.path)
        span = located.item.span
        if report is None or span in spans.get(located.path, ()):
            continue
        spans.setdefault(located.path, []).append(span)
        edits.setdefault(located.path, []).append(replace_scalar(report.parsed, span, new_id))
    for path, written in spans.items():
        report = index.report(path)
        if report is None:
            continue
        problem = _rejected(registry, report.schema, report.parsed.documents, written, new_id)
        if problem is not None:
            return {}, f"'{new_id}' is not a valid id for this {target.kind}: {problem}"
    return edits, None


def _rejected(
    registry: SchemaRegistry,
    schema: str | None,
    documents: Sequence[Document],
    spans: Sequence[Span],
    new_id: str,
) -> str | None:
    """What the schema says against writing ``new_id`` at every one of ``spans`` of a file
    (``None``: nothing); one validation per document."""
    if schema is None:
        return None
    for document in documents:
        if document.root is None:
            continue
        places = [place_of(document, span) for span in spans]
        changes = [(place, new_id) for place in places if place is not None]
        if changes:
            problem = first_new_error(registry, schema, document.root.value, changes)
            if problem is not None:
                return problem
    return None
