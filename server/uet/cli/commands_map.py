"""``uet map``: the repository map of a folder, ranked and fitted to a token budget.

The tags are cached in ``.uet/repomap.db`` of the folder, so a second run parses only the
files that changed; a cold build shows a progress bar on a terminal.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from uet.cli.main import EXIT_CLEAN, EXIT_ERROR

if TYPE_CHECKING:
    from uet.context.build import ProgressCallback

__all__ = ["register"]

log = logging.getLogger(__name__)

CACHE_NAME = "repomap.db"
# A build parsing fewer files than this is over before a bar would be worth drawing.
_BAR_FROM = 64


def register(subparsers: Any) -> None:
    """Add ``map`` to the ``uet`` parser."""
    command = subparsers.add_parser(
        "map",
        help="print the repository map: the most referenced definitions, by file",
        description=(
            "Parse the source files of DIR with tree-sitter, rank their definitions by how "
            "much the rest of the repository refers to them (PageRank over the file graph) "
            "and print the top ones with their signature lines, grouped by file, within a "
            "token budget. Tags are cached in DIR/.uet/repomap.db: a second run parses only "
            "the files that changed."
        ),
    )
    command.add_argument(
        "directory",
        nargs="?",
        type=Path,
        default=Path(),
        metavar="DIR",
        help="the repository's folder (default: the current folder)",
    )
    command.add_argument(
        "--focus",
        action="extend",
        nargs="+",
        default=[],
        metavar="FILE",
        help="files being worked on: what they refer to ranks higher (they are not shown)",
    )
    command.add_argument(
        "--mention",
        action="extend",
        nargs="+",
        default=[],
        metavar="IDENT",
        help="identifiers of interest: their definitions and users rank higher",
    )
    command.add_argument(
        "--tokens",
        type=_positive,
        default=1024,
        metavar="N",
        help="the map's budget in tokens (cl100k_base; default: 1024)",
    )
    command.add_argument("--json", action="store_true", help="print the ranked definitions as JSON")
    command.set_defaults(handler=map_command)


def _positive(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number of tokens: {text}")
    return value


def map_command(args: argparse.Namespace) -> int:
    """Build or refresh the map of DIR and print it."""
    from uet.context.repomap import RepoMap

    root: Path = args.directory
    if not root.is_dir():
        print(f"uet: {root}: not a directory", file=sys.stderr)
        return EXIT_ERROR
    root = root.resolve()
    repo_map = RepoMap(root, cache_path=_cache_path(root))
    try:
        with _progress(shown=not args.quiet) as progress:
            repo_map.refresh(progress=progress)
        text = repo_map.render(
            focus=[_in_root(root, Path(name)) for name in args.focus],
            mentions=args.mention,
            tokens=args.tokens,
            as_json=args.json,
        )
    finally:
        repo_map.close()
    if text:
        print(text.rstrip("\n"))
    return EXIT_CLEAN


def _cache_path(root: Path) -> Path | None:
    """``root/.uet/repomap.db``, or ``None`` (a cache in memory) where it cannot be kept."""
    from uet.engine import Workspace, WorkspaceError

    workspace = Workspace(root)
    try:
        workspace.make_state_dirs()
        return workspace.state_path(CACHE_NAME)
    except WorkspaceError as error:
        log.warning("the map is not cached: %s", error)
        return None


def _in_root(root: Path, given: Path) -> str:
    """A focus file as a path relative to ``root`` (given relative to this folder)."""
    absolute = given.resolve()
    return absolute.relative_to(root).as_posix() if absolute.is_relative_to(root) else str(given)


@contextmanager
def _progress(shown: bool) -> Iterator[ProgressCallback | None]:
    """A rich progress bar on stderr for a build that parses many files, when stderr is a
    terminal (and not ``--quiet``); the bar appears with the first parsed file."""
    if not shown or not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    bar = Progress(
        TextColumn("parsing"),
        BarColumn(),
        MofNCompleteColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    task = bar.add_task("parse", total=None)
    started = False

    def update(done: int, total: int) -> None:
        nonlocal started
        if total < _BAR_FROM:
            return
        if not started:
            bar.start()
            started = True
        bar.update(task, completed=done, total=total)

    try:
        yield update
    finally:
        if started:
            bar.stop()
