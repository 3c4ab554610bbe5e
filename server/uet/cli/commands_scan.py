"""``uet scan`` and ``uet profiles``: describe a workspace (languages, build files, tools,
the profile that fits it and why) without generating anything; ``uet scan`` records what it
found in a discovery artifact.

Exit statuses (as ``uet validate``): 0 clean, 1 problems found (``profiles``: a profile
with errors), 2 usage or workspace error.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from uet.bootstrap.analysis import Analysis
from uet.bootstrap.planner import task_sources
from uet.bootstrap.reports import discovery_artifact, languages_summary
from uet.bootstrap.serialize import dump_json
from uet.bootstrap.writer import write_state
from uet.cli.main import EXIT_CLEAN, EXIT_ERROR, EXIT_PROBLEMS
from uet.cli.workspace_analysis import (
    add_workspace_arguments,
    analyze,
    print_problems,
    print_task_sources,
    reporting_errors,
)

__all__ = ["DISCOVERY_PATH", "register"]

DISCOVERY_PATH = ".uet/bootstrap_discovery.json"
_LIST_LIMIT = 20


def register(subparsers: Any) -> None:
    """Add ``scan`` and ``profiles`` to the ``uet`` parser."""
    scan = subparsers.add_parser(
        "scan",
        help="describe a workspace: languages, build files, tests, tools, VCS",
        description=f"Scan DIR and write a bootstrap_discovery artifact ({DISCOVERY_PATH}).",
    )
    add_workspace_arguments(scan)
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
    add_workspace_arguments(profiles)
    profiles.add_argument("--json", action="store_true", help="print the ranking as JSON")
    profiles.set_defaults(handler=run_profiles)


@reporting_errors
def run_scan(args: argparse.Namespace) -> int:
    """Scan, print a summary (or the artifact) and write the discovery artifact."""
    analysis = analyze(args)
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


@reporting_errors
def run_profiles(args: argparse.Namespace) -> int:
    """Print every profile's score with its reasons; mark the pick."""
    analysis = analyze(args)
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
        print_task_sources(selected, task_sources(analysis, selected))
        if analysis.active_profile_id is not None:
            print(f"selected: {selected} (persisted in PROJECT_PROFILE.yaml)")
        elif selected is None:
            choices = ", ".join(sorted(contenders))
            print(f"choose one: uet bootstrap --profile ID (ID: {choices})")
            print(f"selected: none: {selection.reason}")
        else:
            print(f"selected: {selected} ({selection.reason})")
    print_problems(analysis)
    return EXIT_PROBLEMS if _profile_errors(analysis) else EXIT_CLEAN


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
    print_task_sources(profile_id, task_sources(analysis, profile_id))
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


def _profile_errors(analysis: Analysis) -> bool:
    return any(problem.level.value == "error" for problem in analysis.profiles.problems)
