"""``RunMonitor``: answers about the runs in a run store, for programs and dashboards.

It offers the original UET's monitor methods (``get_run_metrics``, ``get_summary``) over the
queries ``uet runs`` and ``uet status`` use (:mod:`uet.engine.running.monitor`): a run
whose engine is gone shows as ``interrupted`` here too. Reading never blocks a run that
is writing the store.
"""

from __future__ import annotations

import os
from pathlib import Path
from types import TracebackType

from uet.engine.errors import StoreError
from uet.engine.running.monitor import (
    RunMetrics,
    RunSummary,
    SystemSummary,
    list_runs,
    run_metrics,
    run_summary,
    system_summary,
)
from uet.engine.store.database import open_for_reading
from uet.engine.store.records import find_run_id

__all__ = ["RunMonitor"]


class RunMonitor:
    """Reads the run store at ``db`` (a workspace's ``.uet/runs.db``).

    Raises :class:`~uet.engine.errors.StoreError` when there is no readable store there.
    Use it from the thread that made it; :meth:`close` it (or use ``with``) when done.
    """

    def __init__(self, db: str | os.PathLike[str]) -> None:
        self.db_path = Path(db)
        if not self.db_path.is_file():  # SQLite would make an empty database of nothing
            raise StoreError(f"there is no run store at {self.db_path}")
        self._connection = open_for_reading(self.db_path)

    def get_run_metrics(self, run_id: str) -> RunMetrics:
        """Attempt counts, durations and throughput of a run (its id, or a unique prefix);
        raises :class:`~uet.engine.errors.RunNotFoundError`."""
        return run_metrics(self._connection, find_run_id(self._connection, run_id))

    def get_run_summary(self, run_id: str) -> RunSummary:
        """One run at a glance: state, task counts, times, how to resume it."""
        return run_summary(self._connection, find_run_id(self._connection, run_id))

    def get_summary(self) -> SystemSummary:
        """The whole store: runs by state, the runs executing now, every app's record."""
        return system_summary(self._connection)

    def list_runs(self, limit: int = 20) -> list[RunSummary]:
        """The most recent runs, newest first."""
        return list_runs(self._connection, limit)

    def list_active_runs(self) -> list[str]:
        """The ids of the runs whose engine is executing them now."""
        return self.get_summary().active_runs

    def close(self) -> None:
        """Release the database connection."""
        self._connection.close()

    def __enter__(self) -> RunMonitor:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
