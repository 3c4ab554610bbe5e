"""pytest-lsp fixtures: the real server over stdio, driven as VS Code and as Neovim 0.7.

``session`` copies a fixture workspace into ``tmp_path`` and gives a ``Session`` whose
``start()`` initializes the server (tests prepare files first). ``served`` is a session of
one server per profile for the whole test run, started on the ``basic`` workspace, for
tests that only open, edit and close documents of that workspace (run them with
``@pytest.mark.asyncio(loop_scope="session")``): the workspace on disk must stay as it is,
and what a test opened is closed again before the next test begins. Two client profiles:

- ``vscode``: VS Code's captured capabilities plus pull diagnostics with refresh,
  ``workspace/configuration`` and dynamic file watching;
- ``neovim``: Neovim 0.7's captured capabilities (no configuration, no file watching, no
  pull diagnostics).

The client answers the requests pytest-lsp lacks (``client/registerCapability``,
``workspace/applyEdit``, ``window/showMessageRequest``, the refresh requests) and records a
violation when the server sends a request the client did not advertise; a violation fails
the test at teardown.
"""

from __future__ import annotations

import asyncio
import shutil
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
import pytest_lsp
from lsprotocol import types
from pygls.capabilities import get_capability
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

WORKSPACES = Path(__file__).parent / "workspaces"
PROFILES = ("vscode", "neovim")
SERVER = [sys.executable, "-m", "uet", "serve", "--log-level", "debug"]
TIMEOUT = 15.0


def profile_capabilities(profile: str) -> types.ClientCapabilities:
    """The capabilities a profile advertises."""
    if profile == "neovim":
        return client_capabilities("neovim@v0.7.0")
    caps = client_capabilities("visual-studio-code")
    assert caps.text_document is not None and caps.workspace is not None
    caps.text_document.diagnostic = types.DiagnosticClientCapabilities(
        dynamic_registration=False, related_document_support=True
    )
    caps.workspace.diagnostics = types.DiagnosticWorkspaceClientCapabilities(refresh_support=True)
    caps.workspace.configuration = True
    caps.workspace.did_change_watched_files = types.DidChangeWatchedFilesClientCapabilities(
        dynamic_registration=True
    )
    return caps


@dataclass
class Published:
    """One publishDiagnostics notification."""

    uri: str
    version: int | None
    diagnostics: list[types.Diagnostic]


