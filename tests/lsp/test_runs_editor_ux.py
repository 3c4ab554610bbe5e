"""Runs as a user meets them in the editor: one run per workstream at a time, a refused
run says everything at once and nothing more, no Run lens on a workstream that cannot run,
a line in the log when a run starts and ends, and a ``.uet/`` that ignores itself.

The real server over stdio and the real engine, with the fixtures of ``test_runs``.
"""

# ruff: noqa: F811  (the fixtures imported from test_runs are the tests' parameters)

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from .conftest import until
from .test_runs import (  # noqa: F401  (fixtures)
    SLEEPY,
    THREE,
    Runs,
    runs,
    runs_lsp,
    runs_root,
    state_home,
)

BROKEN = "workstreams/broken.yaml"
BROKEN_TEXT = """\
workstream_id: WS-BROKEN
project_id: PRJ-RUNS
phase_id: PH-RUN
name: Broken steps
objective: Three problems at once.
error_handling:
  strategy: fail_fastt
retries: 3
tasks:
  - task_id: first
    name: First step
    kind: shell
    tool: python
    depends_on: [nothere]
    args: [first, sleep, "0.1"]
"""


async def lenses(runs: Runs, uri: str) -> list[tuple[str, list[Any]]]:
    found = await runs.client.text_document_code_lens_async(
        types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )
    return [
        (lens.command.title, list(lens.command.arguments or []))
        for lens in found or []
        if lens.command is not None
    ]


def stderr_lines(capfd: pytest.CaptureFixture[str], seen: list[str]) -> list[str]:
    """The server's log so far (forwarded to this process's stderr by pytest-lsp)."""
    seen.extend(capfd.readouterr().err.splitlines())
    return seen


async def test_a_refused_run_shows_one_message_with_every_problem(
    runs: Runs, capfd: pytest.CaptureFixture[str]
) -> None:
    (runs.root / BROKEN).write_text(BROKEN_TEXT)
    await runs.start()
    uri = runs.session.open(BROKEN)
    with pytest.raises(JsonRpcException) as refused:
        await runs.command("uet.runWorkstream", uri)
    with pytest.raises(JsonRpcException):
        await runs.command("uet.runTask", uri, "first")
    assert refused.value.code == -32803  # RequestFailed
    shown = [item.message for item in runs.client.messages]
    assert len(shown) == 2  # one per refused command
    message = shown[0]
    assert message.startswith("UET: broken.yaml cannot run, it has 3 problems: ")
    for problem in (
        "7:13 'error_handling.strategy' has the invalid value string 'fail_fastt'",
        "8:1 unknown property 'retries'",
        "14:18 depends_on names unknown task 'nothere'",
    ):
        assert problem in message
    assert str(refused.value).endswith(message.removeprefix("UET: "))
    assert runs.questions == [] and runs.run_tokens() == []
    assert not (runs.root / ".uet" / "runs.db").exists()
    log: list[str] = []

    def refusals() -> list[str]:  # what the log says at info and above (the default)
        lines = stderr_lines(capfd, log)
        return [line for line in lines if "cannot run" in line and " DEBUG " not in line]

    await until(lambda: len(refusals()) >= 2)
    assert all(" INFO " in line for line in refusals()), refusals()
    assert not any("Traceback" in line or " ERROR " in line for line in log), log


async def test_an_invalid_workstream_gets_no_run_lens(runs: Runs) -> None:
    (runs.root / BROKEN).write_text(BROKEN_TEXT)
    await runs.start()
    uri = runs.session.open(BROKEN)
    await runs.session.diagnostics(uri)
    assert await lenses(runs, uri) == []
    fixed = BROKEN_TEXT.replace("fail_fastt", "fail_fast").replace("retries: 3\n", "")
    runs.session.replace(uri, fixed.replace("[nothere]", "[]"))
    await runs.session.diagnostics(uri)
    assert [title for title, _ in await lenses(runs, uri)] == ["▶ Run workstream", "▶ Run task"]


async def test_one_run_per_workstream_and_the_lens_shows_cancel_while_it_runs(
    runs: Runs, capfd: pytest.CaptureFixture[str]
) -> None:
    await runs.start()
    uri = runs.session.open(SLEEPY)
    first = await runs.command("uet.runWorkstream", uri)
    await until(lambda: runs.pid("nap") is not None)
    assert await lenses(runs, uri) == [("■ Cancel run", [first["runId"]])]

    runs.answers.append("Keep it running")
    again = await runs.command("uet.runWorkstream", uri)
    task = await runs.command("uet.runTask", uri, "nap")
    assert again["runId"] == task["runId"] == first["runId"]
    assert again["alreadyRunning"] is True and again["state"] == "running"
    assert len(runs.run_tokens()) == 1  # one progress: one run
    asked = [question.message for question in runs.questions]
    assert len(asked) == 2 and "Sleepy is already running" in asked[0]
    assert [item.title for item in runs.questions[0].actions or []] == [
        "Cancel the running one",
        "Keep it running",
    ]

    runs.answers.append("Cancel the running one")
    await runs.command("uet.runWorkstream", uri)
    await runs.status(first["runId"], "canceled")
    assert await lenses(runs, uri) == [
        ("▶ Run workstream", [uri]),
        ("▶ Run task", [uri, "nap"]),
    ]
    log: list[str] = []
    await until(lambda: any("ended" in line for line in stderr_lines(capfd, log)))
    assert any(f"INFO uet.lsp: run {first['runId']} started: Sleepy" in line for line in log)
    assert any(f"INFO uet.lsp: run {first['runId']} ended: Sleepy canceled" in line for line in log)


async def test_two_starts_at_once_make_one_run_and_one_trust_question(runs: Runs) -> None:
    await runs.start(settings={})  # not trusted yet: the first start asks
    runs.answers.extend(["Trust and run", "Keep it running"])
    uri = runs.session.uri(THREE)
    answers = await asyncio.gather(
        runs.command("uet.runWorkstream", uri), runs.command("uet.runWorkstream", uri)
    )
    assert answers[0]["runId"] == answers[1]["runId"]
    assert sorted(answer.get("alreadyRunning", False) for answer in answers) == [False, True]
    titles = [[item.title for item in question.actions or []] for question in runs.questions]
    assert titles == [
        ["Trust and run", "Don't trust"],
        ["Cancel the running one", "Keep it running"],
    ]
    assert len(runs.run_tokens()) == 1
    await runs.ended(runs.run_tokens()[0])


async def test_a_late_cancel_is_no_warning_in_the_log(
    runs: Runs, capfd: pytest.CaptureFixture[str]
) -> None:
    await runs.start()
    # what editors do all the time: cancel a request whose answer already left
    runs.client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id=424242))
    await runs.command("uet.listRuns")  # answered after the notification was handled
    log: list[str] = []
    await until(lambda: any("424242" in line for line in stderr_lines(capfd, log)))
    (line,) = [line for line in log if "424242" in line]
    assert " DEBUG " in line  # the test server logs at debug; by default it is not shown
