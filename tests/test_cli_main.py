"""The ``uet`` entry point: every command is listed, and each imports only its own module."""

from __future__ import annotations

import subprocess
import sys

from uet.cli.main import COMMANDS, build_parser


def test_help_lists_every_command() -> None:
    text = build_parser().format_help()
    for command in COMMANDS:
        assert command in text


def test_serve_imports_neither_the_engine_nor_the_bootstrap() -> None:
    code = (
        "import sys\n"
        "from uet.cli.main import build_parser\n"
        "build_parser('serve')\n"
        "print(sorted({m.split('.')[1] for m in sys.modules if m.startswith('uet.')}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    loaded = result.stdout.strip()
    assert "engine" not in loaded and "bootstrap" not in loaded, loaded
