"""Running workstreams from the editor, end to end: the real server over stdio, the real
engine, real task processes (``workspaces/runs/task.py``, run by this interpreter).

Progress (create → begin → report* → end), the three ways to cancel (progress Cancel,
``$/cancelRequest``, ``uet.cancelRun``) with the task's process gone afterwards, results as
diagnostics that clear on success, trust, the log fallback without work-done progress,
hover during a run, code lenses / code actions, and CLI runs seen and cancelled from the
editor. Every test gets its own ``XDG_STATE_HOME``, so trust answers never leak.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

import pytest
import pytest_lsp
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from uet.engine import ProgressSnapshot
from uet.lsp.features.runs.editor import source_wanted
from uet.lsp.features.runs.progress import format_seconds, report_message, summary_message

from .conftest import (
    SERVER,
    WORKSPACES,
    Session,
    _install_handlers,
    codes,
    profile_capabilities,
    range_text,
    until,
)

THREE = "workstreams/three.yaml"
SLEEPY = "workstreams/sleepy.yaml"
FLAKY = "workstreams/flaky.yaml"
TRUST, DISTRUST = "Trust and run", "Don't trust"


@dataclass
class Runs:
    """A session plus what the run features send: progress in arrival order, run status
    notifications, questions asked and the answers to give."""

    session: Session
    caps: types.ClientCapabilities
    progress: list[tuple[str, str, Any]] = field(default_factory=list)  # (token, kind, value)
    statuses: list[dict[str, Any]] = field(default_factory=list)
    questions: list[types.ShowMessageRequestParams] = field(default_factory=list)
    answers: list[str | None] = field(default_factory=list)
    lens_refreshes: int = 0

    @property
    def client(self) -> LanguageClient:
        return self.session.client

    @property
    def root(self) -> Path:
        return self.session.root

    async def start(self, settings: dict[str, Any] | None = None) -> None:
        """Initialize (trusted unless ``settings`` say otherwise); wait for the index."""
        options = {"trustedWorkspace": True} if settings is None else settings
        await self.client.initialize_session(
            types.InitializeParams(
                capabilities=self.caps,
                root_uri=self.root.as_uri(),
                workspace_folders=[types.WorkspaceFolder(uri=self.root.as_uri(), name="ws")],
                initialization_options=options,
            )
        )
        self.session.started = True
        if self.caps.window and self.caps.window.work_done_progress:
            await until(lambda: any(kind == "end" for _, kind, _ in self.progress))

    async def command(self, name: str, *arguments: Any) -> Any:
        return await self.client.workspace_execute_command_async(
            types.ExecuteCommandParams(command=name, arguments=list(arguments))
        )

    def run_tokens(self) -> list[str]:
        """Tokens of run progress (not indexing), in creation order."""
        return [
            token
            for token, kind, value in self.progress
            if kind == "begin" and value.title.startswith("UET: ")
        ]

    def sequence(self, token: str) -> list[tuple[str, Any]]:
        return [(kind, value) for seen, kind, value in self.progress if seen == token]

    async def ended(self, token: str) -> Any:
        await until(lambda: any(kind == "end" for kind, _ in self.sequence(token)))
        return self.sequence(token)[-1][1]

    async def status(self, run_id: str, state: str) -> dict[str, Any]:
        """Wait for a ``uet/runStatus`` of ``run_id`` in ``state``."""
        await until(lambda: self.find_status(run_id, state) is not None)
        found = self.find_status(run_id, state)
        assert found is not None
        return found

    def find_status(self, run_id: str | None, state: str) -> dict[str, Any] | None:
        for status in self.statuses:
            if (run_id is None or status["runId"] == run_id) and status["state"] == state:
                return status
        return None

    def pid(self, task: str) -> int | None:
        path = self.root / ".pids" / f"{task}.pid"
        return int(path.read_text()) if path.is_file() else None

    def recorded_groups(self) -> list[int]:
        """Process groups of the attempts the run store has as running."""
        connection = sqlite3.connect(self.root / ".uet" / "runs.db")
        try:
            rows = connection.execute(
                "SELECT process_group FROM step_attempts WHERE state = 'running'"
            ).fetchall()
        finally:
            connection.close()
        return [int(row[0]) for row in rows if row[0] is not None]

    def run_state(self, run_id: str) -> str:
        connection = sqlite3.connect(self.root / ".uet" / "runs.db")
        try:
            row = connection.execute("SELECT state FROM runs WHERE run_id = ?", (run_id,))
            return str(row.fetchone()[0])
        finally:
            connection.close()


def capabilities(profile: str) -> types.ClientCapabilities:
    if profile == "vscode":
        return profile_capabilities("vscode")
    caps = client_capabilities("neovim@v0.7.0")
    if profile == "noprogress":
        assert caps.window is not None
        caps.window.work_done_progress = False
    return caps


@pytest.fixture(autouse=True)
def state_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private XDG_STATE_HOME for the server (trust answers); set before it starts."""
    home = tmp_path / "state"
    monkeypatch.setenv("XDG_STATE_HOME", str(home))
    return home


