"""``uet bootstrap`` and ``uet doctor``: generate a workspace's starter UET artifacts, and
check (and with ``--fix`` repair) a bootstrapped workspace. Each handler adapts arguments,
calls ``uet.bootstrap`` and prints; the logic lives in the domain package (the language
server calls the same functions).

Exit statuses (as ``uet validate``): 0 clean, 1 problems found (ambiguous selection without
``--profile``, a plan with errors, doctor errors), 2 usage or workspace error.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from typing import Any

from uet.bootstrap.doctor import apply_fixes, run_doctor, write_report
from uet.bootstrap.planner import FileAction, apply_plan, plan_bootstrap, render_diff
from uet.bootstrap.serialize import dump_json
from uet.cli.main import EXIT_CLEAN, EXIT_ERROR, EXIT_PROBLEMS
from uet.cli.workspace_analysis import (
    add_workspace_arguments,
    analysis_options,
    analyze,
    print_problems,
    print_task_sources,
    reporting_errors,
)

__all__ = ["register"]

# A fix computed from a file an earlier fix changed is skipped and recomputed next round.
_FIX_ROUNDS = 4


def register(subparsers: Any) -> None:
    """Add ``bootstrap`` and ``doctor`` to the ``uet`` parser."""
    bootstrap = subparsers.add_parser(
        "bootstrap",
        help="generate the starter UET artifacts for a workspace",
        description=(
            "Generate PROJECT_PROFILE.yaml, router_config.json, phases/ and workstreams/ "
            "for the selected profile. Files you changed are kept unless --force."
        ),
    )
    add_workspace_arguments(bootstrap)
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
    add_workspace_arguments(doctor)
    doctor.add_argument("--fix", action="store_true", help="apply the safe fixes")
    doctor.add_argument("--json", action="store_true", help="print the report as JSON")
    doctor.set_defaults(handler=run_doctor_command)


@reporting_errors
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
    analysis = analyze(args)
    if analysis is None:
        return EXIT_ERROR
    print_problems(analysis)
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
    print_task_sources(profile_id, plan.generated.sources)
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
    doctor = run_doctor(
        analysis.discovery.root, analysis_options(args), directories_created=created
    )
    report_path = write_report(analysis.discovery.root, doctor.report)
    document.update(removed=list(result.removed), report=doctor.report)
    for finding in doctor.findings:
        print(finding.format())
    print(
        f"{len(result.written)} file(s) written; report: {report_path} "
        f"(status: {doctor.report['status']})"
    )
    return EXIT_PROBLEMS if doctor.errors else EXIT_CLEAN


@reporting_errors
def run_doctor_command(args: argparse.Namespace) -> int:
    """Check (and with ``--fix`` repair) the workspace; write the report."""
    options = analysis_options(args)
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
