"""How ``uet run`` and ``uet resume`` show a run while it executes.

A rich progress bar (tasks, %, ETA, running task names) on a terminal, one plain line per
finished task otherwise, nothing with ``--json`` (stdout then carries one JSON document).

Events arrive on the engine's worker threads, between one task and the next, so a display
only records them there; the following thread (the CLI's main thread) writes what was
recorded when it calls :meth:`PlainDisplay.flush` (a few times a second), in one write.
"""

from __future__ import annotations

import collections
import os
import stat
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from uet.engine import EngineEvent, TaskStatus, Workspace

__all__ = [
    "JsonDisplay",
    "PlainDisplay",
    "RichDisplay",
    "duration",
    "output_tail",
    "print_failed_output",
]

# How much of a failed task's output the summary shows, like ninja: its last lines, read
# from the end of its log, each cut to a width.
TAIL_LINES = 15
TAIL_BYTES = 8192
TAIL_WIDTH = 300


class PlainDisplay:
    """One line per finished task on stderr (no terminal control codes)."""

    # The event kinds a display shows: the engine does not build the others for it.
    kinds: frozenset[str] = frozenset(
        ("run_started", "task_finished", "task_skipped", "retry_scheduled")
    )

    def __init__(self) -> None:
        # Appended by worker threads, emptied by flush(); deque appends and pops are atomic.
        self._lines: collections.deque[str] = collections.deque()

    def __enter__(self) -> PlainDisplay:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.flush()

    def flush(self) -> None:
        """Write the lines recorded so far (the following thread calls this)."""
        lines = []
        while self._lines:
            lines.append(self._lines.popleft())
        if lines:
            sys.stderr.write("".join(lines))
        sys.stderr.flush()

    def on_event(self, event: EngineEvent) -> None:
        snap = event.snapshot
        if event.kind == "run_started":
            self._lines.append(f"run {event.run_id}: {snap.total} task(s)\n")
        elif event.kind in ("task_finished", "task_skipped"):
            detail = "" if event.state == "succeeded" else f": {event.detail}"
            self._lines.append(
                f"[{snap.done}/{snap.total}] {event.state:<9} {event.task_id}{detail}\n"
            )
        elif event.kind == "retry_scheduled":
            self._lines.append(f"retry     {event.task_id}: {event.detail}\n")


class JsonDisplay(PlainDisplay):
    """Nothing while running: stdout carries one JSON document at the end."""

    kinds: frozenset[str] = frozenset()

    def on_event(self, event: EngineEvent) -> None:
        del event


class RichDisplay(PlainDisplay):
    """A rich progress bar: tasks, %, ETA and the names of running tasks."""

    kinds: frozenset[str] = PlainDisplay.kinds | {"task_started", "run_finished"}

    def __init__(self) -> None:
        super().__init__()
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.percentage:>3.0f}%"),
            TextColumn("ETA {task.fields[eta]}"),
            TextColumn("{task.fields[running]}", style="dim"),
            console=Console(stderr=True),
        )
        self._task = self._progress.add_task("run", total=None, eta="-", running="")

    def __enter__(self) -> RichDisplay:
        self._progress.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._progress.stop()

    def on_event(self, event: EngineEvent) -> None:
        snap = event.snapshot
        running = ", ".join(snap.running[:3]) + (" …" if len(snap.running) > 3 else "")
        eta = "-" if snap.eta_seconds is None else duration(snap.eta_seconds)
        self._progress.update(
            self._task,
            total=snap.total,
            completed=snap.done,
            eta=eta,
            running=running,
            description=event.run_id[-6:],
        )
        if event.kind == "task_finished" and event.state != "succeeded":
            self._progress.console.print(f"{event.state} {event.task_id}: {event.detail}")


def duration(seconds: float | None) -> str:
    """``830 ms``, ``41.2 s``, ``3 min 5 s``; ``-`` when unknown."""
    if seconds is None:
        return "-"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 120:
        return f"{seconds:.1f} s"
    return f"{int(seconds // 60)} min {int(seconds % 60)} s"


def output_tail(path: os.PathLike[str] | str, more: str) -> list[str]:
    """The last lines of a failed task's log, indented to go under its line in a summary:
    at most :data:`TAIL_LINES` lines from its last :data:`TAIL_BYTES` bytes, each cut to
    :data:`TAIL_WIDTH` characters, after a line saying how to see the rest (``more``) when
    there is more. Nothing for an empty, missing or unreadable log, or one that is not a
    regular file (never blocks on a FIFO)."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return []
    try:
        status = os.fstat(descriptor)
        if not stat.S_ISREG(status.st_mode):
            return []
        start = max(0, status.st_size - TAIL_BYTES)
        data = os.pread(descriptor, TAIL_BYTES, start)
    except OSError:
        return []
    finally:
        os.close(descriptor)
    lines = data.decode("utf-8", errors="replace").split("\n")
    if start:
        lines = lines[1:]  # the first line read is cut
    if lines and not lines[-1]:
        lines.pop()
    # a line redrawn with carriage returns (a progress bar) is shown as it ended
    shown = [line.rstrip("\r").rpartition("\r")[2] for line in lines[-TAIL_LINES:]]
    tail = [
        f"    | {line[:TAIL_WIDTH]}{'…' if len(line) > TAIL_WIDTH else ''}".rstrip()
        for line in shown
    ]
    if tail and (start or len(lines) > TAIL_LINES):
        tail.insert(0, f"    | … (earlier output: {more})")
    return tail


def print_failed_output(workspace: Workspace, run_id: str, task: TaskStatus) -> None:
    """Under a failed task's line (``uet run``'s summary, ``uet status``): the last lines of
    its output (see :func:`output_tail`)."""
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
