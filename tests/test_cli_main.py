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


# A command whose handler fails inside (an internal error), run as a real `uet` process:
# the command line's one error barrier prints a short message, and the traceback only with
# -v, through the uet logger.
_FAILING_COMMAND = """
import sys
from uet.cli import commands_artifacts, main as cli

def failing(args):
    raise RuntimeError("broken on purpose")

commands_artifacts.run_schemas = failing  # what `uet schemas` runs
sys.argv = ["uet", *sys.argv[1:]]
raise SystemExit(cli.main())
"""


def _failing_uet(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _FAILING_COMMAND, *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_an_internal_error_is_one_line_and_its_traceback_shows_with_verbose() -> None:
    quiet = _failing_uet("schemas")
    assert quiet.returncode == 2
    assert quiet.stderr.strip().splitlines() == [
        "uet: internal error: broken on purpose (run with -v for the traceback)"
    ]
    verbose = _failing_uet("-v", "schemas")
    assert verbose.returncode == 2
    assert "DEBUG uet: internal error" in verbose.stderr
    assert "Traceback (most recent call last)" in verbose.stderr
    assert "RuntimeError: broken on purpose" in verbose.stderr


def test_verbose_after_the_command_shows_the_traceback_too() -> None:
    verbose = _failing_uet("schemas", "-v")
    assert verbose.returncode == 2
    assert "Traceback (most recent call last)" in verbose.stderr
    quiet = _failing_uet("schemas", "--quiet")
    assert quiet.stderr.strip().splitlines() == [
        "uet: internal error: broken on purpose (run with -v for the traceback)"
    ]
