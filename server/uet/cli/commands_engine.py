"""``uet run``, ``resume``, ``cancel``, ``runs``, ``status`` and ``logs``: the engine from a
terminal.

Progress goes to stderr (a rich bar on a terminal, one plain line per finished task
otherwise); the summary (or, with ``--json``, one JSON document) goes to stdout. ``uet run``
exits 0 only when the run succeeded, 1 when it failed, was quarantined or canceled, 2 when
the workstream or router config is invalid (nothing started), 128 + N after signal N
(130 Ctrl-C, 143 SIGTERM, 129 SIGHUP): each cancels the run, recorded as what it was.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from uet.cli.main import EXIT_CLEAN, EXIT_ERROR, EXIT_PROBLEMS
from uet.cli.run_display import JsonDisplay, PlainDisplay, RichDisplay, duration, output_tail

if TYPE_CHECKING:  # the engine is imported when a command runs: ``uet --help`` stays fast
    from uet.engine import EngineEvent, RunHandle, RunResult, TaskStatus, Workspace

__all__ = ["register"]

# The outcomes the summary lists task by task.
_UNSUCCESSFUL = ("failed", "skipped", "canceled")
# How often the progress display is brought up to date while a run executes.
_DISPLAY_INTERVAL_SECONDS = 0.2
# The signals a terminal (or a session ending) sends, and how a run they cancel records them.
_STOP_REASONS = {
    signal.SIGINT: "interrupted (Ctrl-C)",
    signal.SIGTERM: "terminated (SIGTERM)",
    signal.SIGHUP: "hung up (SIGHUP: the terminal was closed)",
}
_RUN_ID_HELP = "the run's id (a unique prefix will do), as uet run and uet runs print it"


def _reporting_errors(
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


def register(subparsers: Any) -> None:
    """Add the engine commands to the ``uet`` parser."""
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
    run.set_defaults(handler=_reporting_errors(run_command))

    resume = subparsers.add_parser(
        "resume",
        help="resume an interrupted run",
        description=(
            "Finish RUN_ID after its engine stopped (a crash, kill -9, a closed terminal): "
            "tasks that succeeded are kept, the others run again, and no task is recorded "
            "completed twice. Exit statuses as for uet run."
        ),
    )
    resume.add_argument("run_id", metavar="RUN_ID", help=_RUN_ID_HELP)
    _add_run_options(resume)
    _add_workspace_option(resume)
    resume.set_defaults(handler=_reporting_errors(resume_command))

    cancel = subparsers.add_parser(
        "cancel",
        help="cancel a run (from any process)",
        description=(
            "Ask the engine running RUN_ID (in this or any other process) to cancel it: its "
            "tasks get SIGTERM, then SIGKILL. Prints the run's state. Exit status 0 when the "
            "run is canceled, 1 when it is still running after --wait or had already ended."
        ),
    )
    cancel.add_argument("run_id", metavar="RUN_ID", help=_RUN_ID_HELP)
    cancel.add_argument(
        "--wait",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="how long to wait for the run to stop (default: 30)",
    )
    cancel.add_argument("--json", action="store_true", help="print {run_id, state} as JSON")
    _add_workspace_option(cancel)
    cancel.set_defaults(handler=_reporting_errors(cancel_command))

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
    _add_workspace_option(runs)
    runs.set_defaults(handler=_reporting_errors(runs_command))

    status = subparsers.add_parser(
        "status",
        help="show a run's tasks, states and logs",
        description=(
            "Show RUN_ID: its state and why, when it started and ended, and each task's "
            "state, attempts, duration, reason and log file."
        ),
    )
    status.add_argument("run_id", metavar="RUN_ID", help=_RUN_ID_HELP)
    status.add_argument("--json", action="store_true", help="print the run's artifacts")
    _add_workspace_option(status)
    status.set_defaults(handler=_reporting_errors(status_command))

    logs = subparsers.add_parser(
        "logs",
        help="print the output of a run's tasks",
        description=(
            "Print the output (stdout and stderr) of RUN_ID's tasks, or of TASK only, from "
            "their last attempt unless --attempt."
        ),
    )
    logs.add_argument("run_id", metavar="RUN_ID", help=_RUN_ID_HELP)
    logs.add_argument(
        "task", nargs="?", metavar="TASK", help="only this task (default: every task)"
    )
    logs.add_argument("--attempt", type=int, metavar="N", help="this attempt (default: last)")
    logs.add_argument(
        "--json",
        action="store_true",
        help="print one JSON array of {task_id, attempt, logs_path, output, error}",
    )
    _add_workspace_option(logs)
    logs.set_defaults(handler=_reporting_errors(logs_command))


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

    workspace = _workspace(args)
    options = RunOptions(jobs=args.jobs, requested_by="uet resume")
    return _follow(
        lambda subscribers: resume_run(
            args.run_id, workspace=workspace, options=options, subscribers=subscribers
        ),
        args,
    )


def cancel_command(args: argparse.Namespace) -> int:
    """Cancel RUN_ID, waiting for its engine to stop it."""
    from uet.engine import cancel_run

    workspace = _workspace(args)
    state = cancel_run(workspace.db_path, args.run_id, wait_seconds=args.wait)
    if args.json:
        print(json.dumps({"run_id": args.run_id, "state": state}))
    else:
        print(f"run {args.run_id}: {state}")
    return EXIT_CLEAN if state == "canceled" else EXIT_PROBLEMS


def runs_command(args: argparse.Namespace) -> int:
    """List recent runs, newest first."""
    from uet.engine import list_runs, open_for_reading

    workspace = _workspace(args)
    if not workspace.db_path.exists():
        print("[]" if args.json else "no runs yet", file=sys.stdout)
        return EXIT_CLEAN
    connection = open_for_reading(workspace.db_path)
    try:
        summaries = list_runs(connection, args.limit or sys.maxsize)
        (recorded,) = connection.execute("SELECT COUNT(*) FROM runs").fetchone()
    finally:
        connection.close()
    if args.json:
        import dataclasses

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
            print(f"    resume it: {_resume_command(summary.resume_command, args)}")
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
    workspace = _workspace(args)
    print(f"run {summary.run_id}  {summary.state}  ({summary.workstream_id})")
    if summary.state_reason:
        print(f"  {summary.state_reason}")
    if summary.resume_command:
        print(f"  resume it: {_resume_command(summary.resume_command, args)}")
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
        _print_output_tail(workspace, summary.run_id, task)
    return EXIT_CLEAN


def logs_command(args: argparse.Namespace) -> int:
    """Print the logs of RUN_ID (every task, or TASK; the last attempt unless --attempt)."""
    from uet.engine import WorkspaceError

    with _store(args) as (connection, run_id):
        workspace = _workspace(args)
        workspace.logs_dir  # noqa: B018 - refuses a logs folder linked out of the workspace
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
                path = workspace.log_file(logs_path)
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


def _follow(
    start: Callable[[list[Callable[[EngineEvent], None]]], RunHandle], args: argparse.Namespace
) -> int:
    """Start the run (``start``), show it until it ends, print its summary."""
    from uet.engine import SpecError
    from uet.engine.running.progress import KindFilter

    as_json: bool = args.json
    display = (
        JsonDisplay()  # shows nothing while the run executes
        if as_json or args.quiet
        else (RichDisplay() if sys.stderr.isatty() else PlainDisplay())
    )
    stop = _Stop()
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
        _print_output_tail(handle.workspace, result.run_id, task)
    print(f"details: uet status {result.run_id}")


def _print_output_tail(workspace: Workspace, run_id: str, task: TaskStatus) -> None:
    """Under a failed task: the last lines of its output (see ``output_tail``)."""
    from uet.engine import WorkspaceError

    if task.state != "failed" or not task.logs_path:
        return
    try:
        path = workspace.log_file(task.logs_path)
    except WorkspaceError:
        return  # a log linked out of the workspace is not read
    lines = output_tail(path, f"uet logs {run_id} {task.task_id}")
    if lines:
        print("\n".join(lines))


class _Stop:
    """SIGINT, SIGTERM and SIGHUP while a run executes (main thread only): the first one
    cancels the run with its own reason (:data:`_STOP_REASONS`). The run's children live in
    their own process groups, so they are stopped by the engine, never by the signal.

    SIGHUP means the terminal is gone: the standard streams that were terminals are pointed
    at ``/dev/null`` first, so that the progress display and the summary do not fail."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self._handle: RunHandle | None = None
        self._terminals = [fd for fd in (1, 2) if _is_terminal(fd)]

    @contextmanager
    def catching(self) -> Iterator[None]:
        """Route the stop signals here while the body runs."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {signum: signal.signal(signum, self._on_signal) for signum in _STOP_REASONS}
        try:
            yield
        finally:
            for signum, old_handler in previous.items():
                signal.signal(signum, old_handler)

    def follow(self, handle: RunHandle) -> None:
        """The run to cancel (at once, if a signal came while it was being started)."""
        self._handle = handle
        if self.signum is not None:
            handle.cancel(_STOP_REASONS[signal.Signals(self.signum)])

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        del frame
        if signum == signal.SIGHUP:
            self._silence_terminals()
        if self.signum is not None:
            return  # canceling already
        self.signum = signum
        reason = _STOP_REASONS[signal.Signals(signum)]
        with contextlib.suppress(OSError, ValueError):
            print(f"\n{reason}: canceling (tasks get SIGTERM, then SIGKILL)…", file=sys.stderr)
            sys.stderr.flush()
        if self._handle is not None:
            self._handle.cancel(reason)

    def _silence_terminals(self) -> None:
        if not self._terminals:
            return
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            for fd in self._terminals:
                os.dup2(devnull, fd)
        finally:
            os.close(devnull)
        self._terminals = []


def _is_terminal(fd: int) -> bool:
    try:
        return os.isatty(fd)
    except OSError:
        return False


@contextmanager
def _store(args: argparse.Namespace) -> Iterator[tuple[Any, str]]:
    from uet.engine import RunNotFoundError, find_run_id, open_for_reading

    workspace = _workspace(args)
    if not workspace.db_path.exists():
        raise RunNotFoundError(f"no runs in {workspace.root}")
    connection = open_for_reading(workspace.db_path)
    try:
        yield connection, find_run_id(connection, args.run_id)
    finally:
        connection.close()


def _resume_command(command: str, args: argparse.Namespace) -> str:
    """``command`` (``uet resume RUN_ID``) with the ``--workspace`` this command was given."""
    workspace = getattr(args, "workspace", None)
    if workspace is None:
        return command
    import shlex

    return f"{command} --workspace {shlex.quote(str(workspace))}"


def _workspace(args: argparse.Namespace) -> Workspace:
    from uet.engine import find_workspace

    start = getattr(args, "workspace", None)
    return find_workspace(start)


def _count(text: str) -> int:
    """A whole number of 0 or more (an argparse type)."""
    try:
        number = int(text)
    except ValueError:
        number = -1
    if number < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number of 0 or more, not {text!r}")
    return number


def _add_run_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--jobs",
        "-j",
        type=int,
        metavar="N",
        help="tasks to run at once (at most the workstream's concurrency.max_parallel)",
    )
    parser.add_argument("--json", action="store_true", help="print the run's artifacts as JSON")


def _add_workspace_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--workspace", type=Path, metavar="DIR", help="workspace root (default: found from .)"
    )