@dataclass
class Session:
    """A client, its profile and its workspace, with helpers for the tests."""

    client: LanguageClient
    profile: str
    root: Path
    published: list[Published] = field(default_factory=list)
    registrations: list[types.Registration] = field(default_factory=list)
    applied_edits: list[types.WorkspaceEdit] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    versions: dict[str, int] = field(default_factory=dict)
    opened: list[str] = field(default_factory=list)
    started: bool = False

    @property
    def pull(self) -> bool:
        """True when diagnostics are pulled (VS Code profile)."""
        return self.profile == "vscode"

    def uri(self, relative: str) -> str:
        """URI of a workspace file."""
        return (self.root / relative).as_uri()

    async def start(self, initialization_options: Any = None) -> None:
        """Initialize the server on the workspace and wait for the first index."""
        await self.client.initialize_session(
            types.InitializeParams(
                capabilities=profile_capabilities(self.profile),
                root_uri=self.root.as_uri(),
                workspace_folders=[types.WorkspaceFolder(uri=self.root.as_uri(), name="ws")],
                initialization_options=initialization_options,
            )
        )
        self.started = True
        await self.indexed(1)

    async def indexed(self, count: int) -> None:
        """Wait until ``count`` indexing progress runs have ended."""
        await until(lambda: self.index_runs() >= count)

    def index_runs(self) -> int:
        """How many indexing runs have finished."""
        return sum(
            1
            for reports in self.client.progress_reports.values()
            if reports and reports[-1].kind == "end"
        )

    def open(self, relative: str, text: str | None = None, language: str = "") -> str:
        """didOpen a workspace file (its disk content unless ``text`` is given)."""
        path = self.root / relative
        content = path.read_text("utf-8") if text is None else text
        uri = path.as_uri()
        # Above any version of an earlier opening (a shared server): a push for an older
        # version is never taken for this one.
        version = self.versions[uri] = self.versions.get(uri, 0) + 1
        self.opened.append(uri)
        language = language or ("json" if relative.endswith(".json") else "yaml")
        self.client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(
                    uri=uri, language_id=language, version=version, text=content
                )
            )
        )
        return uri

    async def close_opened(self) -> None:
        """didClose every document opened so far and wait until the server has put each
        back to its disk contents (the push for the closed file, without a version)."""
        uris = list(dict.fromkeys(self.opened))
        self.opened.clear()
        mark = len(self.published)
        for uri in uris:
            self.client.text_document_did_close(
                types.DidCloseTextDocumentParams(
                    text_document=types.TextDocumentIdentifier(uri=uri)
                )
            )

        def back_on_disk(uri: str) -> bool:
            return any(p.uri == uri and p.version is None for p in self.published[mark:])

        await until(lambda: all(back_on_disk(uri) for uri in uris))

    def replace(self, uri: str, text: str) -> int:
        """didChange with the whole new text; returns the new version."""
        self.versions[uri] += 1
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(
                    uri=uri, version=self.versions[uri]
                ),
                content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
            )
        )
        return self.versions[uri]

    def last_published(self, uri: str) -> Published | None:
        """The latest pushed diagnostics of ``uri``."""
        for item in reversed(self.published):
            if item.uri == uri:
                return item
        return None

    async def diagnostics(self, uri: str) -> list[types.Diagnostic]:
        """Fresh diagnostics of an open document: pulled (VS Code) or the push for its
        current version (Neovim)."""
        if self.pull:
            report = await self.client.text_document_diagnostic_async(
                types.DocumentDiagnosticParams(text_document=types.TextDocumentIdentifier(uri=uri))
            )
            assert isinstance(report, types.RelatedFullDocumentDiagnosticReport)
            return list(report.items)
        version = self.versions[uri]
        await until(lambda: (p := self.last_published(uri)) is not None and p.version == version)
        found = self.last_published(uri)
        assert found is not None
        return found.diagnostics

    async def pushed(self, uri: str, predicate: Callable[[list[types.Diagnostic]], bool]) -> None:
        """Wait until the latest push for ``uri`` satisfies ``predicate``."""
        await until(
            lambda: (p := self.last_published(uri)) is not None and predicate(p.diagnostics)
        )


async def until(predicate: Callable[[], object], timeout: float = TIMEOUT) -> None:
    """Poll ``predicate`` (notifications are not ordered with responses)."""
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.01)


def codes(diagnostics: list[types.Diagnostic]) -> list[str]:
    """The codes of a diagnostic list, in order."""
    return [str(item.code) for item in diagnostics]


def range_text(item: types.Diagnostic | types.Location | types.TextEdit) -> str:
    """``"3:4-3:9"`` for a range."""
    value = item.range
    return f"{value.start.line}:{value.start.character}-{value.end.line}:{value.end.character}"


