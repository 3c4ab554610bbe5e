"""Entry point of the ``uet`` command: builds the parser from the command modules.

Each command module exposes ``register(subparsers)`` and sets ``handler`` on its parser; the
handler returns the exit status. Exit statuses follow ruff/check-jsonschema: 0 clean,
1 problems found, 2 usage or internal error.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

from uet import __version__

__all__ = [
    "EXIT_CLEAN",
    "EXIT_ERROR",
    "EXIT_PROBLEMS",
    "build_parser",
    "command_parsers",
    "main",
]

EXIT_CLEAN = 0
EXIT_PROBLEMS = 1
EXIT_ERROR = 2

log = logging.getLogger("uet")
_LOG_FORMAT = "%(levelname)s %(name)s: %(message)s"


# Command name → the module that defines it. ``uet serve`` (started by editors) and the
# other commands import only their own module: start-up time matters for the server.
COMMANDS: dict[str, str] = {
    "validate": "commands_artifacts",
    "schemas": "commands_artifacts",
    "scan": "commands_scan",
    "profiles": "commands_scan",
    "bootstrap": "commands_bootstrap",
    "doctor": "commands_bootstrap",
    "run": "commands_run",
    "resume": "commands_run",
    "cancel": "commands_cancel",
    "runs": "commands_run_history",
    "status": "commands_run_history",
    "logs": "commands_run_history",
    "map": "commands_map",
    "serve": "commands_server",
}


def _command_modules(only: str | None = None) -> list[ModuleType]:
    """The command modules, in the order ``uet --help`` lists them (or just one)."""
    names = [COMMANDS[only]] if only in COMMANDS else list(dict.fromkeys(COMMANDS.values()))
    return [importlib.import_module(f"uet.cli.{name}") for name in names]


def _requested_command(argv: Sequence[str]) -> str | None:
    """The sub-command named in ``argv`` (the first word that is not an option)."""
    for word in argv:
        if not word.startswith("-"):
            return word
    return None


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The ``uet`` parser: every command, or only the module defining command ``only``."""
    return _build(only)[0]


def command_parsers() -> dict[str, argparse.ArgumentParser]:
    """Each command's own parser, by name (for help and documentation checks)."""
    return dict(_build(None)[1].choices)


def _build(only: str | None) -> tuple[argparse.ArgumentParser, Any]:
    parser = argparse.ArgumentParser(
        prog="uet",
        description="Universal Execution Templates: validate, bootstrap and run UET artifacts.",
    )
    parser.add_argument("--version", action="version", version=f"uet-lsp {__version__}")
    _add_output_options(parser, default=False)
    subparsers = parser.add_subparsers(
        dest="command",
        metavar="COMMAND",
        help="uet COMMAND --help: what it does, its options",
    )
    for module in _command_modules(only):
        module.register(subparsers)
    for command in subparsers.choices.values():
        _add_output_options(command, default=argparse.SUPPRESS)
    return parser, subparsers


def _add_output_options(parser: argparse.ArgumentParser, default: object) -> None:
    """``-v``/``-q``, on ``uet`` itself and on every command, so that they work before or
    after the command's name (as in ruff and pytest). A command's copy has no default
    (``SUPPRESS``): it sets the flag only when given, and never resets the one given
    before the command's name."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        default=default,
        help="log debugging details to stderr (and show tracebacks of internal errors)",
    )
    group.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        default=default,
        help="print only problems and the results asked for: no progress, notes or summaries",
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``uet`` with ``argv`` (default: this process's command line) and return the exit
    status."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(_requested_command(arguments))
    args = parser.parse_args(arguments)
    if args.verbose and args.quiet:  # one before the command's name, one after it
        parser.error("argument -q/--quiet: not allowed with argument -v/--verbose")
    # -v: every library's debug records too
    level = logging.DEBUG if args.verbose else logging.ERROR if args.quiet else logging.WARNING
    logging.basicConfig(level=level, format=_LOG_FORMAT, stream=sys.stderr)
    handler: Callable[[argparse.Namespace], int] | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return EXIT_ERROR
    return _call(handler, args)


def _call(handler: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    """The handler's exit status, behind the one CLI error barrier."""
    try:
        return handler(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_CLEAN
    except Exception as exc:  # the one CLI error barrier: short message, traceback with -v
        log.debug("internal error", exc_info=True)
        print(f"uet: internal error: {exc} (run with -v for the traceback)", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    raise SystemExit(main())