@pytest.fixture
def runs_root(tmp_path: Path) -> Path:
    """A copy of ``workspaces/runs`` whose router runs tasks with this interpreter."""
    root = tmp_path / "ws"
    shutil.copytree(WORKSPACES / "runs", root)
    config = root / "router_config.json"
    config.write_text(config.read_text().replace("@PYTHON@", json.dumps(sys.executable)[1:-1]))
    return root


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER), params=["vscode"])
async def runs_lsp(
    lsp_client: LanguageClient, request: pytest.FixtureRequest
) -> AsyncIterator[None]:
    lsp_client.profile = str(request.param)  # type: ignore[attr-defined]
    yield


@pytest.fixture
async def runs(runs_lsp: LanguageClient, runs_root: Path) -> AsyncIterator[Runs]:
    profile: str = runs_lsp.profile  # type: ignore[attr-defined]
    session = Session(runs_lsp, "vscode" if profile == "vscode" else "neovim", runs_root)
    _install_handlers(runs_lsp, session)
    current = Runs(session, capabilities(profile))
    _record(runs_lsp, current)
    yield current
    if session.started:
        await runs_lsp.shutdown_session()
    assert session.violations == []


def _record(client: LanguageClient, runs: Runs) -> None:
    _fix_code_action_structuring(client)
    features = client.protocol.fm.features
    create = features.pop(types.WINDOW_WORK_DONE_PROGRESS_CREATE)
    progress = features.pop(types.PROGRESS)
    features.pop(types.WINDOW_SHOW_MESSAGE_REQUEST, None)
    features.pop(types.WORKSPACE_CODE_LENS_REFRESH, None)

    @client.feature(types.WINDOW_WORK_DONE_PROGRESS_CREATE)
    def on_create(ls: LanguageClient, params: types.WorkDoneProgressCreateParams) -> None:
        runs.progress.append((str(params.token), "create", None))
        create(params)

    @client.feature(types.PROGRESS)
    def on_progress(ls: LanguageClient, params: types.ProgressParams) -> None:
        progress(params)
        value = ls.progress_reports[params.token][-1]
        runs.progress.append((str(params.token), str(value.kind), value))

    @client.feature("uet/runStatus")
    def on_status(ls: LanguageClient, params: Any) -> None:
        runs.statuses.append(params._asdict())  # pygls: a namedtuple for unknown methods

    @client.feature(types.WINDOW_SHOW_MESSAGE_REQUEST)
    def on_question(
        ls: LanguageClient, params: types.ShowMessageRequestParams
    ) -> types.MessageActionItem | None:
        runs.questions.append(params)
        answer = runs.answers.pop(0) if runs.answers else None
        return None if answer is None else types.MessageActionItem(title=answer)

    @client.feature(types.WORKSPACE_CODE_LENS_REFRESH)
    def on_lens_refresh(ls: LanguageClient, params: None) -> None:
        runs.lens_refreshes += 1


def _fix_code_action_structuring(client: LanguageClient) -> None:
    """lsprotocol 2025.0.0 reads every item with a ``command`` key as a ``Command``, also a
    ``CodeAction`` whose ``command`` is an object; editors tell them apart by the type of
    ``command``, and so does this client."""
    converter = client.protocol._converter

    def structure(value: Any, _: type) -> types.Command | types.CodeAction:
        if isinstance(value.get("command"), str):
            return converter.structure(value, types.Command)  # type: ignore[no-any-return]
        return converter.structure(value, types.CodeAction)  # type: ignore[no-any-return]

    converter.register_structure_hook(types.Command | types.CodeAction, structure)
    converter.register_structure_hook(Union[types.Command, types.CodeAction], structure)  # noqa: UP007


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie waiting for its parent counts as gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return fields[0] not in ("Z", "X")


