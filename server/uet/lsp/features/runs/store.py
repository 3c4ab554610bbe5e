"""What the run features read from the run stores (``.uet/runs.db``) and the engine
workspaces: run listings, finding a run, attempt logs, and the results of finished runs.

Every function here blocks (SQLite, the file system) and is called in the server's thread
pool, never on the event loop. ``uet.engine`` and ``sqlite3`` are imported inside the
functions: the server imports every feature module at start-up and must stay quick to
start; the engine is loaded by the first run or the first store that exists.

:func:`finished_results` reads stores that another process may be writing or that an older
or newer uet created: it opens them **read-only** (nothing is created or migrated), and a
store that is missing, locked, corrupt or of a schema it cannot read yields no results and
a log line, never an error. Listings, run lookups and logs open stores with
``uet.engine.open_for_reading``, so they work on a read-only ``.uet`` too; a run whose
engine is gone is listed ``interrupted`` with its ``resumeCommand``.
"""

from __future__ import annotations

import importlib
import logging
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from uet.lsp.convert import uri_of
from uet.lsp.runtime import IMPORT_LOCK

if TYPE_CHECKING:
    import sqlite3

    from uet.artifacts import Diagnostic, ParsedFile
    from uet.engine import TaskStatus, Workspace

__all__ = [
    "FINISHED_STATES",
    "READ_TIMEOUT_SECONDS",
    "RUNS_READ_PER_WORKSTREAM",
    "STORE_PATH",
    "FinishedResults",
    "PastResult",
    "StoreStamp",
    "find_run",
    "finished_results",
    "folder_workspaces",
    "load_engine",
    "log_path",
    "read_runs",
    "store_stamp",
    "workspace_of",
    "workspaces_of",
]

log = logging.getLogger("uet.lsp")

FINISHED_STATES = ("succeeded", "failed", "canceled", "quarantined")
# A reader of a WAL store is rarely blocked (only while another process recovers it); a
# poll gives up after this long and tries again when the store next changes.
READ_TIMEOUT_SECONDS = 2.0
# Where a workspace keeps its run store (``uet.engine.Workspace.db_path``), spelled out so
# that watching a workspace where nothing ever ran does not load the engine.
STORE_PATH = (".uet", "runs.db")
# (mtime_ns, size) of the database and of its write-ahead log; None for a missing file.
StoreStamp = tuple[tuple[int, int] | None, tuple[int, int] | None]
_FINISHED = (
    "SELECT workstream_path, run_id FROM runs"
    f" WHERE state IN ({', '.join(repr(state) for state in FINISHED_STATES)})"
    " AND workstream_path IS NOT NULL ORDER BY run_id"
)
# At most this many finished runs of one workstream are read (the newest): enough for the
# outcome of every task when runs cover parts of it (uet.runTask, ``uet run --task``).
RUNS_READ_PER_WORKSTREAM = 20


@dataclass(frozen=True, slots=True)
class PastResult:
    """The task outcomes of one finished run of one workstream file."""

    path: str  # the workstream file (symlinks resolved, as the index keys it)
    run_id: str
    statuses: tuple[TaskStatus, ...]
    diagnostics: tuple[Diagnostic, ...]


@dataclass(frozen=True, slots=True)
class FinishedResults:
    """What :func:`finished_results` found, and the store's stamp before it read."""

    stamp: StoreStamp
    results: tuple[PastResult, ...]


# Engine modules the run feature imports by their own names (not through ``uet.engine``).
_ENGINE_MODULES_USED_DIRECTLY = (
    "uet.engine.trust",
    "uet.engine.store.task_diagnostics",
    "uet.engine.store.database",
    "uet.engine.adapters.base",
)


