"""The workspace folders and their settings, as the client tells them: read at start-up
(``features.startup``), again when folders change (``features.indexing``) or the settings
change (``features.configuration``).

Settings come from ``workspace/configuration`` per folder (section ``uet``), falling back
to ``initializationOptions``; invalid values are replaced by defaults and reported once in
a message.
"""

from __future__ import annotations

import logging
from pathlib import Path

from lsprotocol import types
from pygls.exceptions import JsonRpcException

from uet.lsp.convert import path_of, uri_of
from uet.lsp.server import UetLanguageServer
from uet.settings import SECTION, Settings, parse_settings

__all__ = ["load_settings", "workspace_folders"]

log = logging.getLogger("uet.lsp")
_LOG_LEVELS = {
    "error": logging.ERROR,
    "warning": logging.WARNING,
    "info": logging.INFO,
    "debug": logging.DEBUG,
}


def workspace_folders(server: UetLanguageServer) -> list[Path]:
    """The workspace folders as resolved paths (the root when the client sent no folders)."""
    uris = [folder.uri for folder in server.workspace.folders.values()]
    if not uris and server.workspace.root_uri:
        uris = [server.workspace.root_uri]
    folders = [Path(path_of(uri)) for uri in uris if uri.startswith("file:")]
    return [folder for folder in folders if folder.is_dir()]


async def load_settings(server: UetLanguageServer) -> None:
    """Read the settings of every folder into the state."""
    state = server.state
    base, messages = parse_settings(state.initialization_options)
    defaults, per_folder = base, dict.fromkeys(state.folders, base)
    if state.client.configuration:
        items = [types.ConfigurationItem(section=SECTION)] + [
            types.ConfigurationItem(section=SECTION, scope_uri=uri_of(str(folder)))
            for folder in state.folders
        ]
        try:
            answers = await server.workspace_configuration_async(
                types.ConfigurationParams(items=items)
            )
        except JsonRpcException as error:  # the client answered with an error, or garbage
            log.warning("workspace/configuration failed, using the defaults: %s", error)
            answers = []
        answers = list(answers or [])
        if answers and answers[0] is not None:
            defaults, messages = parse_settings(answers[0])
        for folder, answer in zip(state.folders, answers[1:], strict=False):
            settings, problems = parse_settings(answer) if answer is not None else (defaults, [])
            per_folder[folder] = settings
            messages.extend(problem for problem in problems if problem not in messages)
    state.default_settings = defaults
    state.folder_settings = per_folder
    if not server.log_level_from_command_line:
        _apply_log_level([defaults, *per_folder.values()])
    if messages:
        server.window_show_message(
            types.ShowMessageParams(
                type=types.MessageType.Warning, message="uet settings: " + "; ".join(messages)
            )
        )


def _apply_log_level(all_settings: list[Settings]) -> None:
    level = min(_LOG_LEVELS[settings.log_level] for settings in all_settings)
    logging.getLogger("uet").setLevel(level)