# -- messages ----------------------------------------------------------------------------


def test_progress_texts() -> None:
    def snapshot(**fields: Any) -> ProgressSnapshot:
        base: dict[str, Any] = {
            "run_id": "R",
            "total": 10,
            "succeeded": 0,
            "failed": 0,
            "skipped": 0,
            "canceled": 0,
            "running": (),
            "elapsed_seconds": 41.2,
            "eta_seconds": None,
        }
        return ProgressSnapshot(**{**base, **fields})

    assert report_message(snapshot()) == "0/10"
    assert (
        report_message(snapshot(succeeded=3, running=("implement",), eta_seconds=12.4))
        == "3/10 · implement running · ETA 12 s"
    )
    assert report_message(snapshot(running=("a", "b", "c", "d"))) == "0/10 · a, b +2 running"
    assert summary_message(snapshot(succeeded=9, failed=1)) == "9 succeeded, 1 failed in 41 s"
    assert summary_message(snapshot(total=0, elapsed_seconds=0.04)) == "no tasks in 0.0 s"
    assert [format_seconds(value) for value in (0.44, 9.94, 59.6, 125, 3780)] == [
        "0.4 s",
        "9.9 s",
        "1 min 0 s",
        "2 min 5 s",
        "1 h 3 min",
    ]


def test_run_actions_respect_the_only_filter() -> None:
    assert [source_wanted(only) for only in (None, [], ["source"], ["quickfix"])] == [
        True,
        True,
        True,
        False,
    ]
    assert [
        source_wanted(only) for only in (["source.organizeImports"], ["refactor", "source"])
    ] == [
        False,
        True,
    ]


# -- progress ----------------------------------------------------------------------------


@pytest.mark.parametrize("runs_lsp", ["vscode", "neovim"], indirect=True)
async def test_a_run_reports_create_begin_reports_end(runs: Runs) -> None:
    await runs.start()
    if runs.session.profile == "neovim":  # no argument: the server asks which workstream
        runs.answers.append("WS-THREE")
        started = await runs.command("uet.runWorkstream")
        assert [item.title for item in runs.questions[0].actions or []] == [
            "WS-FLAKY",
            "WS-SLEEPY",
            "WS-THREE",
        ]
    else:
        started = await runs.command("uet.runWorkstream", runs.session.uri(THREE))
    assert started["state"] == "running" and started["total"] == 3
    token = started["token"]
    end = await runs.ended(token)
    kinds = [kind for kind, _ in runs.sequence(token)]
    assert kinds[0] == "create" and kinds[1] == "begin" and kinds[-1] == "end"
    assert set(kinds[2:-1]) == {"report"} and len(kinds) >= 4
    begin = runs.sequence(token)[1][1]
    assert (begin.title, begin.cancellable, begin.percentage) == ("UET: Three steps", True, 0)
    reports = [value for kind, value in runs.sequence(token) if kind == "report"]
    assert all(re.fullmatch(r"[0-3]/3( · .+)?", report.message) for report in reports)
    percentages = [report.percentage for report in reports]
    assert percentages == sorted(percentages)
    assert any("second running" in report.message for report in reports)
    assert re.fullmatch(r"3 succeeded in \d\.\d s", end.message)
    await until(lambda: any("Three steps succeeded" in m.message for m in runs.client.messages))
    status = await runs.status(started["runId"], "succeeded")
    assert status["succeeded"] == 3 and status["token"] == token
    assert runs.statuses[0]["state"] == "running"
    assert runs.run_state(started["runId"]) == "succeeded"


async def test_a_client_without_work_done_progress_gets_log_lines(runs: Runs) -> None:
    runs.caps = capabilities("noprogress")
    await runs.start()
    result = await runs.command("uet.runWorkstream", runs.session.uri(THREE), {"wait": True})
    assert result["state"] == "succeeded" and result["token"] is None
    lines = [m.message for m in runs.client.log_messages if m.message.startswith("UET: ")]
    assert lines[0] == f"UET: Three steps: run {result['runId']} started (3 tasks)"
    assert any(re.fullmatch(r"UET: Three steps: 2/3( · .+)?", line) for line in lines)
    assert re.fullmatch(r"UET: Three steps: succeeded: 3 succeeded in .+", lines[-1])
    assert runs.progress == []  # pytest-lsp would also fail on an unadvertised create