def load_engine() -> None:
    """Load every module behind ``uet.engine``'s public names (it loads each on first use),
    so that the handlers' ``from uet.engine import ...`` on the event loop finds them
    loaded. Thread pool only; nearly free once done."""
    with IMPORT_LOCK:  # a run, the history reader and trust may load it at once
        import uet.engine

        for name in uet.engine.__all__:
            getattr(uet.engine, name)
        for module in _ENGINE_MODULES_USED_DIRECTLY:
            importlib.import_module(module)


def workspace_of(path: Path, folder: Path) -> Workspace:
    """The engine workspace of a workstream file (its folder when no marker says otherwise);
    loads the engine for the run about to start (:func:`load_engine`)."""
    load_engine()
    from uet.engine import find_workspace

    return find_workspace(path, cwd=folder)


def folder_workspaces(folders: Iterable[Path]) -> list[Path]:
    """The engine workspace roots of the workspace folders."""
    from uet.engine import find_workspace

    return [find_workspace(folder, cwd=folder).root for folder in folders]


def workspaces_of(files: Iterable[tuple[str, Path]]) -> dict[Path, list[str]]:
    """Group ``(path, workspace folder)`` pairs by the engine workspace each file belongs
    to (looked up once per directory)."""
    from uet.engine import find_workspace

    roots: dict[Path, Path] = {}
    grouped: dict[Path, list[str]] = {}
    for path, folder in files:
        directory = Path(path).parent
        root = roots.get(directory)
        if root is None:
            root = roots[directory] = find_workspace(directory, cwd=folder).root
        grouped.setdefault(root, []).append(path)
    return grouped


def store_stamp(root: Path) -> StoreStamp:
    """The stamp of ``root``'s run store: it changes whenever a process writes to it."""
    database = root.joinpath(*STORE_PATH)
    return _stamp(database), _stamp(database.with_name("runs.db-wal"))


def finished_results(
    root: Path, candidates: Mapping[str, tuple[ParsedFile, str]]
) -> FinishedResults:
    """For each workstream file of ``candidates`` (``path → (parsed file, newest run id
    already shown)``), the task outcomes of its finished runs in ``root``'s store that are
    newer than the one shown (at most :data:`RUNS_READ_PER_WORKSTREAM`), oldest first, so
    that folding them in order leaves each task's latest outcome. Read-only; problems are
    logged."""
    stamp = store_stamp(root)
    if stamp[0] is None or not candidates:
        return FinishedResults(stamp, ())
    import sqlite3

    from uet.engine import EngineError, Workspace
    from uet.engine.store.database import open_read_only

    try:
        database = Workspace(root).db_path  # refused when .uet leads out of the workspace
    except EngineError as error:
        log.warning("not reading past run results: %s", error)
        return FinishedResults(stamp, ())
    try:
        connection = open_read_only(database, READ_TIMEOUT_SECONDS)
    except (EngineError, sqlite3.Error) as error:
        log.warning("cannot read past run results from %s: %s", database, error)
        return FinishedResults(stamp, ())
    try:
        results = _read_finished(connection, root, candidates)
    except sqlite3.Error as error:  # locked, corrupt, not a run store, another schema
        log.warning("cannot read past run results from %s: %s", database, error)
        return FinishedResults(stamp, ())
    finally:
        connection.close()
    return FinishedResults(stamp, tuple(results))


