"""``uet runs``, ``uet status`` and ``uet logs``: what the run store recorded of a workspace's
runs (those started from the editor too), read without changing it."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from uet.cli.engine_arguments import (
    RUN_ID_HELP,
    add_workspace_option,
    reporting_errors,
    resume_command,
    workspace,
)
from uet.cli.main import EXIT_CLEAN, EXIT_PROBLEMS
from uet.cli.run_display import duration, print_failed_output

__all__ = ["register"]


def register(subparsers: Any) -> None:
    """Add ``runs``, ``status`` and ``logs`` to the ``uet`` parser."""
    runs = subparsers.add_parser(
        "runs",
        help="list recent runs",
        description=(
            "List the runs of the workspace (also those started from the editor), newest "
            "first: id, state, tasks that succeeded, duration, start time, workstream."
        ),
    )
    runs.add_argument(
        "--limit",
        type=_count,
        default=20,
        metavar="N",
        help="show the N most recent runs (default: 20; 0: every run)",
    )
    runs.add_argument("--json", action="store_true", help="print the runs as a JSON array")
    add_workspace_option(runs)
    runs.set_defaults(handler=reporting_errors(runs_command))

    status = subparsers.add_parser(
        "status",
        help="show a run's tasks, states and logs",
        description=(
            "Show RUN_ID: its state and why, when it started and ended, and each task's "
            "state, attempts, duration, reason and log file."
        ),
    )
    status.add_argument("run_id", metavar="RUN_ID", help=RUN_ID_HELP)
    status.add_argument("--json", action="store_true", help="print the run's artifacts")
    add_workspace_option(status)
    status.set_defaults(handler=reporting_errors(status_command))

    logs = subparsers.add_parser(
        "logs",
        help="print the output of a run's tasks",
        description=(
            "Print the output (stdout and stderr) of RUN_ID's tasks, or of TASK only, from "
            "their last attempt unless --attempt."
        ),
    )
    logs.add_argument("run_id", metavar="RUN_ID", help=RUN_ID_HELP)
    logs.add_argument(
        "task", nargs="?", metavar="TASK", help="only this task (default: every task)"
    )
    logs.add_argument("--attempt", type=int, metavar="N", help="this attempt (default: last)")
    logs.add_argument(
        "--json",
        action="store_true",
        help="print one JSON array of {task_id, attempt, logs_path, output, error}",
    )
    add_workspace_option(logs)
    logs.set_defaults(handler=reporting_errors(logs_command))


def _count(text: str) -> int:
    """A whole number of 0 or more (an argparse type)."""
    try:
        number = int(text)
    except ValueError:
        number = -1
    if number < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number of 0 or more, not {text!r}")
    return number


def runs_command(args: argparse.Namespace) -> int:
    """List recent runs, newest first."""
    from uet.engine import list_runs, open_for_reading

    where = workspace(args)
    if not where.db_path.exists():
        print("[]" if args.json else "no runs yet", file=sys.stdout)
        return EXIT_CLEAN
    connection = open_for_reading(where.db_path)
    try:
        summaries = list_runs(connection, args.limit or sys.maxsize)
        (recorded,) = connection.execute("SELECT COUNT(*) FROM runs").fetchone()
    finally:
        connection.close()
    if args.json:
        print(json.dumps([dataclasses.asdict(summary) for summary in summaries], indent=2))
        return EXIT_CLEAN
    if not summaries:
        print("no runs yet")
        return EXIT_CLEAN
    for summary in summaries:
        counts = summary.task_counts
        done = counts.get("succeeded", 0)
        print(
            f"{summary.run_id}  {summary.state:<11} {done}/{summary.total_tasks} tasks"
            f"  {duration(summary.duration_seconds):>8}  {summary.created_at}"
            f"  {summary.workstream_id or ''}{'  (active)' if summary.active else ''}"
        )
        if summary.resume_command:
            print(f"    resume it: {resume_command(summary.resume_command, args)}")
    if len(summaries) < recorded and not args.quiet:
        print(
            f"({len(summaries)} most recent of {recorded} runs; --limit 0 lists every run)",
            file=sys.stderr,
        )
    return EXIT_CLEAN


def status_command(args: argparse.Namespace) -> int:
    """Show RUN_ID: its state, and each task's state, attempts, duration and log."""
    from uet.engine import (
        run_event_records,
        run_record,
        run_summary,
        step_attempt_records,
        task_statuses,
    )

    with _store(args) as (connection, run_id):
        if args.json:
            document = {
                "run": run_record(connection, run_id),
                "step_attempts": step_attempt_records(connection, run_id),
                "events": run_event_records(connection, run_id),
            }
            print(json.dumps(document, indent=2))
            return EXIT_CLEAN
        summary = run_summary(connection, run_id)
        tasks = task_statuses(connection, run_id)
    where = workspace(args)
    print(f"run {summary.run_id}  {summary.state}  ({summary.workstream_id})")
    if summary.state_reason:
        print(f"  {summary.state_reason}")
    if summary.resume_command:
        print(f"  resume it: {resume_command(summary.resume_command, args)}")
    print(
        f"  started {summary.started_at or '-'}  ended {summary.ended_at or '-'}"
        f"  took {duration(summary.duration_seconds)}"
    )
    width = max((len(task.task_id) for task in tasks), default=4)
    for task in tasks:
        took = duration(task.duration_ms / 1000 if task.duration_ms is not None else None)
        state = task.state
        if summary.resume_command and state == "running":
            state = "interrupted"  # its engine is gone; resume runs it again
        line = f"  {task.task_id:<{width}}  {state:<9} {task.attempts} att  {took:>8}"
        if task.state not in ("succeeded", "pending", "running") and task.reason:
            line += f"  {task.reason}"
        if task.logs_path:
            line += f"  log: {task.logs_path}"
        print(line)
        print_failed_output(where, summary.run_id, task)
    return EXIT_CLEAN


