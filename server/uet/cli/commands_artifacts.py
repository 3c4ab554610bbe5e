"""``uet validate`` and ``uet schemas``: the artifact model from a terminal.

Output follows ruff/gcc (``path:line:col: severity CODE message``, 1-based, code-point
columns) so editors and CI annotate it without configuration; ``--format json`` prints one
array for tools.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from uet.artifacts import CheckSettings, bundled_registry
from uet.artifacts.index import WorkspaceIndex
from uet.artifacts.loader import DEFAULT_MAX_FILE_BYTES
from uet.artifacts.workspace import check_workspace
from uet.cli.diagnostic_display import SourceLine, write_concise, write_full
from uet.cli.main import EXIT_CLEAN, EXIT_ERROR, EXIT_PROBLEMS

__all__ = ["diagnostic_records", "register"]

# Loading problems that mean a file was not read at all: too big, binary or undecodable,
# unreadable, not a regular file.
_UNREADABLE_CODES = frozenset({"UET103", "UET104", "UET109", "UET111"})
# Folders searched and no artifact in them, like pytest's "no tests ran": a CI job that
# validates the wrong folder must not pass.
EXIT_NOTHING_FOUND = 5


def register(subparsers: Any) -> None:
    """Add ``validate`` and ``schemas`` to the ``uet`` parser."""
    validate = subparsers.add_parser(
        "validate",
        help="check UET artifacts against their schemas and each other",
        description=(
            "Check files or folders (default: the current folder). Folders are searched for "
            "artifacts, honouring .gitignore; named files are checked even when ignored. "
            "Naming conventions are matched relative to the workspace root (the nearest "
            "folder with PROJECT_PROFILE.yaml or .uet/, else the git work tree), whatever "
            "folder is named; nested projects are checked as separate workspaces. Exit "
            "status: 0 clean, 1 problems found, 2 usage error, 5 no artifact found."
        ),
    )
    validate.add_argument(
        "paths",
        nargs="*",
        type=Path,
        metavar="PATH",
        help="files or folders to check (default: the current folder)",
    )
    validate.add_argument(
        "--schema",
        metavar="NAME",
        help="check the named files against this schema (e.g. workstream_spec)",
    )
    validate.add_argument(
        "--format",
        choices=("text", "full", "concise", "json", "github"),
        default="text",
        help=(
            "text (full on a terminal, concise otherwise), full (each diagnostic with its "
            "source line and a marker under the node; colours on a terminal unless "
            "NO_COLOR), concise (one path:line:col line each), json (one array), "
            "github (workflow annotations)"
        ),
    )
    _add_json_option(validate)
    validate.add_argument(
        "--max-file-size",
        type=int,
        default=DEFAULT_MAX_FILE_BYTES,
        metavar="BYTES",
        help=f"skip larger files with one diagnostic (default {DEFAULT_MAX_FILE_BYTES})",
    )
    validate.add_argument(
        "--exclude", action="append", default=[], metavar="GLOB", help="skip matching paths"
    )
    validate.set_defaults(handler=run_validate)

    schemas = subparsers.add_parser(
        "schemas",
        help="list the UET schemas and their ids",
        description=(
            "List every bundled UET schema: the name --schema takes, its $id and its title."
        ),
    )
    schemas.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="text (aligned columns) or json (one array of {name, id, title})",
    )
    _add_json_option(schemas)
    schemas.set_defaults(handler=run_schemas)


def _add_json_option(parser: argparse.ArgumentParser) -> None:
    """``--json``, as every other command spells it: ``--format json``."""
    parser.add_argument(
        "--json",
        dest="format",
        action="store_const",
        const="json",
        help="print JSON (same as --format json)",
    )


def run_validate(args: argparse.Namespace) -> int:
    """Validate, print, and return 0 clean / 1 problems / 2 usage error / 5 nothing found."""
    registry = bundled_registry()
    if args.schema is not None and registry.lookup(args.schema) is None:
        names = ", ".join(registry.artifact_names())
        print(f"uet: unknown schema {args.schema!r}; known schemas: {names}", file=sys.stderr)
        return EXIT_ERROR
    paths: list[Path] = args.paths or [Path.cwd()]
    # Only a path with nothing at all there is a usage error; anything else (a symbolic
    # link loop, a FIFO, a device) is read by the loader, which says what it is.
    missing = [path for path in paths if not _present(path)]
    if missing:
        for path in missing:
            print(f"uet: {path}: no such file or directory", file=sys.stderr)
        return EXIT_ERROR
    settings = CheckSettings(max_file_bytes=args.max_file_size)
    result = check_workspace(
        paths, args.schema, settings=settings, registry=registry, excluded_globs=args.exclude
    )
    records = diagnostic_records(result.index)
    unreadable = False
    for report in result.skipped:
        refusal = next(
            (item for item in report.parsed.problems if item.code in _UNREADABLE_CODES), None
        )
        if refusal is not None:  # named on the command line, but not read at all
            unreadable = True
            print(f"uet: {_display(report.path)}: {refusal.message}", file=sys.stderr)
            continue
        if not args.quiet:
            print(
                f"uet: {_display(report.path)}: skipped, not a UET artifact "
                f"({report.association.reason}; use --schema NAME)",
                file=sys.stderr,
            )
    if not result.index.paths() and not result.skipped and not unreadable:
        return _nothing_found(args, paths)
    _print_records(args, records, result.index)
    problems = any(record["severity"] in ("error", "warning") for record in records)
    return EXIT_PROBLEMS if problems or unreadable else EXIT_CLEAN


def _nothing_found(args: argparse.Namespace, paths: list[Path]) -> int:
    """Say that the folders named hold no artifact (not "All 0 artifacts valid")."""
    if args.format == "json":
        sys.stdout.write("[]\n")
    searched = ", ".join(_display(str(path)) for path in paths)
    print(
        f"uet: no UET artifacts found in {searched} (a file is one when its $schema or "
        "modeline names a UET schema, or its path relative to the workspace root matches "
        "a naming convention: see docs/association.md)",
        file=sys.stderr,
    )
    return EXIT_NOTHING_FOUND


def _print_records(
    args: argparse.Namespace, records: list[dict[str, Any]], index: WorkspaceIndex
) -> None:
    """Print the diagnostics in the format asked for (``text``: full on a terminal,
    concise otherwise; see :mod:`uet.cli.diagnostic_display`)."""
    if args.format == "json":
        # one write: json.dump would write each token to stdout separately
        sys.stdout.write(json.dumps(records, indent=2, ensure_ascii=False) + "\n")
        return
    if args.format == "github":
        for record in records:
            print(_github_annotation(record))
        return
    checked = len(index.paths())
    layout = args.format
    if layout == "text":
        layout = "full" if sys.stdout.isatty() else "concise"
    if layout == "full":
        write_full(records, checked, _source_lines(index), quiet=args.quiet)
    else:
        write_concise(records, checked, quiet=args.quiet)


def _source_lines(index: WorkspaceIndex) -> SourceLine:
    """Line ``n`` (1-based) of the file a record shows as ``path``."""
    by_shown = {_display(path): path for path in index.paths()}

    def source_line(shown: str, line: int) -> str | None:
        report = index.report(by_shown.get(shown, shown))
        if report is None:
            return None
        lines = report.parsed.line_index
        return lines.line_text(line - 1) if 0 < line <= lines.line_count else None

    return source_line


def _present(path: Path) -> bool:
    """Whether anything (even a broken or looping symbolic link) is at ``path``."""
    try:
        path.lstat()
    except OSError:
        return False
    return True


def diagnostic_records(index: WorkspaceIndex) -> list[dict[str, Any]]:
    """Every diagnostic of the index as a JSON-ready record, sorted by path and position."""
    records: list[dict[str, Any]] = []
    for path in index.paths():
        report = index.report(path)
        if report is None:
            continue
        lines = report.parsed.line_index
        shown = _display(path)
        for item in index.diagnostics(path):
            start = lines.position(item.span.start)
            end = lines.position(item.span.end)
            records.append(
                {
                    "path": shown,
                    "line": start.line + 1,
                    "column": start.column + 1,
                    "end_line": end.line + 1,
                    "end_column": end.column + 1,
                    "severity": item.severity.label,
                    "code": item.code,
                    "message": item.message,
                    "schema": item.schema or report.schema,
                }
            )
    return records


def _github_annotation(record: dict[str, Any]) -> str:
    """A GitHub Actions workflow command that annotates the exact range in the diff view."""
    level = {"error": "error", "warning": "warning"}.get(record["severity"], "notice")
    message = str(record["message"]).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return (
        f"::{level} file={record['path']},line={record['line']},col={record['column']},"
        f"endLine={record['end_line']},endColumn={record['end_column']},"
        f"title={record['code']}::{message}"
    )


def run_schemas(args: argparse.Namespace) -> int:
    """List every schema with its id and title."""
    registry = bundled_registry()
    rows = [registry.info(name) for name in registry.names()]
    if args.format == "json":
        payload = [{"name": info.name, "id": info.id, "title": info.title} for info in rows]
        json.dump(payload, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return EXIT_CLEAN
    name_width = max((len(info.name) for info in rows), default=0)
    id_width = max((len(info.id) for info in rows), default=0)
    for info in rows:
        print(f"{info.name:<{name_width}}  {info.id:<{id_width}}  {info.title}".rstrip())
    return EXIT_CLEAN


def _display(path: str) -> str:
    """``path`` relative to the current folder when it is inside it."""
    try:
        relative = os.path.relpath(path)
    except ValueError:
        return path
    return path if relative.startswith("..") else relative
