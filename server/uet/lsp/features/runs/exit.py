"""The end of ``uet serve`` for the runs it executes: whatever ended the server (``exit``,
the end of its input, SIGTERM, SIGHUP), they are canceled and their processes are gone
before the process exits (``shutdown`` cancels them earlier, on the loop).

Plain Python, called by ``uet.cli.commands_server`` once the event loop has stopped (or
from a signal handler): the loop's tasks that followed the runs are gone by then, so the
runs are found through the engine itself (:func:`uet.engine.running.handle.executing_runs`).
"""

from __future__ import annotations

import sys
import time

__all__ = ["EXIT_WAIT_MARGIN_SECONDS", "stop_every_run"]

# How long stop_every_run waits for canceled runs, beyond their tasks' kill grace period.
EXIT_WAIT_MARGIN_SECONDS = 2.0


def stop_every_run(reason: str) -> int:
    """Cancel every run executing in this process and wait until they have ended (their
    tasks get SIGTERM, then SIGKILL after the kill grace period); what is still alive after
    that gets SIGKILL at once. Returns how many runs were stopped."""
    engine_handles = sys.modules.get("uet.engine.running.handle")  # loaded if anything ever ran
    handles = engine_handles.executing_runs() if engine_handles is not None else []
    for handle in handles:
        handle.cancel(reason)
    if handles:
        from uet.engine.adapters.base import DEFAULT_KILL_GRACE_SECONDS

        deadline = time.monotonic() + DEFAULT_KILL_GRACE_SECONDS + EXIT_WAIT_MARGIN_SECONDS
        for handle in handles:
            try:
                handle.wait(max(0.0, deadline - time.monotonic()))
            except Exception:  # an engine error: the run logged it, the others go on
                continue
    spawn = sys.modules.get("uet.engine.adapters.spawn")  # loaded if anything ever ran
    if spawn is not None:
        spawn.kill_every_group()
    return len(handles)
