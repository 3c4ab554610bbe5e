"""Session start and end: read the client's capabilities and folders, then (on
``initialized``) load the settings, register dynamic capabilities and index the workspace.

``initialized`` is async: it awaits the client's answers (configuration, registration)
without blocking the loop, then leaves indexing to a background task and, alongside it,
imports in the thread pool the modules features load lazily (``hooks.deferred_imports``):
they are not part of the start-up, and the first index's work-done progress ends only
once they are loaded, so "indexed" means ready (a request that comes earlier and needs
them waits for their import, in the pool, not on the loop). The documents the client
opened with the session are checked first: importing holds the interpreter, and beside
it their first diagnostics came measurably later (benchmarks/lsp_latency.py). A document
opened while the client is still answering the configuration request was checked with the
default settings; it is checked again once the client's settings are in, if they differ.
"""

from __future__ import annotations

import logging
import uuid

from lsprotocol import types
from pygls.exceptions import JsonRpcException

from uet.lsp import documents, folders, hooks, index_sync, runtime
from uet.lsp.server import UetLanguageServer
from uet.lsp.state import ClientFeatures
from uet.settings import Settings

__all__ = ["register"]

log = logging.getLogger("uet.lsp")


def register(server: UetLanguageServer) -> None:
    """Add the ``initialize``, ``initialized`` and ``shutdown`` handlers (``shutdown``
    stops indexing, then awaits the features' ``hooks.shutdown``)."""

    @server.feature(types.INITIALIZE)
    def initialize(ls: UetLanguageServer, params: types.InitializeParams) -> None:
        ls.state.client = ClientFeatures.from_capabilities(params.capabilities)
        ls.state.initialization_options = params.initialization_options
        ls.state.folders = folders.workspace_folders(ls)

    @server.feature(types.INITIALIZED)
    async def initialized(ls: UetLanguageServer, params: types.InitializedParams) -> None:
        await _load_settings(ls)
        ls.state.warm_up = ls.spawn(_warm_up(ls), "import deferred modules")
        index_sync.start(ls, full=True)
        await _register_dynamic(ls)

    @server.feature(types.SHUTDOWN)
    async def shutdown(ls: UetLanguageServer, params: None) -> None:
        if ls.state.indexing is not None:
            ls.state.indexing.cancel()
        await hooks.shut_down(ls)


async def _load_settings(server: UetLanguageServer) -> None:
    """Load the client's settings; the documents opened while the client was answering
    (VS Code opens them right after ``initialized``) were checked with the defaults, so
    those whose settings differ are checked again."""
    state = server.state
    defaults, per_folder = state.default_settings, dict(state.folder_settings)

    def checked_with(path: str) -> Settings:  # the settings before the client's answer
        folder = state.folder_of(path)
        return defaults if folder is None else per_folder.get(folder, defaults)

    await folders.load_settings(server)
    changed = [
        uri
        for uri, document in state.documents.items()
        if state.settings_for(document.path) != checked_with(document.path)
    ]
    if changed:
        log.debug("settings arrived: checking %d open document(s) again", len(changed))
        documents.revalidate_open(server, changed)


async def _warm_up(server: UetLanguageServer) -> None:
    for uri in list(server.state.documents):  # their first diagnostics come first
        await documents.current_report(server, uri)
    names = list(server.state.hooks.deferred_imports)
    log.debug("importing %d deferred module(s)", len(names))
    seconds = await server.in_pool(runtime.import_modules, names)
    log.debug("imported %d deferred module(s) in %.0f ms", len(names), seconds * 1000)


async def _register_dynamic(server: UetLanguageServer) -> None:
    client = server.state.client
    registrations: list[types.Registration] = []
    if client.watched_files_dynamic:
        watcher = types.FileSystemWatcher(glob_pattern="**/*.{json,jsonc,yaml,yml}")
        registrations.append(
            types.Registration(
                id=str(uuid.uuid4()),
                method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                register_options=types.DidChangeWatchedFilesRegistrationOptions(watchers=[watcher]),
            )
        )
    if client.configuration_change_dynamic:
        registrations.append(
            types.Registration(
                id=str(uuid.uuid4()),
                method=types.WORKSPACE_DID_CHANGE_CONFIGURATION,
                register_options=types.DidChangeConfigurationRegistrationOptions(section="uet"),
            )
        )
    if not registrations:
        return
    try:
        await server.client_register_capability_async(
            types.RegistrationParams(registrations=registrations)
        )
    except JsonRpcException as error:  # the client refused: keep rescanning on save
        log.warning("client/registerCapability failed: %s", error)
        return
    server.state.watching = client.watched_files_dynamic
