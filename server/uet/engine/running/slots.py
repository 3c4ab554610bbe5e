"""Per-app concurrency limits (router ``limits.max_parallel``) that do not hold a worker.

A task whose app has no free slot is *parked*: its job leaves the worker, which takes the
next ready task, and waits in the app's queue. Each slot released hands one parked task back
to the executor (it asks for a slot again, so a task that became ready meanwhile may win the
slot; the loser parks again and the next release brings it back). A cancelled run takes
every parked task back at once (:meth:`AppSlots.drain`).

Only a task's first attempt parks. A retry, which already holds its worker through the
back-off sleep, waits for a slot in place (:meth:`AppSlots.take_waiting`), giving up when the
run is cancelled.

Thread-safe; one instance per run.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Mapping

from uet.engine.cancel import CancelToken

__all__ = ["AppSlots"]

# How often a retry waiting for a slot looks at the cancel token.
_CANCEL_CHECK_SECONDS = 0.1


class AppSlots:
    """Free slots and parked tasks of the apps that set ``limits.max_parallel``."""

    def __init__(self, limits: Mapping[str, int]) -> None:
        self._free = dict(limits)
        self._parked: dict[str, deque[str]] = {app_id: deque() for app_id in limits}
        self._changed = threading.Condition()

    def limited(self, app_id: str | None) -> bool:
        """Whether ``app_id`` has a concurrency limit."""
        return app_id is not None and app_id in self._free

    def take_or_park(self, app_id: str, task_id: str) -> bool:
        """Take a slot of ``app_id`` (True), or park ``task_id`` until one is released."""
        with self._changed:
            if self._free[app_id] > 0:
                self._free[app_id] -= 1
                return True
            self._parked[app_id].append(task_id)
            return False

    def take_waiting(self, app_id: str, cancel: CancelToken) -> bool:
        """Take a slot of ``app_id``, waiting for one; False when the run was cancelled
        first (no slot is then held)."""
        with self._changed:
            while self._free[app_id] <= 0:
                if cancel.canceled:
                    return False
                self._changed.wait(_CANCEL_CHECK_SECONDS)
            self._free[app_id] -= 1
            return True

    def release(self, app_id: str) -> str | None:
        """Give a slot of ``app_id`` back; returns a parked task to hand to the executor."""
        with self._changed:
            self._free[app_id] += 1
            self._changed.notify()
            parked = self._parked[app_id]
            return parked.popleft() if parked else None

    def drain(self) -> list[str]:
        """Every parked task (the run is being cancelled: they will not start)."""
        with self._changed:
            drained = [task_id for parked in self._parked.values() for task_id in parked]
            for parked in self._parked.values():
                parked.clear()
            return drained