# -- cancellation ------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["progress", "request", "command"])
async def test_cancel_stops_the_task_process_and_the_run_ends_canceled(
    runs: Runs, path: str
) -> None:
    await runs.start()
    uri = runs.session.uri(SLEEPY)
    if path == "request":  # a run command waiting for the end, cancelled by its client
        pending = runs.client.protocol.send_request(
            types.WORKSPACE_EXECUTE_COMMAND,
            types.ExecuteCommandParams(
                command="uet.runWorkstream", arguments=[uri, {"wait": True}]
            ),
            msg_id="run-and-wait",
        )
        await until(lambda: runs.find_status(None, "running") is not None)
        status = runs.find_status(None, "running")
        assert status is not None
        run_id, token = status["runId"], status["token"]
    else:
        started = await runs.command("uet.runWorkstream", uri)
        run_id, token = started["runId"], started["token"]
    await until(lambda: runs.pid("nap") is not None)
    pid = runs.pid("nap")
    assert pid is not None and alive(pid)
    if path == "progress":
        runs.client.window_work_done_progress_cancel(
            types.WorkDoneProgressCancelParams(token=token)
        )
    elif path == "request":
        runs.client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id="run-and-wait"))
        await until(pending.done)
        assert isinstance(pending.exception(), JsonRpcException)
    else:
        answer = await runs.command("uet.cancelRun", run_id)
        assert [item["state"] for item in answer["runs"]] == ["canceled"]
    end = await runs.ended(token)
    assert end.message.startswith("1 canceled in ")
    assert runs.run_state(run_id) == "canceled"
    assert not alive(pid)
    await runs.status(run_id, "canceled")


# -- results as diagnostics --------------------------------------------------------------


@pytest.mark.parametrize("runs_lsp", ["vscode", "neovim"], indirect=True)
async def test_a_failed_task_gets_a_diagnostic_that_clears_after_a_fix(runs: Runs) -> None:
    await runs.start()
    uri = runs.session.uri(FLAKY)
    failed = await runs.command("uet.runWorkstream", uri, {"wait": True})
    assert (failed["state"], failed["failed"], failed["skipped"]) == ("failed", 1, 1)
    await runs.session.pushed(uri, lambda items: "UET401" in codes(items))
    items = runs.session.last_published(uri).diagnostics  # type: ignore[union-attr]
    by_code = {str(item.code): item for item in items}
    assert sorted(by_code) == ["UET401", "UET403"]
    check = by_code["UET401"]
    assert range_text(check) == "14:13-14:18"  # the task_id value 'check'
    assert check.message.startswith("task 'check' failed with exit status 3")
    assert "boom: flag.txt is missing" in check.message
    (related,) = check.related_information or []
    assert related.location.uri.endswith("/check.1.log")
    assert range_text(by_code["UET403"]) == "20:13-20:18"  # 'after' was skipped
    runs.session.open(FLAKY)  # open documents: pulled (VS Code) or pushed with a version
    assert sorted(codes(await runs.session.diagnostics(uri))) == ["UET401", "UET403"]
    await until(lambda: any("UET: Flaky failed" in m.message for m in runs.client.messages))

    actions = await runs.client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=check.range,
            context=types.CodeActionContext(diagnostics=[check]),
        )
    )
    log_action = next(a for a in actions or [] if a.title == "Open the log of task 'check'")
    assert isinstance(log_action, types.CodeAction) and log_action.command is not None
    opened = await runs.command("uet.openLog", *(log_action.command.arguments or []))
    assert opened["path"].endswith("check.1.log")
    assert opened["shown"] is (runs.session.profile == "vscode")

    (runs.root / "flag.txt").write_text("fixed\n")
    fixed = await runs.command("uet.runWorkstream", "WS-FLAKY", {"wait": True})
    assert fixed["state"] == "succeeded"
    if runs.session.pull:
        assert await runs.session.diagnostics(uri) == []
    else:
        await runs.session.pushed(uri, lambda items: items == [])


QUIET = """workstream_id: WS-QUIET
project_id: PRJ-RUNS
phase_id: PH-RUN
name: Quiet
objective: One task fails without a word, one with a log.
error_handling:
  strategy: continue
tasks:
  - task_id: mute
    name: Fail silently
    kind: shell
    tool: python
    args: [mute, fail-quietly]
  - task_id: loud
    name: Fail with output
    kind: shell
    tool: python
    args: [loud, fail-unless, never.txt]
"""


