"""What the engine commands share: the ``RUN_ID`` and ``--workspace`` arguments, the
workspace they name, the ``uet resume`` line they print, and how the engine's expected
errors end a command (one line and an exit status).

The engine is imported when a command runs, not when the parser is built: ``uet --help``
does not load it.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from uet.cli.main import EXIT_ERROR, EXIT_PROBLEMS

if TYPE_CHECKING:
    from uet.engine import Workspace

__all__ = [
    "RUN_ID_HELP",
    "add_workspace_option",
    "reporting_errors",
    "resume_command",
    "workspace",
]

RUN_ID_HELP = "the run's id (a unique prefix will do), as uet run and uet runs print it"


def reporting_errors(
    handler: Callable[[argparse.Namespace], int],
) -> Callable[[argparse.Namespace], int]:
    """Turn the engine's expected errors into a one-line message and an exit status."""

    def wrapped(args: argparse.Namespace) -> int:
        from uet.engine import EngineError, RunControlError, RunNotFoundError

        try:
            return handler(args)
        except (RunNotFoundError, RunControlError) as exc:
            print(f"uet: {exc}", file=sys.stderr)
            return EXIT_PROBLEMS
        except EngineError as exc:
            print(f"uet: {exc}", file=sys.stderr)
            return EXIT_ERROR

    wrapped.__doc__ = handler.__doc__
    return wrapped


def add_workspace_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--workspace", type=Path, metavar="DIR", help="workspace root (default: found from .)"
    )


def workspace(args: argparse.Namespace) -> Workspace:
    """The workspace ``--workspace`` names, else the one found from the current folder."""
    from uet.engine import find_workspace

    return find_workspace(getattr(args, "workspace", None))


def resume_command(command: str, args: argparse.Namespace) -> str:
    """``command`` (``uet resume RUN_ID``) with the ``--workspace`` this command was given."""
    folder = getattr(args, "workspace", None)
    if folder is None:
        return command
    return f"{command} --workspace {shlex.quote(str(folder))}"
