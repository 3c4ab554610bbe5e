"""The run's reaper: a small process that stops a run's processes when its engine dies.

When a run starts, the engine starts one reaper for it (:func:`start`), in a process group
of its own (so a terminal's Ctrl-C or hang-up does not reach it), that waits reading a pipe
whose write end only the engine holds. When the run ends, the engine writes :data:`END` and
closes the pipe; the reaper reads it and exits, having done nothing. When the engine dies
instead, by any signal including ``kill -9``, the kernel closes its descriptors: the reaper
reads end-of-file without :data:`END`, notes the time, and stops every process of the run
that had started by then and is still alive, with the code ``uet resume`` uses
(:func:`~uet.engine.running.orphans.kill_orphan_groups`): the process groups in the run's record
whose attempts had not finished, and every process marked with the run's id, with
everything they started; then it exits. Its own environment carries no mark, so the
engine's sweep of the run's processes never hits it, and what started after the engine's
death (an engine that resumed the run meanwhile) is spared: that engine stopped what was
left itself before it started anything.

A child that was being started when the engine died (between ``vfork`` and ``exec``) holds
a copy of the pipe until just before it execs, so end-of-file comes once it carries the
run's mark or is about to: the reaper looks for marked processes again until a look finds
none.

One reaper per run, started once, instead of preparing every child between ``fork`` and
``exec`` (a parent-death signal), which would force a full ``fork`` of the engine for each
child. It waits in ``/bin/sh``, which starts far quicker than Python, and becomes a Python
interpreter (:func:`main`) only when there is something to stop. Its output goes nowhere; a
problem it meets is appended to ``reaper.log`` in the run's folder of logs.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import subprocess

__all__ = ["END", "Reaper", "main", "start"]

# What the engine writes when its run has ended: nothing is to be stopped.
END = b"end\n"
# How often, and how far apart, the reaper looks again for marked processes.
_LOOKS = 20
_LOOK_INTERVAL_SECONDS = 0.05
_DEATH_SLACK_TICKS = 2
_LOG_NAME = "reaper.log"
# The reaper waits in a shell (an interpreter would take the run's CPU to start); the shell
# ignores a terminal's signals, exits on END, and otherwise notes the time (seconds after
# boot) and becomes the interpreter that stops the processes.
_WAIT = """trap '' INT HUP
IFS= read -r line
[ "$line" = end ] && exit 0
up=
[ -r /proc/uptime ] && read -r up rest < /proc/uptime
exec "$0" -I -S -c "$1" "$2" "$3" "$4" "$5" "$up"
"""
# Run in the reaper's interpreter: ``uet`` is imported from where the engine has it
# (``-I -S``: no site packages, environment or user folders are needed, and none slow the
# start).
_BOOTSTRAP = (
    "import sys; sys.path.insert(0, sys.argv[1]); "
    "from uet.engine.running.reaper import main; sys.exit(main(sys.argv[2:]))"
)

# Reapers whose run has ended but that had not exited yet: reaped by the next start.
_ending_lock = threading.Lock()
_ending: list[subprocess.Popen[bytes]] = []


class Reaper:
    """The engine's side of a run's reaper: its process and the write end of its pipe."""

    def __init__(self, process: subprocess.Popen[bytes], write_fd: int) -> None:
        self._process = process
        self._write_fd = write_fd

    @property
    def pid(self) -> int:
        """The reaper's process id."""
        return self._process.pid

    def release(self) -> None:
        """The run has ended: tell the reaper, which exits without stopping anything (it is
        reaped now or, still starting, by the next :func:`start`)."""
        if self._write_fd < 0:
            return
        with contextlib.suppress(OSError):  # it is gone already: nothing to tell
            os.write(self._write_fd, END)
        os.close(self._write_fd)
        self._write_fd = -1
        if self._process.poll() is None:
            with _ending_lock:
                _ending.append(self._process)


def start(run_id: str, db_path: Path, logs_dir: Path) -> Reaper:
    """Start the reaper of run ``run_id`` (store at ``db_path``, logs in ``logs_dir``);
    raises ``OSError`` when it cannot be started."""
    import subprocess

    import uet

    with _ending_lock:
        _ending[:] = [process for process in _ending if process.poll() is None]
    package_root = str(Path(uet.__file__).resolve().parent.parent)
    arguments = (run_id, str(db_path), str(logs_dir))
    read_fd, write_fd = os.pipe()  # neither is inherited by the engine's other children
    try:
        process = subprocess.Popen(
            ["/bin/sh", "-c", _WAIT, sys.executable, _BOOTSTRAP, package_root, *arguments],
            stdin=read_fd,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            process_group=0,
            close_fds=True,
        )
    except BaseException:
        os.close(write_fd)
        raise
    finally:
        os.close(read_fd)
    return Reaper(process, write_fd)


def main(argv: list[str]) -> int:
    """The reaper once its engine died: ``RUN_ID DB_PATH LOGS_DIR UPTIME`` (the seconds
    after boot when end-of-file came, or empty)."""
    run_id, db_path, logs_dir, uptime = argv
    try:
        stop_run_processes(run_id, Path(db_path), Path(logs_dir), _engine_death(uptime))
    except Exception:
        _note(Path(logs_dir), traceback.format_exc())
        return 1
    return 0


def _engine_death(uptime: str) -> int:
    """The engine's death, in clock ticks after boot, with a little room (a process's start
    is counted down to the tick)."""
    from uet.engine.adapters import processes

    try:
        ticks = int(float(uptime) * os.sysconf("SC_CLK_TCK"))
    except ValueError:  # no /proc/uptime: now is the closest
        ticks = processes.boot_ticks()
    return ticks + _DEATH_SLACK_TICKS


def stop_run_processes(run_id: str, db_path: Path, logs_dir: Path, started_by: int) -> None:
    """Stop every process of run ``run_id`` that started by ``started_by`` (clock ticks
    after boot: its engine's death) and is still alive: the groups of its unfinished
    attempts and its marked processes, then marked processes again until a look finds
    none. What started later is an engine's that resumed the run, which stopped what was
    left itself before it started anything."""
    from uet.engine.adapters import processes
    from uet.engine.running.orphans import kill_orphan_groups
    from uet.engine.store.database import open_read_only

    try:
        connection = open_read_only(db_path)
    except Exception as exc:  # the marked processes are stopped all the same
        _note(logs_dir, f"cannot read the run store ({exc}): stopping marked processes only")
        connection = None
    if connection is None:
        found = processes.marked(run_id, started_by=started_by)
        processes.kill_and_reap(processes.with_descendants(found))
    else:
        try:
            kill_orphan_groups(connection, run_id, logs_dir, started_by)
        finally:
            connection.close()
    for _ in range(_LOOKS):
        time.sleep(_LOOK_INTERVAL_SECONDS)
        found = processes.marked(run_id, started_by=started_by)
        if not found:
            return
        processes.kill_and_reap(processes.with_descendants(found))


def _note(logs_dir: Path, text: str) -> None:
    """Append ``text`` to the reaper's log in the run's folder of logs (best effort)."""
    with (
        contextlib.suppress(OSError),
        (logs_dir / _LOG_NAME).open("a", encoding="utf-8") as handle,
    ):
        handle.write(f"{time.strftime('%Y-%m-%dT%H:%M:%S')} {text.rstrip()}\n")