def _install_handlers(client: LanguageClient, session: Session) -> None:
    caps = profile_capabilities(session.profile)
    features = client.protocol.fm.features
    original_publish = features[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS]

    def publish(ls: LanguageClient, params: types.PublishDiagnosticsParams) -> None:
        session.published.append(Published(params.uri, params.version, list(params.diagnostics)))
        original_publish(params)

    def register_capability(ls: LanguageClient, params: types.RegistrationParams) -> None:
        for registration in params.registrations:
            name = {
                types.WORKSPACE_DID_CHANGE_WATCHED_FILES: "did_change_watched_files",
                types.WORKSPACE_DID_CHANGE_CONFIGURATION: "did_change_configuration",
            }.get(registration.method)
            advertised = name is not None and get_capability(
                caps, f"workspace.{name}.dynamic_registration", False
            )
            if not advertised:
                session.violations.append(f"unadvertised registration {registration.method}")
            session.registrations.append(registration)

    def apply_edit(
        ls: LanguageClient, params: types.ApplyWorkspaceEditParams
    ) -> types.ApplyWorkspaceEditResult:
        session.applied_edits.append(params.edit)
        return types.ApplyWorkspaceEditResult(applied=True)

    def show_message_request(
        ls: LanguageClient, params: types.ShowMessageRequestParams
    ) -> types.MessageActionItem | None:
        return None

    def diagnostic_refresh(ls: LanguageClient, params: None) -> None:
        if not get_capability(caps, "workspace.diagnostics.refresh_support", False):
            session.violations.append("unadvertised workspace/diagnostic/refresh")
        ls.diagnostic_refresh_count += 1

    def code_lens_refresh(ls: LanguageClient, params: None) -> None:
        if not get_capability(caps, "workspace.code_lens.refresh_support", False):
            session.violations.append("unadvertised workspace/codeLens/refresh")

    handlers: dict[str, Callable[..., Any]] = {
        types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS: publish,
        types.WORKSPACE_DIAGNOSTIC_REFRESH: diagnostic_refresh,
        types.CLIENT_REGISTER_CAPABILITY: register_capability,
        types.WORKSPACE_APPLY_EDIT: apply_edit,
        types.WINDOW_SHOW_MESSAGE_REQUEST: show_message_request,
        types.WORKSPACE_CODE_LENS_REFRESH: code_lens_refresh,
    }
    for method, handler in handlers.items():
        features.pop(method, None)  # replace pytest-lsp's default, if it has one
        client.feature(method)(handler)


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A private copy of the ``basic`` fixture workspace."""
    root = tmp_path / "ws"
    shutil.copytree(WORKSPACES / "basic", root)
    return root


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER), params=PROFILES)
async def lsp(lsp_client: LanguageClient, request: pytest.FixtureRequest) -> AsyncIterator[None]:
    """The client connected to a fresh server; the profile is stashed on it."""
    lsp_client.profile = str(request.param)  # type: ignore[attr-defined]
    yield


def _files(root: Path) -> dict[str, tuple[int, int]]:
    """``{relative path: (size, mtime_ns)}`` of every file under ``root``."""
    return {
        str(path.relative_to(root)): (path.stat().st_size, path.stat().st_mtime_ns)
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


@pytest_lsp.fixture(
    config=ClientServerConfig(server_command=SERVER), params=PROFILES, scope="session"
)
async def shared_lsp(
    lsp_client: LanguageClient, request: pytest.FixtureRequest
) -> AsyncIterator[None]:
    """The client connected to one server for the test run; the profile is stashed on it."""
    lsp_client.profile = str(request.param)  # type: ignore[attr-defined]
    yield


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def shared_session(
    shared_lsp: LanguageClient, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Session]:
    """A started session on a copy of the ``basic`` workspace, for the whole test run."""
    root = tmp_path_factory.mktemp("shared") / "ws"
    shutil.copytree(WORKSPACES / "basic", root)
    current = Session(shared_lsp, shared_lsp.profile, root)  # type: ignore[attr-defined]
    _install_handlers(shared_lsp, current)
    await current.start()
    yield current
    await shared_lsp.shutdown_session()
    assert current.violations == []


@pytest_asyncio.fixture(loop_scope="session")
async def served(shared_session: Session) -> AsyncIterator[Session]:
    """The shared server for one test: it starts from the workspace's disk contents
    with nothing open, and leaves it so (a test that changed the workspace fails)."""
    files = _files(shared_session.root)
    shared_session.published.clear()
    shared_session.applied_edits.clear()
    shared_session.client.messages.clear()
    yield shared_session
    await shared_session.close_opened()
    assert _files(shared_session.root) == files, "a test changed the shared workspace"
    violations, shared_session.violations[:] = list(shared_session.violations), []
    assert violations == []


@pytest.fixture
async def session(lsp: LanguageClient, workspace: Path) -> AsyncIterator[Session]:
    """A server session for one client profile (call ``await session.start()``)."""
    current = Session(lsp, lsp.profile, workspace)  # type: ignore[attr-defined]
    _install_handlers(lsp, current)
    yield current
    if current.started:
        await lsp.shutdown_session()
    elif lsp._server is not None:
        lsp._server.kill()  # never initialized: nothing to shut down
    assert current.violations == []