def read_runs(roots: Iterable[Path], limit: int) -> list[dict[str, Any]]:
    """The newest ``limit`` runs of the stores of ``roots``, as ``uet.listRuns`` rows."""
    from uet.engine import EngineError, Workspace, list_runs, open_for_reading

    rows: list[dict[str, Any]] = []
    for root in roots:
        try:
            db_path = Workspace(root).db_path
        except EngineError as error:  # .uet leads out of the workspace
            log.warning("not listing runs: %s", error)
            continue
        if not db_path.is_file():
            continue
        try:
            connection = open_for_reading(db_path)
        except EngineError as error:  # unreadable, or of a schema this uet cannot read
            log.warning("not listing runs: %s", error)
            continue
        try:
            summaries = list_runs(connection, limit)
        finally:
            connection.close()
        for summary in summaries:
            path = Path(summary.workstream_path or "")
            rows.append(
                {
                    "runId": summary.run_id,
                    "workspace": str(root),
                    "workstreamId": summary.workstream_id,
                    "workstreamPath": summary.workstream_path,
                    "uri": uri_of(str(root / path)) if summary.workstream_path else None,
                    "state": summary.state,
                    "reason": summary.state_reason,
                    "createdAt": summary.created_at,
                    "startedAt": summary.started_at,
                    "endedAt": summary.ended_at,
                    "durationSeconds": summary.duration_seconds,
                    "taskCounts": summary.task_counts,
                    "totalTasks": summary.total_tasks,
                    "active": summary.active,
                    "resumeCommand": summary.resume_command,
                }
            )
    rows.sort(key=lambda row: str(row["runId"]), reverse=True)
    return rows[:limit]


def find_run(roots: Iterable[Path], run_text: str) -> tuple[Workspace, str] | None:
    """The workspace and full id of the run ``run_text`` names (id or unique prefix)."""
    from uet.engine import EngineError, Workspace, find_run_id, open_for_reading

    for root in roots:
        workspace = Workspace(root)
        try:
            db_path = workspace.db_path
        except EngineError as error:  # .uet leads out of the workspace
            log.warning("not looking for runs: %s", error)
            continue
        if not db_path.is_file():
            continue
        try:
            connection = open_for_reading(db_path)
        except EngineError as error:
            log.warning("not looking for runs: %s", error)
            continue
        try:
            return workspace, find_run_id(connection, run_text)
        except EngineError:
            continue
        finally:
            connection.close()
    return None


def log_path(workspace: Workspace, run_id: str, task_id: str | None) -> Path | None:
    """The log of ``task_id``'s last attempt in ``run_id`` (default: the run's first failed
    task, else its last task that has a log; ``None`` for one outside ``.uet/logs``)."""
    from uet.engine import EngineError, open_for_reading, task_statuses

    connection = open_for_reading(workspace.db_path)
    try:
        statuses = task_statuses(connection, run_id)
    finally:
        connection.close()
    with_logs = [status for status in statuses if status.logs_path]
    if task_id is not None:
        chosen = [status for status in with_logs if status.task_id == task_id]
    else:
        chosen = [status for status in with_logs if status.state == "failed"] or with_logs[-1:]
    if not chosen or chosen[0].logs_path is None:
        return None
    try:
        return workspace.log_file(chosen[0].logs_path)
    except EngineError as error:  # the logs folder or the stored path leads out
        log.warning("not opening a log: %s", error)
        return None


def _read_finished(
    connection: sqlite3.Connection,
    root: Path,
    candidates: Mapping[str, tuple[ParsedFile, str]],
) -> list[PastResult]:
    from uet.engine import task_statuses
    from uet.engine.store.task_diagnostics import task_result_diagnostics

    newer: dict[str, list[str]] = {}  # path → ids of finished runs not shown yet, oldest first
    for row in connection.execute(_FINISHED).fetchall():
        path = os.path.realpath(root / str(row["workstream_path"]))
        run_id = str(row["run_id"])
        candidate = candidates.get(path)
        if candidate is None or run_id <= candidate[1]:
            continue  # not a workstream of the index, or not newer than what is shown
        newer.setdefault(path, []).append(run_id)
    results: list[PastResult] = []
    for path, run_ids in newer.items():
        parsed = candidates[path][0]
        for run_id in run_ids[-RUNS_READ_PER_WORKSTREAM:]:
            statuses = task_statuses(connection, run_id)
            diagnostics = task_result_diagnostics(parsed, statuses, root, run_id)
            results.append(PastResult(path, run_id, tuple(statuses), tuple(diagnostics)))
    return results


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        info = path.stat()
    except OSError:
        return None
    return info.st_mtime_ns, info.st_size
