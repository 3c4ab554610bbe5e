"""The language server: the only package that imports pygls and lsprotocol.

Entry points: ``uet serve`` (``uet.cli.commands_server``) → ``server.create_server()``,
which registers the feature modules listed in ``features.FEATURES``. Domain logic lives in
``uet.artifacts``; protocol types are built only in ``convert``.
"""