def logs_command(args: argparse.Namespace) -> int:
    """Print the logs of RUN_ID (every task, or TASK; the last attempt unless --attempt)."""
    from uet.engine import WorkspaceError

    with _store(args) as (connection, run_id):
        where = workspace(args)
        where.logs_dir  # noqa: B018 - refuses a logs folder linked out of the workspace
        query = "SELECT task_id, attempt, logs_path FROM step_attempts WHERE run_id = ?"
        parameters: list[Any] = [run_id]
        if args.task:
            query += " AND task_id = ?"
            parameters.append(args.task)
        rows = connection.execute(query + " ORDER BY sequence", parameters).fetchall()
    if args.task and not rows:
        print(f"uet: run {run_id} has no attempt of task {args.task!r}", file=sys.stderr)
        return EXIT_PROBLEMS
    chosen: dict[str, tuple[int, str | None]] = {}
    for task_id, attempt, logs_path in rows:
        if args.attempt is None or attempt == args.attempt:
            chosen[task_id] = (attempt, logs_path)
    records: list[dict[str, Any]] = []
    for task_id, (attempt, logs_path) in chosen.items():
        output: str | None = None
        error: str | None = None
        if logs_path is not None:
            try:
                path = where.log_file(logs_path)
                output = path.read_text(encoding="utf-8", errors="replace")
            except WorkspaceError as exc:
                error = f"log refused: {exc}"
            except OSError as exc:
                error = f"log unreadable: {exc.strerror or exc}"
        if args.json:
            records.append(
                {
                    "task_id": task_id,
                    "attempt": attempt,
                    "logs_path": logs_path,
                    "output": output,
                    "error": error,
                }
            )
            continue
        if len(chosen) > 1 or not args.task:
            print(f"==> {task_id} (attempt {attempt}) <==")
        if error is not None:
            print(f"({error})")
        elif output is None:
            print("(no output)")
        else:
            sys.stdout.write(output)
    if args.json:
        print(json.dumps(records, indent=2, ensure_ascii=False))
    return EXIT_CLEAN


@contextmanager
def _store(args: argparse.Namespace) -> Iterator[tuple[Any, str]]:
    """The run store, read-only, and the full id of the run ``RUN_ID`` names."""
    from uet.engine import RunNotFoundError, find_run_id, open_for_reading

    where = workspace(args)
    if not where.db_path.exists():
        raise RunNotFoundError(f"no runs in {where.root}")
    connection = open_for_reading(where.db_path)
    try:
        yield connection, find_run_id(connection, args.run_id)
    finally:
        connection.close()
