"""Bootstrap records (``uet.bootstrap``) → lsprotocol types: the bootstrap code actions, the
ranked choices of ``window/showMessageRequest`` and the one ``WorkspaceEdit`` a plan
becomes.

A sibling of ``uet.lsp.convert`` (whose position arithmetic it reuses): together they are
the only modules that build ``lsprotocol.types`` from domain data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lsprotocol import types

from uet.artifacts import LineIndex
from uet.lsp.convert import Encoding, to_position

if TYPE_CHECKING:  # uet.bootstrap is imported when the feature is first used
    from uet.bootstrap import PlannedFile, ProfileScore

__all__ = [
    "BOOTSTRAP_COMMAND",
    "PREVIEW_COMMAND",
    "SELECT_PROFILE_COMMAND",
    "EditTarget",
    "choice_title",
    "to_bootstrap_action",
    "to_bootstrap_edit",
    "to_message_actions",
    "to_select_action",
]

BOOTSTRAP_COMMAND = "uet.bootstrap"
SELECT_PROFILE_COMMAND = "uet.selectProfile"
PREVIEW_COMMAND = "uet.previewBootstrap"
_ORIGIN = types.Position(line=0, character=0)


@dataclass(frozen=True, slots=True)
class EditTarget:
    """One planned file and where it goes: its URI and, for a document the editor has open,
    the version the edit applies to. ``exists``: the file is on disk (even when its text
    could not be read, which ``previous_text is None`` then means)."""

    uri: str
    planned: PlannedFile
    version: int | None
    exists: bool


def to_bootstrap_action(
    score: ProfileScore, folder_uri: str, subject: str, *, preferred: bool
) -> types.CodeAction:
    """``UET: Bootstrap <subject> as <profile> (<score>: <signals>)``, running
    ``uet.bootstrap <profile> <folder>``."""
    title = f"UET: Bootstrap {subject} as {score.summary()}"
    return types.CodeAction(
        title=title,
        kind=types.CodeActionKind.Source,
        is_preferred=preferred or None,
        command=types.Command(
            title=title, command=BOOTSTRAP_COMMAND, arguments=[score.profile_id, folder_uri]
        ),
    )


def to_select_action(folder_uri: str, subject: str) -> types.CodeAction:
    """``UET: Choose a profile to bootstrap <subject>…``, running ``uet.selectProfile``."""
    title = f"UET: Choose a profile to bootstrap {subject}…"
    return types.CodeAction(
        title=title,
        kind=types.CodeActionKind.Source,
        command=types.Command(
            title=title, command=SELECT_PROFILE_COMMAND, arguments=[None, folder_uri]
        ),
    )


def choice_title(score: ProfileScore) -> str:
    """The button of one profile in the ``showMessageRequest``: its id alone (editors cut
    long buttons short; the message carries the scores and signals)."""
    return score.profile_id


def to_message_actions(offered: Sequence[ProfileScore]) -> list[types.MessageActionItem]:
    """One button per offered profile, in the order given (best first)."""
    return [types.MessageActionItem(title=choice_title(score)) for score in offered]


def to_bootstrap_edit(targets: Sequence[EditTarget], encoding: Encoding) -> types.WorkspaceEdit:
    """The whole plan as ONE ``WorkspaceEdit`` with ``documentChanges``, so the editor
    applies (and undoes) it as a unit: a new file is a ``CreateFile`` followed by an insert
    of its text; an existing file gets one ``TextEdit`` replacing its whole previous text
    (an unreadable one is re-created with ``overwrite``)."""
    changes: list[types.TextDocumentEdit | types.CreateFile | types.RenameFile | types.DeleteFile]
    changes = []
    for target in targets:
        planned = target.planned
        previous = planned.previous_text
        if previous is None:
            changes.append(
                types.CreateFile(
                    uri=target.uri,
                    options=types.CreateFileOptions(overwrite=True) if target.exists else None,
                )
            )
            previous = ""
            if not planned.text:
                continue  # the created file is already what was planned (.gitkeep)
        end = to_position(LineIndex(previous), len(previous), encoding)
        changes.append(
            types.TextDocumentEdit(
                text_document=types.OptionalVersionedTextDocumentIdentifier(
                    uri=target.uri, version=target.version
                ),
                edits=[
                    types.TextEdit(range=types.Range(start=_ORIGIN, end=end), new_text=planned.text)
                ],
            )
        )
    return types.WorkspaceEdit(document_changes=changes)