async def test_open_the_log_is_offered_only_for_a_log_that_exists(runs: Runs) -> None:
    """A task that printed nothing has no log: no "Open the log" action. A log deleted
    after the action was offered: ``uet.openLog`` answers with a message, not an error."""
    (runs.root / "workstreams/quiet.yaml").write_text(QUIET)
    await runs.start()
    uri = runs.session.uri("workstreams/quiet.yaml")
    failed = await runs.command("uet.runWorkstream", uri, {"wait": True})
    assert (failed["state"], failed["failed"]) == ("failed", 2)
    await runs.session.pushed(uri, lambda items: codes(items) == ["UET401", "UET401"])
    items = runs.session.last_published(uri).diagnostics  # type: ignore[union-attr]
    actions = await runs.client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=types.Range(start=items[0].range.start, end=items[-1].range.end),
            context=types.CodeActionContext(diagnostics=items),
        )
    )
    titles = [action.title for action in actions or [] if action.title.startswith("Open the log")]
    assert titles == ["Open the log of task 'loud'"]
    run_id = failed["runId"]
    quiet = await runs.command("uet.openLog", run_id, "mute")
    assert quiet["uri"] is None and quiet["shown"] is False
    assert f"run {run_id} has no log for task 'mute'" in quiet["message"]
    opened = await runs.command("uet.openLog", run_id, "loud")
    Path(opened["path"]).unlink()
    gone = await runs.command("uet.openLog", run_id, "loud")
    assert gone["uri"] is None and "has no log for task 'loud'" in gone["message"]
    warnings = [m for m in runs.client.messages if m.type == types.MessageType.Warning]
    assert len(warnings) == 2 and all("has no log" in m.message for m in warnings)
    assert not any("log" in m.message for m in runs.client.messages if m not in warnings)


# -- trust -------------------------------------------------------------------------------


async def test_a_fixed_task_loses_its_diagnostic_while_the_run_still_executes(
    runs: Runs,
) -> None:
    await runs.start()
    uri = runs.session.uri(FLAKY)
    failed = await runs.command("uet.runWorkstream", uri, {"wait": True})
    assert failed["state"] == "failed"
    await runs.session.pushed(uri, lambda items: sorted(codes(items)) == ["UET401", "UET403"])
    (runs.root / "flag.txt").write_text("fixed\n")
    path = runs.root / FLAKY
    path.write_text(path.read_text().replace("args: [after, ok]", "args: [after, sleep, '4']"))
    started = await runs.command("uet.runWorkstream", uri)
    run_id = started["runId"]
    # 'check' succeeded: its UET401 goes at once; 'after' is still sleeping, so the run
    # has not ended and the old UET403 of 'after' is still shown.
    await runs.session.pushed(uri, lambda items: codes(items) == ["UET403"])
    assert runs.find_status(run_id, "succeeded") is None
    await runs.status(run_id, "succeeded")
    await runs.session.pushed(uri, lambda items: items == [])


async def test_an_untrusted_workspace_refuses_to_run_and_remembers_the_answer(
    runs: Runs, state_home: Path
) -> None:
    await runs.start(settings={})
    runs.answers.append(DISTRUST)
    for _ in range(2):
        with pytest.raises(JsonRpcException, match=r"not running anything in .*trustedWorkspace"):
            await runs.command("uet.runWorkstream", runs.session.uri(THREE))
    assert len(runs.questions) == 1  # asked once, then the answer is remembered
    assert [item.title for item in runs.questions[0].actions or []] == [TRUST, DISTRUST]
    assert not (runs.root / ".uet" / "runs.db").exists()
    assert not (runs.root / ".pids").exists()
    answers = json.loads((state_home / "uet-lsp" / "trust.json").read_text())
    assert answers == {str(runs.root.resolve()): False}
    assert "you answered not to trust it" in runs.client.messages[-1].message


async def test_trusting_when_asked_runs_and_is_not_asked_again(runs: Runs) -> None:
    await runs.start(settings={})
    runs.answers.append(TRUST)
    first = await runs.command("uet.runTask", runs.session.uri(THREE), "first", {"wait": True})
    second = await runs.command("uet.runTask", runs.session.uri(THREE), "first", {"wait": True})
    assert [first["state"], second["state"]] == ["succeeded", "succeeded"]
    assert first["total"] == 1 and len(runs.questions) == 1


