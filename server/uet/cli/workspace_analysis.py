"""What the bootstrap commands (``uet scan``, ``profiles``, ``bootstrap``, ``doctor``) share:
their ``DIR`` and ``--no-git`` arguments, the workspace analysis they start from (with a
progress bar on a terminal), how a bootstrap error ends a command, and what several of them
print of the analysis. The logic lives in ``uet.bootstrap`` (the language server calls the
same functions); this adapts arguments and prints.
"""

from __future__ import annotations

import argparse
import functools
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from uet.bootstrap.analysis import Analysis, AnalysisOptions, analyze_workspace
from uet.bootstrap.discovery import ProgressCallback
from uet.bootstrap.errors import BootstrapError
from uet.bootstrap.task_sources import TaskSource
from uet.cli.main import EXIT_ERROR

__all__ = [
    "Handler",
    "add_workspace_arguments",
    "analysis_options",
    "analyze",
    "print_problems",
    "print_task_sources",
    "reporting_errors",
]

Handler = Callable[[argparse.Namespace], int]
_PROGRESS_EVERY = 64


def add_workspace_arguments(parser: argparse.ArgumentParser) -> None:
    """``DIR`` and ``--no-git``."""
    parser.add_argument(
        "directory",
        nargs="?",
        type=Path,
        default=Path(),
        metavar="DIR",
        help="the workspace's folder (default: the current folder)",
    )
    parser.add_argument(
        "--no-git", action="store_true", help="walk the folder instead of asking git"
    )


def reporting_errors(handler: Handler) -> Handler:
    """Turn a refused write or an unusable workspace into one line and exit status 2
    (anything else reaches the CLI's error barrier)."""

    @functools.wraps(handler)
    def run(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except (BootstrapError, OSError) as exc:
            print(f"uet: {exc}", file=sys.stderr)
            return EXIT_ERROR

    return run


def analysis_options(args: argparse.Namespace) -> AnalysisOptions:
    return AnalysisOptions(use_git=not args.no_git)


def analyze(args: argparse.Namespace) -> Analysis | None:
    """The analysis of ``DIR``, or ``None`` after saying why there is none."""
    root: Path = args.directory
    if not root.is_dir():
        print(f"uet: {root}: not a directory", file=sys.stderr)
        return None
    try:
        with _progress(shown=not args.quiet) as progress:
            return analyze_workspace(root, analysis_options(args), progress)
    except BootstrapError as exc:
        print(f"uet: {exc}", file=sys.stderr)
        return None


@contextmanager
def _progress(shown: bool) -> Iterator[ProgressCallback | None]:
    """A rich progress bar on stderr when it is a terminal (and not ``--quiet``)."""
    if not shown or not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    with Progress(
        TextColumn("scanning"),
        BarColumn(),
        MofNCompleteColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task("scan", total=None)

        def update(done: int, total: int) -> None:
            if done % _PROGRESS_EVERY == 0 or done == total:
                bar.update(task, completed=done, total=total)

        yield update


def print_task_sources(profile_id: str | None, sources: tuple[TaskSource, ...]) -> None:
    """Each task the bootstrap generates for ``profile_id``: its command, and where it comes
    from (the project's entry point or a tool, and why)."""
    if profile_id is None or not sources:
        return
    print(f"generated tasks ({profile_id}), each with where its command comes from:")
    for source in sources:
        print(f"  {source.phase_id}/{source.task_id}: {source.command}")
        print(f"      {source.reason}")


def print_problems(analysis: Analysis) -> None:
    """The problems found loading the profiles (built-in and the workspace's
    ``profile_extensions/``), on stderr."""
    for problem in analysis.profiles.problems:
        print(problem.format(), file=sys.stderr)
