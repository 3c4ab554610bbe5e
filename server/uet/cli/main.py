"""Entry point of the ``uet`` command: builds the parser from the command modules.

Each command module exposes ``register(subparsers)`` and sets ``handler`` on its parser; the
handler returns the exit status. Exit statuses follow ruff/check-jsonschema: 0 clean,
1 problems found, 2 usage or internal error.

When ``main`` is the process's entry point (the ``uet`` script, ``python -m uet``), the
command is the rest of the process's life, and the garbage collector is told so: a command
that sets ``hold_gc`` on its parser runs its start-up (imports, planning) without
collections and calls ``args.startup_over()`` when it is done, which freezes what start-up
built (later collections never walk it again) and resumes collecting; and before the
process ends everything still alive is frozen, so that the interpreter's final collection
does not walk it only for the OS to reclaim it. After a 1,000-task ``uet run`` this saves
~7 ms of start-up collections and ~13 ms at exit. A command that sets ``exit_at_once``
(``uet run``, ``uet resume``) goes further: once it has returned, its output is flushed,
logging is shut down and the process ends with ``os._exit``, skipping the interpreter's
teardown, which would free every object of the run one by one only for the OS to reclaim
the memory anyway (~5-8 ms after a 1,000-task run). Such a command holds no open file,
connection or thread by then, and registers no ``atexit`` hook of its own. Called with
``argv`` (tests, other programs), ``main`` leaves the collector and the process alone.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import importlib
import os
import sys
from collections.abc import Callable, Sequence
from types import ModuleType

from uet import __version__
from uet.lazylog import configure as configure_logging
from uet.lazylog import get_logger

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (~3 ms) for --help
if TYPE_CHECKING:
    from typing import Any, NoReturn

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

log = get_logger("uet")
_LOG_FORMAT = "%(levelname)s %(name)s: %(message)s"


# Command name → the module that defines it. ``uet serve`` (started by editors) and the
# other commands import only their own module: start-up time matters for the server.
COMMANDS: dict[str, str] = {
    "validate": "commands_artifacts",
    "schemas": "commands_artifacts",
    "scan": "commands_bootstrap",
    "profiles": "commands_bootstrap",
    "bootstrap": "commands_bootstrap",
    "doctor": "commands_bootstrap",
    "run": "commands_engine",
    "resume": "commands_engine",
    "cancel": "commands_engine",
    "runs": "commands_engine",
    "status": "commands_engine",
    "logs": "commands_engine",
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


class _HelpFormatter(argparse.HelpFormatter):
    """argparse's help layout, sized to the terminal the way ``shutil.get_terminal_size``
    does it (``COLUMNS``, then the terminal, then 80), without importing ``shutil``: argparse
    builds a formatter for every argument it adds, and ``shutil`` brings the compression
    modules along, ~2 ms on every command."""

    def __init__(
        self,
        prog: str,
        indent_increment: int = 2,
        max_help_position: int = 24,
        width: int | None = None,
    ) -> None:
        if width is None:
            width = _terminal_columns() - 2  # as argparse does
        super().__init__(prog, indent_increment, max_help_position, width)


def _terminal_columns() -> int:
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns if columns > 0 else 80


class _ArgumentParser(argparse.ArgumentParser):
    """An argument parser (and, through ``parser_class``, its sub-parsers) using
    :class:`_HelpFormatter` unless told otherwise."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _HelpFormatter)
        super().__init__(*args, **kwargs)


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The ``uet`` parser: every command, or only the module defining command ``only``."""
    return _build(only)[0]


def command_parsers() -> dict[str, argparse.ArgumentParser]:
    """Each command's own parser, by name (for help and documentation checks)."""
    return dict(_build(None)[1].choices)


def _build(only: str | None) -> tuple[argparse.ArgumentParser, Any]:
    parser = _ArgumentParser(
        prog="uet",
        description="Universal Execution Templates: validate, bootstrap and run UET artifacts.",
    )
    parser.add_argument("--version", action="version", version=f"uet-lsp {__version__}")
    _add_output_options(parser, default=False)
    subparsers = parser.add_subparsers(
        dest="command",
        metavar="COMMAND",
        parser_class=_ArgumentParser,
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
    """Run ``uet`` with ``argv`` and return the exit status (``None``: this process's
    command line, and the process ends after it: see the module docstring)."""
    own_process = argv is None
    arguments = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(_requested_command(arguments))
    args = parser.parse_args(arguments)
    if args.verbose and args.quiet:  # one before the command's name, one after it
        parser.error("argument -q/--quiet: not allowed with argument -v/--verbose")
    if args.verbose:  # every library's debug records too: configure logging now
        import logging

        logging.basicConfig(level=logging.DEBUG, format=_LOG_FORMAT, stream=sys.stderr)
    else:  # applied on the first record: a command that logs nothing never imports logging
        level = "ERROR" if args.quiet else "WARNING"
        configure_logging(level=level, format=_LOG_FORMAT, stream=sys.stderr)
    handler: Callable[[argparse.Namespace], int] | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return EXIT_ERROR
    args.startup_over = _nothing
    if own_process and getattr(args, "hold_gc", False) and gc.isenabled():
        gc.disable()
        args.startup_over = _collect_from_now_on
    try:
        code = _call(handler, args)
    finally:
        if own_process:
            gc.freeze()
    if own_process and getattr(args, "exit_at_once", False):
        _exit_at_once(code)
    return code


def _exit_at_once(code: int) -> NoReturn:
    """End the process with ``code`` now: output flushed, logging shut down, no teardown."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe: nothing to show
            stream.flush()
    if "logging" in sys.modules:
        import logging

        logging.shutdown()
    os._exit(code)


def _nothing() -> None:
    """``startup_over`` when the collector was left alone."""


def _collect_from_now_on() -> None:
    """``startup_over`` after :func:`main` held the collector off during start-up."""
    gc.freeze()
    gc.enable()


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