# -- responsiveness, lenses, actions, CLI runs -------------------------------------------


async def test_hover_is_answered_while_a_run_executes(runs: Runs) -> None:
    await runs.start()
    started = await runs.command("uet.runWorkstream", runs.session.uri(SLEEPY))
    await until(lambda: runs.pid("nap") is not None)
    uri = runs.session.open(THREE)
    hover = await runs.client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=1, character=3),  # workstream_id
        )
    )
    assert hover is not None and isinstance(hover.contents, types.MarkupContent)
    assert "workstream" in hover.contents.value.lower()
    listed = await runs.command("uet.listRuns")
    assert listed[0]["runId"] == started["runId"] and listed[0]["active"] is True
    answer = await runs.command("uet.cancelRun")  # no argument: every run of this editor
    assert [item["runId"] for item in answer["runs"]] == [started["runId"]]
    assert answer["runs"][0]["state"] == "canceled"


@pytest.mark.parametrize(
    ("settings", "nice_increment", "policy"),
    [
        (None, 19, "SCHED_IDLE"),
        ({"runPriority": "low"}, 10, None),
        ({"runPriority": "normal"}, 0, None),
    ],
)
async def test_task_processes_run_at_a_lower_cpu_priority(
    runs: Runs, settings: dict[str, Any] | None, nice_increment: int, policy: str | None
) -> None:
    await runs.start({"trustedWorkspace": True, **(settings or {})})
    started = await runs.command("uet.runWorkstream", runs.session.uri(SLEEPY))
    await until(lambda: runs.pid("nap") is not None)
    pid = runs.pid("nap")
    assert pid is not None
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    own = os.getpriority(os.PRIO_PROCESS, 0)  # the server's, inherited from this process
    assert int(fields[16]) == min(own + nice_increment, 19)  # stat field 19: nice
    expected = os.sched_getscheduler(0) if policy is None else getattr(os, policy)
    assert int(fields[38]) == expected  # stat field 41: scheduling policy
    await runs.command("uet.cancelRun", started["runId"])


async def test_shutting_down_cancels_the_runs_of_the_editor(runs: Runs) -> None:
    await runs.start()
    started = await runs.command("uet.runWorkstream", runs.session.uri(SLEEPY))
    await until(lambda: runs.pid("nap") is not None)
    pid = runs.pid("nap")
    assert pid is not None and alive(pid)
    await runs.client.shutdown_session()
    runs.session.started = False
    assert runs.run_state(started["runId"]) == "canceled"
    await until(lambda: not alive(pid))


@pytest.mark.parametrize("runs_lsp", ["vscode", "neovim"], indirect=True)
async def test_lenses_or_actions_offer_run_and_cancel(runs: Runs) -> None:
    await runs.start()
    uri = runs.session.open(SLEEPY)
    document = types.TextDocumentIdentifier(uri=uri)

    async def offered(line: int) -> list[tuple[str, int, list[Any]]]:
        if runs.session.profile == "vscode":
            lenses = await runs.client.text_document_code_lens_async(
                types.CodeLensParams(text_document=document)
            )
            return [
                (lens.command.title, lens.range.start.line, list(lens.command.arguments or []))
                for lens in lenses or []
                if lens.command is not None
            ]
        position = types.Position(line=line, character=4)
        actions = await runs.client.text_document_code_action_async(
            types.CodeActionParams(
                text_document=document,
                range=types.Range(start=position, end=position),
                context=types.CodeActionContext(diagnostics=[]),
            )
        )
        return [
            (action.title, line, list(action.command.arguments or []))
            for action in actions or []
            if isinstance(action, types.CodeAction) and action.command is not None
        ]

    before = await offered(9)
    expected_task = "▶ Run task" if runs.session.profile == "vscode" else "▶ Run task nap"
    assert [(title, arguments) for title, _, arguments in before] == [
        ("▶ Run workstream", [uri]),
        (expected_task, [uri, "nap"]),
    ]
    if runs.session.profile == "vscode":
        assert [line for _, line, _ in before] == [1, 7]  # above the workstream, the task
    started = await runs.command("uet.runWorkstream", *before[0][2])
    await until(lambda: runs.pid("nap") is not None)
    during = await offered(9)
    cancel = [arguments for title, _, arguments in during if title == "■ Cancel run"]
    assert cancel == [[started["runId"]]]
    await runs.command("uet.cancelRun", *cancel[0])
    await runs.status(started["runId"], "canceled")
    assert "■ Cancel run" not in [title for title, _, _ in await offered(9)]
    if runs.session.profile == "vscode":
        assert runs.lens_refreshes >= 2  # when the run started and when it ended


