"""Starting runs: the engine's entry points.

:func:`start_run` checks and plans the workstream in the caller's thread (so an invalid
workstream or an unroutable task raises :class:`~uet.engine.errors.SpecError` before
anything starts), records the run, and executes it on a background thread. The returned
:class:`~uet.engine.running.handle.RunHandle` lets the caller subscribe to progress events, cancel,
and wait. Resuming a run whose engine died is :func:`uet.engine.running.resume.resume_run`
(not imported here: a new run does not need it); cancelling from another process is
:func:`uet.engine.running.control.cancel_run`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from pathlib import Path

from uet.engine.planning.plan import plan_run
from uet.engine.planning.routing import AppStats
from uet.engine.running.handle import RunHandle, RunResult, new_session, open_run_store
from uet.engine.running.ownership import Owner, claim_run
from uet.engine.running.progress import Subscriber
from uet.engine.running.resilience import Breaker, load_breakers
from uet.engine.running.session import RunOptions, load_app_stats
from uet.engine.store.ids import new_ulid
from uet.engine.store.records import NewRun, insert_run
from uet.engine.workspace import Workspace, find_workspace

__all__ = ["RunHandle", "RunResult", "start_run"]


def start_run(
    workstream_path: Path,
    *,
    workspace: Workspace | None = None,
    options: RunOptions | None = None,
    subscribers: Iterable[Subscriber] = (),
) -> RunHandle:
    """Check, plan and start the workstream at ``workstream_path``.

    Raises :class:`~uet.engine.errors.SpecError` (nothing started) when the workstream or
    router config is invalid, has a dependency cycle, or has a task no app can run.
    """
    options = options or RunOptions()
    workspace = workspace or find_workspace(workstream_path)
    plan = plan_run(
        workspace,
        workstream_path,
        router_path=options.router_path,
        jobs=options.jobs,
        only_tasks=options.only_tasks,
    )
    owner = Owner.current()
    run_id = new_ulid()
    workstream = plan.workstream
    new_run = NewRun(
        run_id=run_id,
        project_id=workstream.project_id,
        phase_id=workstream.phase_id,
        workstream_id=workstream.workstream_id,
        workstream_path=str(plan.document.get("workstream_path") or ""),
        workspace=str(workspace.root),
        plan=plan.document,
        tasks=[(task.task_id, task.name) for task in workstream.tasks],
        requested_by=options.requested_by,
        trigger_type=options.trigger_type,
    )

    def record(connection: sqlite3.Connection) -> tuple[dict[str, Breaker], dict[str, AppStats]]:
        insert_run(connection, new_run)
        claim_run(connection, run_id, owner, None)
        return load_breakers(connection), load_app_stats(connection)

    # Only a valid plan opens the store: a refused workstream leaves nothing behind.
    workspace.make_state_dirs()
    store = open_run_store(workspace.db_path, run_id, owner)
    try:
        breakers, stats = store.writer.call(record)
    except BaseException:
        store.writer.close()
        raise
    session = new_session(
        plan,
        run_id=run_id,
        options=options,
        owner=owner,
        breakers=breakers,
        stats=stats,
        store=store,
    )
    for subscriber in subscribers:
        session.bus.subscribe(subscriber)
    return RunHandle(session, start=True).launch()
