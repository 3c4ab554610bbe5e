"""Results of runs the server did not execute, and the cost of importing the run feature.

End to end (the real server, the real CLI, real task processes): a CLI run made before the
server started shows its failed and skipped tasks once the server has indexed, and a CLI
run that finishes while the server runs replaces them. Then the store reader on its own,
against real run stores and broken ones (missing, not a database, an unknown schema,
locked): it never raises. Finally, importing the run feature does not load the engine.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from uet.artifacts import load_path
from uet.engine import RunState, Workspace, start_run
from uet.lsp.features.runs import store as runs_store
from uet.lsp.features.runs.store import FinishedResults

from .conftest import WORKSPACES, codes, range_text
from .test_runs import (  # noqa: F401 - fixtures
    FLAKY,
    THREE,
    Runs,
    runs,
    runs_lsp,
    runs_root,
    state_home,
)


async def cli_run(root: Path, workstream: str) -> int:
    """``uet run`` in a terminal (another process): its exit status."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "uet",
        "run",
        workstream,
        cwd=root,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return await process.wait()


# -- end to end --------------------------------------------------------------------------


async def test_cli_runs_before_and_during_the_session_show_as_diagnostics(
    runs: Runs,  # noqa: F811 - the fixture imported above
) -> None:
    assert await cli_run(runs.root, FLAKY) == 1  # 'check' fails, 'after' is skipped
    await runs.start()
    uri = runs.session.uri(FLAKY)
    await runs.session.pushed(uri, lambda items: sorted(codes(items)) == ["UET401", "UET403"])
    items = runs.session.last_published(uri).diagnostics  # type: ignore[union-attr]
    by_code = {str(item.code): item for item in items}
    check = by_code["UET401"]
    assert range_text(check) == "14:13-14:18"  # the task_id value 'check'
    assert check.message.startswith("task 'check' failed with exit status 3")
    assert "boom: flag.txt is missing" in check.message
    (related,) = check.related_information or []
    assert related.location.uri.endswith("/check.1.log")
    assert range_text(by_code["UET403"]) == "20:13-20:18"
    assert isinstance(check.data, dict) and check.data["task_id"] == "check"
    opened = await runs.command("uet.openLog", check.data["run_id"], "check")
    assert opened["path"].endswith("check.1.log")

    (runs.root / "flag.txt").write_text("fixed\n")
    assert await cli_run(runs.root, FLAKY) == 0  # finishes while the server runs
    await runs.session.pushed(uri, lambda items: items == [])
    assert runs.session.last_published(runs.session.uri(THREE)) is None  # never published


# -- the store reader --------------------------------------------------------------------


@pytest.fixture
def store_root(tmp_path: Path) -> Path:
    """A copy of ``workspaces/runs`` (as ``runs_root``) without a run store yet."""
    root = tmp_path / "store"
    shutil.copytree(WORKSPACES / "runs", root)
    config = root / "router_config.json"
    config.write_text(config.read_text().replace("@PYTHON@", json.dumps(sys.executable)[1:-1]))
    return root.resolve()


@pytest.fixture
def flaky_store(store_root: Path) -> tuple[Path, str, str]:
    """``store_root`` after an engine run of the flaky workstream: (root, path, run id)."""
    path = store_root / FLAKY
    handle = start_run(path, workspace=Workspace(store_root))
    result = handle.wait(60)
    assert result is not None and result.state == RunState.FAILED
    return store_root, str(path), handle.run_id


def read(root: Path, path: str, shown: str = "") -> FinishedResults:
    return runs_store.finished_results(root, {path: (load_path(Path(path)), shown)})


def test_the_latest_finished_run_of_each_workstream_is_read(
    flaky_store: tuple[Path, str, str],
) -> None:
    root, path, run_id = flaky_store
    before = runs_store.store_stamp(root)
    found = read(root, path)
    (result,) = found.results
    assert (result.path, result.run_id) == (path, run_id)
    assert {status.task_id: status.state for status in result.statuses} == {
        "prepare": "succeeded",
        "check": "failed",
        "after": "skipped",
    }
    assert [item.code for item in result.diagnostics] == ["UET401", "UET403"]
    assert found.stamp == before and before[0] is not None  # as it was before the read
    assert read(root, path, shown=run_id).results == ()  # already shown: not read again
    assert read(root, str(root / THREE)).results == ()  # no run of that workstream


def test_runs_of_part_of_a_workstream_keep_the_other_tasks_outcomes(
    flaky_store: tuple[Path, str, str],
) -> None:
    """A later run of one task (uet.runTask, ``uet run --task``) must not hide the failure
    an earlier full run left on another task: runs are folded in oldest first."""
    from uet.engine import RunOptions
    from uet.lsp.features.runs.results import RunResults

    root, path, full_run = flaky_store
    later = start_run(
        Path(path), workspace=Workspace(root), options=RunOptions(only_tasks=("prepare",))
    ).wait(60)
    assert later is not None and later.state == RunState.SUCCEEDED
    found = read(root, path)
    assert [result.run_id for result in found.results] == [full_run, later.run_id]
    shown = RunResults()
    for result in found.results:
        shown.merge(path, result.statuses, result.diagnostics, result.run_id)
    assert sorted(shown.by_path[path]) == ["after", "check"]  # still failed / skipped
    assert shown.newest_run(path) == later.run_id


def test_a_locked_store_yields_nothing(
    flaky_store: tuple[Path, str, str],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    root, path, _ = flaky_store
    monkeypatch.setattr(runs_store, "READ_TIMEOUT_SECONDS", 0.1)
    holder = sqlite3.connect(root / ".uet" / "runs.db", isolation_level=None)
    try:
        holder.execute("PRAGMA locking_mode = EXCLUSIVE")
        holder.execute("BEGIN EXCLUSIVE")
        holder.execute("CREATE TABLE scratch (x)")
        assert read(root, path).results == ()
        assert "database is locked" in caplog.text
    finally:
        holder.execute("ROLLBACK")
        holder.close()


@pytest.mark.parametrize("content", ["missing", "garbage", "old-schema", "empty"])
def test_a_store_that_cannot_be_read_yields_nothing(
    store_root: Path, content: str, caplog: pytest.LogCaptureFixture
) -> None:
    root = store_root
    database = root / ".uet" / "runs.db"
    database.parent.mkdir()
    if content == "garbage":
        database.write_bytes(b"not a database " * 100)
    elif content in ("old-schema", "empty"):
        connection = sqlite3.connect(database)
        try:
            if content == "old-schema":
                connection.execute("CREATE TABLE runs (run_id TEXT, workstream TEXT)")
                connection.execute("INSERT INTO runs VALUES ('01', 'workstreams/flaky.yaml')")
                connection.commit()
        finally:
            connection.close()
    found = read(root, str(root / FLAKY))
    assert found.results == ()
    assert (found.stamp[0] is None) == (content == "missing")
    assert ("cannot read past run results" in caplog.text) == (content != "missing")
    assert not (root / ".uet" / "logs").exists()  # read-only: nothing created or migrated


# -- import cost -------------------------------------------------------------------------


def test_importing_the_run_feature_does_not_load_the_engine() -> None:
    code = (
        "import sys, uet.lsp.features.runs;"
        "print(sorted(m for m in sys.modules if m.split('.')[:2] == ['uet', 'engine']))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert loaded.strip() == "[]"