async def test_a_cli_run_is_listed_and_cancelled_from_the_editor(runs: Runs) -> None:
    await runs.start()
    output = (runs.root / "cli.out").open("wb")
    try:
        cli = subprocess.Popen(
            [sys.executable, "-m", "uet", "run", SLEEPY],
            cwd=runs.root,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            env={**os.environ},
        )
    finally:
        output.close()
    try:
        await until(lambda: runs.pid("nap") is not None)
        pid = runs.pid("nap")
        assert pid is not None
        listed = await runs.command("uet.listRuns")
        (row,) = listed
        assert (row["workstreamId"], row["state"], row["active"]) == ("WS-SLEEPY", "running", True)
        assert row["resumeCommand"] is None
        assert row["uri"] == runs.session.uri(SLEEPY)
        answer = await runs.command("uet.cancelRun", row["runId"][:12])
        assert answer["runs"] == [
            {"runId": row["runId"], "workspace": str(runs.root.resolve()), "state": "canceled"}
        ]
        await until(lambda: cli.poll() is not None)
        assert cli.returncode == 1
        assert not alive(pid)
    finally:
        if cli.poll() is None:
            cli.kill()
        cli.wait()


async def test_an_interrupted_cli_run_is_resumed_from_the_editor(runs: Runs) -> None:
    await runs.start()
    cli = subprocess.Popen(
        [sys.executable, "-m", "uet", "run", SLEEPY],
        cwd=runs.root,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    await until(lambda: runs.pid("nap") is not None)
    orphan = runs.pid("nap")
    assert orphan is not None
    await until(lambda: runs.recorded_groups() == [orphan])  # what resume will kill
    cli.kill()  # the engine dies; its task keeps running in its own process group
    cli.wait()
    (runs.root / ".pids" / "nap.pid").unlink()
    (row,) = await runs.command("uet.listRuns")
    # The store still says running; its engine is gone, so the editor is told to resume.
    assert (row["state"], row["active"]) == ("interrupted", False)
    assert row["resumeCommand"] == f"uet resume {row['runId']}"
    assert "stopped before the run ended" in row["reason"]
    resumed = await runs.command("uet.resumeRun", row["runId"])
    assert (resumed["runId"], resumed["state"]) == (row["runId"], "running")
    await until(lambda: runs.pid("nap") is not None)
    assert not alive(orphan)  # resume killed what the dead engine left behind
    answer = await runs.command("uet.cancelRun", row["runId"])
    assert answer["runs"][0]["state"] == "canceled"
    assert runs.run_state(row["runId"]) == "canceled"


async def test_an_editor_in_restricted_mode_never_runs_and_never_asks(runs: Runs) -> None:
    await runs.start(settings={"uet": {"trustedWorkspace": True}, "workspaceTrusted": False})
    runs.answers.append(TRUST)
    with pytest.raises(JsonRpcException, match=r"restricted mode"):
        await runs.command("uet.runWorkstream", runs.session.uri(THREE))
    assert runs.questions == []
    assert not (runs.root / ".uet" / "runs.db").exists()


@pytest.mark.parametrize("linked", [".uet", ".uet/logs"])
async def test_a_state_folder_linked_outside_refuses_the_run_with_a_message(
    runs: Runs, tmp_path: Path, linked: str
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    shutil.rmtree(runs.root / ".uet", ignore_errors=True)
    if linked == ".uet/logs":
        (runs.root / ".uet").mkdir()
    (runs.root / linked).symlink_to(outside, target_is_directory=True)
    await runs.start()
    with pytest.raises(JsonRpcException, match=rf"refusing to use {linked}: .*outside"):
        await runs.command("uet.runWorkstream", runs.session.uri(THREE))
    assert f"refusing to use {linked}" in runs.client.messages[-1].message
    assert list(outside.iterdir()) == []
    assert not (runs.root / ".pids").exists()
