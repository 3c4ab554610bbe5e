"""A run's process-group record and its reaper: what finds a run's processes after its
engine died.

Each child's process group is appended to the record as soon as the child starts (see
:mod:`uet.engine.adapters.spawn`), through a descriptor the engine opens for the run: once
written it is in the kernel, so a dead engine cannot lose it. The run's reaper
(:mod:`uet.engine.running.reaper`) is started with the record and stops the run's processes
if the engine dies; ``uet resume`` and ``uet cancel`` read the record too
(:func:`read_process_record`).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from uet.engine.running import reaper
from uet.engine.workspace import LOGS_DIR_NAME

__all__ = [
    "PROCESS_RECORD_NAME",
    "ProcessRecord",
    "process_record_path",
    "read_process_record",
    "run_logs_dir",
]

# The run's process-group record, in the run's folder of logs.
PROCESS_RECORD_NAME = "process-groups"

log = logging.getLogger(__name__)


class ProcessRecord:
    """The process-group record of run ``run_id`` (logs in ``logs_dir``, store at
    ``db_path``) and its reaper, while the run executes."""

    def __init__(self, run_id: str, db_path: Path, logs_dir: Path) -> None:
        self._run_id = run_id
        self._db_path = db_path
        self._logs_dir = logs_dir
        self._reaper: reaper.Reaper | None = None
        self.fd = -1  # the record, open for appending (-1: closed)

    def open(self) -> None:
        """Open the record for appending and start the run's reaper."""
        path = process_record_path(self._logs_dir)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.fd = os.open(
            path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600
        )
        try:
            self._reaper = reaper.start(self._run_id, self._db_path, self._logs_dir)
        except OSError as exc:  # uet resume still stops what the run leaves behind
            log.warning("run %s has no reaper: %s", self._run_id, exc)

    def close(self) -> None:
        """Close the record and let the reaper go (the run has ended)."""
        if self._reaper is not None:
            self._reaper.release()
            self._reaper = None
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def process_record_path(run_logs_dir: Path) -> Path:
    """Where the process groups of the run whose logs are in ``run_logs_dir`` are recorded."""
    return run_logs_dir / PROCESS_RECORD_NAME


def run_logs_dir(db_path: Path, run_id: str) -> Path:
    """The folder of run ``run_id``'s logs next to the run store at ``db_path``."""
    return db_path.parent / LOGS_DIR_NAME / run_id


def read_process_record(run_logs_dir: Path) -> list[tuple[int, float | None, str]]:
    """The ``(process group, time recorded, attempt id)`` lines of a run's process-group
    record (none when it does not exist)."""
    try:
        text = process_record_path(run_logs_dir).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    entries = []
    for line in text.splitlines():
        fields = line.split()
        try:
            pgid = int(fields[0])
            recorded_at = float(fields[1]) if len(fields) > 1 else None
        except (ValueError, IndexError):
            continue  # a line cut short by a crash
        if pgid > 1:
            entries.append((pgid, recorded_at, fields[2] if len(fields) > 2 else ""))
    return entries
