"""Settings: ``workspace/configuration`` per folder (section ``uet``), falling back to
``initializationOptions``; reloaded on ``workspace/didChangeConfiguration`` without a
restart. Invalid values are replaced by defaults and reported once in a message.
"""

from __future__ import annotations

import logging

from lsprotocol import types
from pygls.exceptions import JsonRpcException

from uet.lsp.documents import uri_of
from uet.lsp.server import UetLanguageServer
from uet.settings import SECTION, Settings, parse_settings

__all__ = ["load_settings", "register"]

log = logging.getLogger("uet.lsp")
_LOG_LEVELS = {
    "error": logging.ERROR,
    "warning": logging.WARNING,
    "info": logging.INFO,
    "debug": logging.DEBUG,
}


def register(server: UetLanguageServer) -> None:
    """Add the ``workspace/didChangeConfiguration`` handler."""

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    async def changed(ls: UetLanguageServer, params: types.DidChangeConfigurationParams) -> None:
        pushed = params.settings if isinstance(params.settings, dict) else None
        if not ls.state.client.configuration and pushed is not None and SECTION in pushed:
            ls.state.initialization_options = pushed
        before = (ls.state.default_settings, dict(ls.state.folder_settings))
        await load_settings(ls)
        if before != (ls.state.default_settings, dict(ls.state.folder_settings)):
            from uet.lsp.features import diagnostics, indexing

            indexing.start(ls, full=True)
            diagnostics.revalidate_open(ls)


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
