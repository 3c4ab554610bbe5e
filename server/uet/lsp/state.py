"""The server's state: what the client can do, the settings, the index and open documents.

One ``ServerState`` per server, touched only on the event loop (the workspace index is not
thread-safe; worker threads receive immutable snapshots and return reports). Nothing here
talks to the client.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.capabilities import get_capability

from uet.artifacts import (
    AssociationSettings,
    CheckSettings,
    Diagnostic,
    FileReport,
    SchemaRegistry,
)
from uet.artifacts.index import WorkspaceIndex
from uet.artifacts.workspace import builtin_profile_ids
from uet.lsp.hooks import Hooks
from uet.settings import Settings

__all__ = [
    "ClientFeatures",
    "DiagnosticSource",
    "DocumentState",
    "ServerState",
    "check_settings_of",
]

Stamp = tuple[int, int]  # (mtime_ns, size) of a file on disk
# Diagnostics of a path that do not come from checking the file (run results); called on
# the event loop for every publish and pull, so it must only read memory.
DiagnosticSource = Callable[[str], Sequence[Diagnostic]]


@dataclass(frozen=True, slots=True)
class ClientFeatures:
    """The client capabilities the server acts on (every server→client request is gated)."""

    pull_diagnostics: bool = False
    diagnostic_refresh: bool = False
    configuration: bool = False
    watched_files_dynamic: bool = False
    configuration_change_dynamic: bool = False
    work_done_progress: bool = False
    document_changes: bool = False
    resource_create: bool = False  # CreateFile in a WorkspaceEdit (with document_changes)
    markdown_hover: bool = False
    markdown_completion: bool = False
    completion_snippets: bool = False
    # Multi-line snippets need the editor to indent inserted lines like the cursor's line.
    completion_adjust_indentation: bool = False
    hierarchical_symbols: bool = False
    folding_range_limit: int | None = None
    show_message_request: bool = False
    show_document: bool = False
    code_lens: bool = False
    code_lens_refresh: bool = False

    @classmethod
    def from_capabilities(cls, caps: types.ClientCapabilities) -> ClientFeatures:
        """Read the flags from the ``initialize`` capabilities."""
        hover_formats = get_capability(caps, "text_document.hover.content_format", None) or []
        completion_formats = (
            get_capability(
                caps, "text_document.completion.completion_item.documentation_format", None
            )
            or []
        )
        return cls(
            pull_diagnostics=get_capability(caps, "text_document.diagnostic", None) is not None,
            diagnostic_refresh=bool(
                get_capability(caps, "workspace.diagnostics.refresh_support", False)
            ),
            configuration=bool(get_capability(caps, "workspace.configuration", False)),
            watched_files_dynamic=bool(
                get_capability(
                    caps, "workspace.did_change_watched_files.dynamic_registration", False
                )
            ),
            configuration_change_dynamic=bool(
                get_capability(
                    caps, "workspace.did_change_configuration.dynamic_registration", False
                )
            ),
            work_done_progress=bool(get_capability(caps, "window.work_done_progress", False)),
            document_changes=bool(
                get_capability(caps, "workspace.workspace_edit.document_changes", False)
            ),
            resource_create=types.ResourceOperationKind.Create
            in (get_capability(caps, "workspace.workspace_edit.resource_operations", None) or []),
            markdown_hover=types.MarkupKind.Markdown in hover_formats,
            markdown_completion=types.MarkupKind.Markdown in completion_formats,
            completion_snippets=bool(
                get_capability(
                    caps, "text_document.completion.completion_item.snippet_support", False
                )
            ),
            completion_adjust_indentation=types.InsertTextMode.AdjustIndentation
            in (
                get_capability(
                    caps,
                    "text_document.completion.completion_item.insert_text_mode_support.value_set",
                    None,
                )
                or []
            ),
            hierarchical_symbols=bool(
                get_capability(
                    caps,
                    "text_document.document_symbol.hierarchical_document_symbol_support",
                    False,
                )
            ),
            folding_range_limit=get_capability(
                caps, "text_document.folding_range.range_limit", None
            ),
            show_message_request=get_capability(caps, "window.show_message", None) is not None,
            show_document=bool(get_capability(caps, "window.show_document.support", False)),
            code_lens=get_capability(caps, "text_document.code_lens", None) is not None,
            code_lens_refresh=bool(
                get_capability(caps, "workspace.code_lens.refresh_support", False)
            ),
        )


@dataclass(slots=True, eq=False)
class DocumentState:
    """Validation bookkeeping of one open document."""

    uri: str
    path: str
    language_id: str
    validated_version: int | None = None
    report: FileReport | None = None
    last_good_value: Any = None  # root value of the last version that parsed (completion)
    last_seconds: float = 0.0  # how long the last validation took (adaptive debounce)
    last_change: float = 0.0  # time.monotonic() of the last change
    running: bool = False
    # Set to stop the check in flight early (a newer version arrived, or the document was
    # closed): its result would be dropped anyway.
    stop: threading.Event | None = None
    # Re-checked for a reason the client did not cause (a settings change): a pull client
    # must be asked to pull again, as it will not do so by itself.
    external: bool = False
    timer: asyncio.TimerHandle | None = None
    waiters: list[asyncio.Future[None]] = field(default_factory=list)


@dataclass(slots=True, eq=False)
class ServerState:
    """Everything the features share."""

    registry: SchemaRegistry
    client: ClientFeatures = field(default_factory=ClientFeatures)
    index: WorkspaceIndex = field(default_factory=lambda: WorkspaceIndex(builtin_profile_ids()))
    folders: list[Path] = field(default_factory=list)
    default_settings: Settings = field(default_factory=Settings)
    folder_settings: dict[Path, Settings] = field(default_factory=dict)
    initialization_options: Any = None
    documents: dict[str, DocumentState] = field(default_factory=dict)
    stamps: dict[str, Stamp] = field(default_factory=dict)  # indexed files as read from disk
    published: dict[str, int] = field(default_factory=dict)  # path → fingerprint pushed
    pulled: dict[str, int] = field(default_factory=dict)  # path → fingerprint last pulled
    indexing: asyncio.Task[None] | None = None
    warm_up: asyncio.Task[None] | None = None  # hooks.deferred_imports, after initialized
    watching: bool = False  # didChangeWatchedFiles registered: no rescan on save needed
    sync_lock: asyncio.Lock = field(default_factory=asyncio.Lock)  # one index sync at a time
    # Heavy checks (big documents) run one at a time, so that they never fill the thread
    # pool (other documents' checks and requests always find a worker) and at most one big
    # tree is being built at once.
    heavy_checks: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(1))
    hooks: Hooks = field(default_factory=Hooks)  # contributions between features
    diagnostic_sources: list[DiagnosticSource] = field(default_factory=list)

    def folder_of(self, path: str) -> Path | None:
        """The innermost workspace folder holding ``path``."""
        best: Path | None = None
        candidate = Path(path)
        for folder in self.folders:
            if candidate.is_relative_to(folder) and (
                best is None or len(folder.parts) > len(best.parts)
            ):
                best = folder
        return best

    def settings_for(self, path: str) -> Settings:
        """The settings of the folder holding ``path`` (the defaults outside folders)."""
        folder = self.folder_of(path)
        if folder is None:
            return self.default_settings
        return self.folder_settings.get(folder, self.default_settings)

    def relative_path(self, path: str) -> str:
        """``path`` relative to its folder (posix), as association globs expect."""
        folder = self.folder_of(path)
        candidate = Path(path)
        if folder is not None:
            return candidate.relative_to(folder).as_posix()
        return candidate.as_posix().lstrip("/")


def check_settings_of(settings: Settings) -> CheckSettings:
    """The per-file checking settings a ``Settings`` implies."""
    return CheckSettings(
        associations=AssociationSettings(
            schemas={name: tuple(globs) for name, globs in settings.schemas.items()},
            use_conventions=settings.schema_conventions,
        ),
        max_file_bytes=settings.max_file_size,
    )
