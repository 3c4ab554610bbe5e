"""``uet scan``, ``uet profiles``, ``uet bootstrap`` and ``uet doctor``: the bootstrap from a
terminal. Each handler adapts arguments, calls ``uet.bootstrap`` and prints; the logic lives
in the domain package (the language server calls the same functions).

Exit statuses (as ``uet validate``): 0 clean, 1 problems found (ambiguous selection without
``--profile``, a plan with errors, doctor errors), 2 usage or workspace error.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from uet.bootstrap.analysis import Analysis, AnalysisOptions, analyze_workspace
from uet.bootstrap.discovery import ProgressCallback
from uet.bootstrap.doctor import apply_fixes, run_doctor, write_report
from uet.bootstrap.errors import BootstrapError
from uet.bootstrap.planner import (
    FileAction,
    apply_plan,
    plan_bootstrap,
    render_diff,
    task_sources,
)
from uet.bootstrap.reports import discovery_artifact, languages_summary
from uet.bootstrap.serialize import dump_json
from uet.bootstrap.task_sources import TaskSource
from uet.bootstrap.writer import write_state
from uet.cli.main import EXIT_CLEAN, EXIT_ERROR, EXIT_PROBLEMS

__all__ = ["DISCOVERY_PATH", "demo_commands", "register"]

DISCOVERY_PATH = ".uet/bootstrap_discovery.json"
Handler = Callable[[argparse.Namespace], int]
_PROGRESS_EVERY = 64
# A fix computed from a file an earlier fix changed is skipped and recomputed next round.
_FIX_ROUNDS = 4
_LIST_LIMIT = 20


def register(subparsers: Any) -> None:
    """Add ``scan``, ``profiles``, ``bootstrap`` and ``doctor`` to the ``uet`` parser."""
    scan = subparsers.add_parser(
        "scan",
        help="describe a workspace: languages, build files, tests, tools, VCS",
        description=f"Scan DIR and write a bootstrap_discovery artifact ({DISCOVERY_PATH}).",
    )
    _common(scan)
    scan.add_argument("--json", action="store_true", help="print the artifact; write nothing")
    scan.add_argument("--output", type=Path, metavar="FILE", help="write the artifact here")
    scan.set_defaults(handler=run_scan)

    profiles = subparsers.add_parser(
        "profiles",
        help="score every profile against a workspace and explain the scores",
        description=(
            "Score every profile (built-in and the workspace's profile_extensions/) against "
            "DIR, list the signals behind each score and mark the one uet bootstrap would use."
        ),
    )
    _common(profiles)
    profiles.add_argument("--json", action="store_true", help="print the ranking as JSON")
    profiles.set_defaults(handler=run_profiles)

    bootstrap = subparsers.add_parser(
        "bootstrap",
        help="generate the starter UET artifacts for a workspace",
        description=(
            "Generate PROJECT_PROFILE.yaml, router_config.json, phases/ and workstreams/ "
            "for the selected profile. Files you changed are kept unless --force."
        ),
    )
    _common(bootstrap)
    bootstrap.add_argument("--profile", metavar="ID", help="use this profile")
    bootstrap.add_argument("--dry-run", action="store_true", help="print a diff; write nothing")
    bootstrap.add_argument("--force", action="store_true", help="overwrite files you changed")
    bootstrap.add_argument(
        "--json",
        action="store_true",
        help=(
            "print {profile, dry_run, files, removed, stale, skipped_tasks, report} as JSON "
            "(the usual text goes to stderr)"
        ),
    )
    bootstrap.set_defaults(handler=run_bootstrap)

    doctor = subparsers.add_parser(
        "doctor",
        help="check a bootstrapped workspace and write a bootstrap_report",
        description=(
            "Check the workspace in DIR (artifacts, tools, generated files) and write "
            ".uet/bootstrap_report.json. Exit status 0 when nothing is wrong, 1 on errors."
        ),
    )
    _common(doctor)
    doctor.add_argument("--fix", action="store_true", help="apply the safe fixes")
    doctor.add_argument("--json", action="store_true", help="print the report as JSON")
    doctor.set_defaults(handler=run_doctor_command)


def _common(parser: argparse.ArgumentParser) -> None:
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


def _reported(handler: Handler) -> Handler:
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


def _options(args: argparse.Namespace) -> AnalysisOptions:
    return AnalysisOptions(use_git=not args.no_git)


@_reported
def run_scan(args: argparse.Namespace) -> int:
    """Scan, print a summary (or the artifact) and write the discovery artifact."""
    analysis = _analyze(args)
    if analysis is None:
        return EXIT_ERROR
    chosen = analysis.profiles.profiles.get(analysis.selection.chosen.profile_id)
    artifact = discovery_artifact(analysis.discovery, analysis.selection, chosen)
    text = dump_json(artifact)
    if args.json:
        sys.stdout.write(text)
    else:
        _print_discovery(analysis)
    target = args.output
    if target is None and not args.json:
        written = write_state(analysis.discovery.root, DISCOVERY_PATH, text)
        print(f"wrote {written.relative_to(analysis.discovery.root).as_posix()}")
    elif target is not None:
        target.write_text(text, encoding="utf-8")
        print(f"wrote {target}", file=sys.stderr if args.json else sys.stdout)
    return EXIT_CLEAN


@_reported
def run_profiles(args: argparse.Namespace) -> int:
    """Print every profile's score with its reasons; mark the pick."""
    analysis = _analyze(args)
    if analysis is None:
        return EXIT_ERROR
    selection = analysis.selection
    # The profile `uet bootstrap` would use now: the persisted one, else the pick unless
    # the ranking is ambiguous (then bootstrap asks for --profile, and so does this).
    selected = analysis.active_profile_id or (
        None if selection.ambiguous else selection.chosen.profile_id
    )
    if args.json:
        payload = {
            "selected": selected,
            "suggested": selection.chosen.profile_id,
            "ambiguous": selection.ambiguous,
            "fallback": selection.fallback,
            "reason": selection.reason,
            "contenders": [item.profile_id for item in selection.contenders],
            "ranking": [item.as_dict() for item in selection.ranking],
            "problems": [problem.format() for problem in analysis.profiles.problems],
            "tools": {
                name: {"path": location.path, "source": location.source}
                for name, location in sorted(analysis.discovery.tooling.tools.items())
            },
            "tasks": [source.as_dict() for source in task_sources(analysis, selected)],
        }
        json.dump(payload, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        contenders = {item.profile_id for item in selection.contenders}
        for item in selection.ranking:
            mark = "*" if item.profile_id == selected else " "
            if selected is None and item.profile_id in contenders:
                mark = "?"
            print(f"{mark} {item.profile_id:<22} {item.score:6.2f}  {item.domain}")
            for reason in item.reasons():
                print(f"      {reason}")
        _print_tooling(analysis)
        _print_task_sources(selected, task_sources(analysis, selected))
        if analysis.active_profile_id is not None:
            print(f"selected: {selected} (persisted in PROJECT_PROFILE.yaml)")
        elif selected is None:
            choices = ", ".join(sorted(contenders))
            print(f"choose one: uet bootstrap --profile ID (ID: {choices})")
            print(f"selected: none: {selection.reason}")
        else:
            print(f"selected: {selected} ({selection.reason})")
    _print_problems(analysis)
    return EXIT_PROBLEMS if _profile_errors(analysis) else EXIT_CLEAN


@_reported
def run_bootstrap(args: argparse.Namespace) -> int:
    """Plan, then print the diff (``--dry-run``) or write and check the workspace; with
    ``--json``, stdout carries one JSON document of what was planned and done."""
    if not args.json:
        return _bootstrap(args, {})
    document: dict[str, Any] = {}
    with contextlib.redirect_stdout(sys.stderr):  # the usual text, for a person
        code = _bootstrap(args, document)
    sys.stdout.write(dump_json(document))
    return code


def _bootstrap(args: argparse.Namespace, document: dict[str, Any]) -> int:
    """:func:`run_bootstrap`, recording what it plans and does in ``document``."""
    analysis = _analyze(args)
    if analysis is None:
        return EXIT_ERROR
    _print_problems(analysis)
    profile_id = args.profile or analysis.active_profile_id
    selection = analysis.selection
    if profile_id is None:
        if selection.ambiguous:
            print(f"uet: cannot choose a profile: {selection.reason}", file=sys.stderr)
            for contender in selection.contenders:
                print(f"  --profile {contender.profile_id}", file=sys.stderr)
                for reason in contender.reasons():
                    print(f"      {reason}", file=sys.stderr)
            document["error"] = f"cannot choose a profile: {selection.reason}"
            return EXIT_PROBLEMS
        profile_id = selection.chosen.profile_id
        print(f"profile: {profile_id} ({selection.reason})")
    else:
        print(f"profile: {profile_id}")
    document.update(profile=profile_id, dry_run=args.dry_run)
    plan = plan_bootstrap(analysis.discovery.root, profile_id, force=args.force, analysis=analysis)
    for problem in plan.problems:
        print(problem.format(), file=sys.stderr)
    if not plan.ok:
        print("uet: nothing written: the plan has errors (see above)", file=sys.stderr)
        document["error"] = "nothing written: the plan has errors"
        return EXIT_PROBLEMS
    document["files"] = [{"path": item.path, "action": item.action.value} for item in plan.files]
    document["stale"] = list(plan.stale)
    document["skipped_tasks"] = [
        {"phase_id": task.phase_id, "task_id": task.task_id, "reason": task.reason}
        for task in plan.generated.skipped
    ]
    document["tasks"] = [source.as_dict() for source in plan.generated.sources]
    _print_task_sources(profile_id, plan.generated.sources)
    for task in plan.generated.skipped:
        print(f"  skipped task {task.phase_id}/{task.task_id}: {task.reason}")
    if plan.generated.used_fallback:
        print("  no task of this profile can run here; the starter workstream uses fallbacks")
    if args.dry_run:
        document["removed"] = list(plan.removed)
        sys.stdout.write(render_diff(plan))
        changes = len(plan.writes())
        print(
            f"dry run: {changes} file(s) would be written, {len(plan.removed)} removed, "
            f"{len(plan.kept())} kept; nothing written"
        )
        return EXIT_CLEAN
    result = apply_plan(plan)
    for item in plan.files:
        label = {
            FileAction.CREATE: "created",
            FileAction.UPDATE: "updated",
            FileAction.OVERWRITE: "overwritten (--force)",
            FileAction.UNCHANGED: "unchanged",
            FileAction.KEEP: "kept: you changed it (use --force to overwrite)",
        }[item.action]
        print(f"  {item.path}: {label}")
    for path in result.removed:
        print(f"  {path}: no longer generated; removed")
    for path in plan.stale:
        print(f"  {path}: no longer generated, but changed by you; left in place")
    created = tuple(
        sorted(
            {
                item.path.rpartition("/")[0] + "/"
                for item in plan.files
                if item.action is FileAction.CREATE and "/" in item.path
            }
        )
    )
    doctor = run_doctor(analysis.discovery.root, _options(args), directories_created=created)
    report_path = write_report(analysis.discovery.root, doctor.report)
    document.update(removed=list(result.removed), report=doctor.report)
    for finding in doctor.findings:
        print(finding.format())
    print(
        f"{len(result.written)} file(s) written; report: {report_path} "
        f"(status: {doctor.report['status']})"
    )
    return EXIT_PROBLEMS if doctor.errors else EXIT_CLEAN


@_reported
def run_doctor_command(args: argparse.Namespace) -> int:
    """Check (and with ``--fix`` repair) the workspace; write the report."""
    options = _options(args)
    root = args.directory
    if not root.is_dir():
        print(f"uet: {root}: not a directory", file=sys.stderr)
        return EXIT_ERROR
    result = run_doctor(root, options)
    applied = 0
    for _ in range(_FIX_ROUNDS if args.fix else 0):
        done = set(apply_fixes(result.root, result.fixes))
        for fix in result.fixes:
            if fix.fix_id in done:
                print(f"fixed: {fix.title} ({', '.join(fix.paths)})")
        applied += len(done)
        result = run_doctor(root, options, fixes_applied=applied)
        if not done or not result.fixes:
            break
    report_path = write_report(result.root, result.report)
    if args.json:
        sys.stdout.write(dump_json(result.report))
    else:
        for finding in result.findings:
            print(finding.format())
        if result.fixes and not args.fix:
            print(f"{len(result.fixes)} safe fix(es) available: run uet doctor --fix")
        print(f"status: {result.report['status']}; report: {report_path}")
    return EXIT_PROBLEMS if result.errors else EXIT_CLEAN


def demo_commands(folder: Path) -> list[list[str]]:
    """The ``make demo`` sequence on a copy of a sample project (``uet`` argv lists)."""
    where = str(folder)
    return [
        ["scan", where],
        ["profiles", where],
        ["bootstrap", where, "--dry-run"],
        ["bootstrap", where],
        ["doctor", where],
        ["validate", where],
    ]


def _analyze(args: argparse.Namespace) -> Analysis | None:
    root: Path = args.directory
    if not root.is_dir():
        print(f"uet: {root}: not a directory", file=sys.stderr)
        return None
    try:
        with _progress(shown=not args.quiet) as progress:
            return analyze_workspace(root, _options(args), progress)
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


def _print_discovery(analysis: Analysis) -> None:
    discovery = analysis.discovery
    print(f"project: {discovery.project_name} ({discovery.root})")
    print(
        f"files: {len(discovery.files)} (listed by {discovery.listing_mode}"
        f"{', truncated' if discovery.truncated else ''}) in "
        f"{discovery.elapsed_seconds:.2f}s"
    )
    print(f"languages: {languages_summary(discovery, limit=6)}")
    for stat in discovery.languages[:6]:
        print(f"  {stat.language:<18} {stat.files:6d} files {stat.lines:9d} lines")
    interesting = {k: v for k, v in sorted(discovery.markers.items()) if k != "git"}
    for kind, paths in interesting.items():
        more = f" (+{len(paths) - 3} more)" if len(paths) > 3 else ""
        print(f"  {kind}: {', '.join(paths[:3])}{more}")
    vcs = discovery.vcs
    print(f"vcs: {vcs.kind + (' on ' + vcs.branch if vcs.branch else '') if vcs else 'none'}")
    print(f"ci: {', '.join(discovery.ci_systems) or 'none'}")
    _print_tooling(analysis)
    selection = analysis.selection
    profile_id = analysis.active_profile_id or (
        None if selection.ambiguous else selection.chosen.profile_id
    )
    _print_task_sources(profile_id, task_sources(analysis, profile_id))
    _print_list("UET artifacts", discovery.uet_artifacts)
    skipped = discovery.skipped
    print(
        f"skipped: {skipped.ignored} ignored, {skipped.vendored} vendored, "
        f"{skipped.symlinks_outside + skipped.symlinks_broken} symlinks not followed"
    )
    for problem in discovery.problems:
        print(f"  {problem.format()}")
    print(
        f"suggested profile: {analysis.selection.chosen.profile_id} ({analysis.selection.reason})"
    )


def _print_tooling(analysis: Analysis) -> None:
    """Where each tool's command comes from (the project's environment or PATH), the
    project's own entry points and its test runner configuration."""
    tooling = analysis.discovery.tooling
    print("tools (project environments first, then PATH):" if tooling.tools else "tools: none")
    width = max((len(name) for name in tooling.tools), default=0)
    for name, location in sorted(tooling.tools.items()):
        print(f"  {name:<{width}}  {location.path} ({location.source})")
    if tooling.entry_points:
        commands = ", ".join(" ".join(entry.command) for entry in tooling.entry_points)
        print(f"entry points: {commands}")
    configuration = tooling.runner_configuration
    if configuration is not None:
        paths = ", ".join(configuration.testpaths) or "pytest's default"
        print(
            f"tests: {configuration.tool} is configured in {configuration.file} (testpaths: "
            f"{paths}); a generated {configuration.tool} task runs plain {configuration.tool}"
        )


def _print_task_sources(profile_id: str | None, sources: tuple[TaskSource, ...]) -> None:
    """Each task the bootstrap generates for ``profile_id``: its command, and where it comes
    from (the project's entry point or a tool, and why)."""
    if profile_id is None or not sources:
        return
    print(f"generated tasks ({profile_id}), each with where its command comes from:")
    for source in sources:
        print(f"  {source.phase_id}/{source.task_id}: {source.command}")
        print(f"      {source.reason}")


def _print_list(label: str, items: tuple[str, ...] | list[str]) -> None:
    """``label: none``, or the label and one item per line (a long list stays readable)."""
    if not items:
        print(f"{label}: none")
        return
    print(f"{label}: {len(items)}")
    for item in items[:_LIST_LIMIT]:
        print(f"  {item}")
    if len(items) > _LIST_LIMIT:
        print(f"  ... and {len(items) - _LIST_LIMIT} more (uet scan --json lists them all)")


def _print_problems(analysis: Analysis) -> None:
    for problem in analysis.profiles.problems:
        print(problem.format(), file=sys.stderr)


def _profile_errors(analysis: Analysis) -> bool:
    return any(problem.level.value == "error" for problem in analysis.profiles.problems)
