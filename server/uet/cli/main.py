"""Entry point of the ``uet`` command: builds the parser from the command modules.

Each command module exposes ``register(subparsers)`` and sets ``handler`` on its parser; the
handler returns the exit status. Exit statuses follow ruff/check-jsonschema: 0 clean,
1 problems found, 2 usage or internal error.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from types import ModuleType

from uet import __version__

__all__ = ["EXIT_CLEAN", "EXIT_ERROR", "EXIT_PROBLEMS", "build_parser", "main"]

EXIT_CLEAN = 0
EXIT_PROBLEMS = 1
EXIT_ERROR = 2

log = logging.getLogger("uet")


def _command_modules() -> list[ModuleType]:
    """The command modules, in the order ``uet --help`` lists them."""
    from uet.cli import commands_artifacts

    modules: list[ModuleType] = [commands_artifacts]
    for optional in ("commands_bootstrap", "commands_engine", "commands_server"):
        try:
            modules.append(__import__(f"uet.cli.{optional}", fromlist=["register"]))
        except ModuleNotFoundError as exc:
            if exc.name != f"uet.cli.{optional}":
                raise
    return modules


def build_parser() -> argparse.ArgumentParser:
    """The full ``uet`` parser (also used by the docs and the tests)."""
    parser = argparse.ArgumentParser(
        prog="uet",
        description="Universal Execution Templates: validate, bootstrap and run UET artifacts.",
    )
    parser.add_argument("--version", action="version", version=f"uet-lsp {__version__}")
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="log debugging details to stderr"
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in _command_modules():
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``uet`` with ``argv`` and return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    handler: Callable[[argparse.Namespace], int] | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return EXIT_ERROR
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
