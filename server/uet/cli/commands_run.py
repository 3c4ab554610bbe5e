"""``uet run`` and ``uet resume``: start a run (or finish an interrupted one) and follow it
to its end.

Progress goes to stderr (a rich bar on a terminal, one plain line per finished task
otherwise); the summary (or, with ``--json``, one JSON document) goes to stdout. ``uet run``
exits 0 only when the run succeeded, 1 when it failed, was quarantined or canceled, 2 when
the workstream or router config is invalid (nothing started), 128 + N after signal N
(130 Ctrl-C, 143 SIGTERM, 129 SIGHUP): each cancels the run, recorded as what it was
(:mod:`uet.cli.run_signals`).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from uet.cli.engine_arguments import (
    RUN_ID_HELP,
    add_workspace_option,
    reporting_errors,
    workspace,
)
from uet.cli.main import EXIT_CLEAN, EXIT_ERROR, EXIT_PROBLEMS
from uet.cli.run_display import (
    JsonDisplay,
    PlainDisplay,
    RichDisplay,
    duration,
    print_failed_output,
)
from uet.cli.run_signals import StopSignals

if TYPE_CHECKING:  # the engine is imported when a command runs: ``uet --help`` stays fast
    from uet.engine import EngineEvent, RunHandle, RunResult, TaskStatus

__all__ = ["register"]

# The outcomes the summary lists task by task.
_UNSUCCESSFUL = ("failed", "skipped", "canceled")
# How often the progress display is brought up to date while a run executes.
_DISPLAY_INTERVAL_SECONDS = 0.2


def register(subparsers: Any) -> None:
    """Add ``run`` and ``resume`` to the ``uet`` parser."""
    run = subparsers.add_parser(
        "run",
        help="run a workstream",
        description=(
            "Run WORKSTREAM: tasks start as soon as their dependencies succeed, up to --jobs "
            "at once. With --task, only the named tasks run, with everything they depend on. "
            "Progress goes to stderr, the summary to stdout. Exit status: 0 the run "
            "succeeded, 1 it failed, was quarantined or canceled, 2 the workstream or router "
            "config is invalid or names no such task (nothing started), 128 + N after "
            "signal N (130 Ctrl-C, 143 SIGTERM, 129 SIGHUP), which cancels the run."
        ),
    )
    run.add_argument(
        "workstream", type=Path, metavar="WORKSTREAM", help="the workstream file (JSON or YAML)"
    )
    run.add_argument(
        "--task",
        "-t",
        dest="tasks",
        action="append",
        metavar="TASK_ID",
        help=(
            "run only this task and the tasks it depends on (transitively); repeat to run "
            "several (default: every task)"
        ),
    )
    _add_run_options(run)
    run.add_argument("--router", type=Path, metavar="PATH", help="router config to use")
    run.set_defaults(handler=reporting_errors(run_command))

    resume = subparsers.add_parser(
        "resume",
        help="resume an interrupted run",
        description=(
            "Finish RUN_ID after its engine stopped (a crash, kill -9, a closed terminal): "
            "tasks that succeeded are kept, the others run again, and no task is recorded "
            "completed twice. Exit statuses as for uet run."
        ),
    )
    resume.add_argument("run_id", metavar="RUN_ID", help=RUN_ID_HELP)
    _add_run_options(resume)
    add_workspace_option(resume)
    resume.set_defaults(handler=reporting_errors(resume_command))


def _add_run_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--jobs",
        "-j",
        type=int,
        metavar="N",
        help="tasks to run at once (at most the workstream's concurrency.max_parallel)",
    )
    parser.add_argument("--json", action="store_true", help="print the run's artifacts as JSON")


def run_command(args: argparse.Namespace) -> int:
    """Run WORKSTREAM: exit 0 only when the run succeeded."""
    from uet.engine import RunOptions, start_run

    options = RunOptions(
        jobs=args.jobs,
        router_path=args.router,
        requested_by="uet run",
        only_tasks=tuple(args.tasks) if args.tasks else None,
    )
    if not args.workstream.is_file():
        print(f"uet: {args.workstream}: no such file", file=sys.stderr)
        return EXIT_ERROR
    return _follow(
        lambda subscribers: start_run(args.workstream, options=options, subscribers=subscribers),
        args,
    )


def resume_command(args: argparse.Namespace) -> int:
    """Resume RUN_ID after its engine stopped."""
    from uet.engine import RunOptions, resume_run

    where = workspace(args)
    options = RunOptions(jobs=args.jobs, requested_by="uet resume")
    return _follow(
        lambda subscribers: resume_run(
            args.run_id, workspace=where, options=options, subscribers=subscribers
        ),
        args,
    )


def _follow(
    start: Callable[[list[Callable[[EngineEvent], None]]], RunHandle], args: argparse.Namespace
) -> int:
    """Start the run (``start``), show it until it ends, print its summary."""
    from uet.engine import KindFilter, SpecError

    as_json: bool = args.json
    display = (
        JsonDisplay()  # shows nothing while the run executes
        if as_json or args.quiet
        else (RichDisplay() if sys.stderr.isatty() else PlainDisplay())
    )
    stop = StopSignals()
    with stop.catching():
        try:
            handle = start([KindFilter(display.kinds, display.on_event)])
        except SpecError as exc:
            for line in exc.problems:
                print(line, file=sys.stderr)
            print(f"uet: {exc} (nothing was started)", file=sys.stderr)
            return EXIT_ERROR
        stop.follow(handle)
        with display:
            result = None
            while result is None:
                result = handle.wait(timeout=_DISPLAY_INTERVAL_SECONDS)
                display.flush()
        _print_result(handle, result, as_json)
    if stop.signum is not None:
        return 128 + stop.signum
    return EXIT_CLEAN if result.succeeded else EXIT_PROBLEMS


def _print_result(handle: RunHandle, result: RunResult, as_json: bool) -> None:
    from uet.engine import connect, run_record, step_attempt_records, task_statuses

    snap = result.snapshot
    tasks: list[TaskStatus] = []
    # The store is read for the artifacts (--json) or the tasks that did not succeed; a
    # run whose tasks all succeeded is summed up by its snapshot alone.
    if as_json or snap.failed or snap.skipped or snap.canceled:
        connection = connect(handle.workspace.db_path)
        try:
            if as_json:
                document = {
                    "run": run_record(connection, result.run_id),
                    "step_attempts": step_attempt_records(connection, result.run_id),
                }
                print(json.dumps(document, indent=2))
                return
            tasks = task_statuses(connection, result.run_id, outcomes=_UNSUCCESSFUL)
        finally:
            connection.close()
    print(
        f"run {result.run_id} {result.state} in {duration(snap.elapsed_seconds)}: {result.reason}"
    )
    print(
        f"  {snap.succeeded} succeeded, {snap.failed} failed, {snap.skipped} skipped, "
        f"{snap.canceled} canceled (of {snap.total})"
    )
    for task in tasks:
        log = f"  log: {task.logs_path}" if task.logs_path else ""
        print(f"  {task.state:<9} {task.task_id}: {task.reason}{log}")
        print_failed_output(handle.workspace, result.run_id, task)
    print(f"details: uet status {result.run_id}")
