"""Big documents (``uet.maxFileSize`` raised) never hold up the others, and a newer version
of one stops the check of the older one.

The server runs with a log file (``--log-file``), where it says when a heavy check starts
and when a check is canceled: a canceled check is invisible to the client otherwise. Every
test uses its own workspace folder, so its URIs pick its lines out of the shared log.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from uet.lsp.publishing import MAX_DIAGNOSTICS

from .conftest import PROFILES, SERVER, Session, _install_handlers, codes, until

LOG = Path(tempfile.gettempdir()) / f"uet-test-big-documents-{os.getpid()}.log"
MAX_FILE_SIZE = 64 * 1024 * 1024
BIG_BYTES = 1_100_000  # above the server's heavy-check size (1 MiB)


# A small workstream with one problem (UET201: a kind of the wrong type).
SMALL_INVALID = (
    "workstream_id: WS-SMALL\nproject_id: PRJ-DEMO\nphase_id: PH-BUILD\nname: Small\n"
    "objective: Be small.\nerror_handling:\n  strategy: fail_fast\ntasks:\n"
    "  - task_id: t0\n    name: Task\n    kind: 7\n"
)


def slow(size: int, name: str) -> str:
    """A workstream of ``size`` bytes, most of them a flow list of tiny numbers under an
    unknown key (one UET203): the most YAML values per byte, so seconds to check."""
    head = (
        f"workstream_id: WS-{name}\nproject_id: PRJ-DEMO\nphase_id: PH-BUILD\nname: Slow\n"
        "objective: Be slow.\nerror_handling:\n  strategy: fail_fast\ntasks:\n"
        "  - task_id: t0\n    name: Task\n    kind: lint\nfiller: ["
    )
    return head + "0," * max(0, (size - len(head)) // 2) + "0]\n"


def log_lines(root: Path) -> list[str]:
    """The server log lines about this test's workspace."""
    marker = root.as_uri()
    try:
        text = LOG.read_text("utf-8", "replace")
    except FileNotFoundError:
        return []
    return [line for line in text.splitlines() if marker in line]


@pytest.fixture(scope="module", autouse=True)
def _log_file() -> Iterator[None]:
    yield
    LOG.unlink(missing_ok=True)


@pytest_lsp.fixture(
    config=ClientServerConfig(server_command=[*SERVER, "--log-file", str(LOG)]), params=PROFILES
)
async def logged(
    lsp_client: LanguageClient, request: pytest.FixtureRequest
) -> AsyncIterator[LanguageClient]:
    """A client of a server that logs (debug) to ``LOG``."""
    lsp_client.profile = str(request.param)  # type: ignore[attr-defined]
    yield lsp_client


@pytest.fixture
async def big(logged: LanguageClient, workspace: Path) -> AsyncIterator[Session]:
    """A started session whose server checks files of up to 64 MB."""
    current = Session(logged, logged.profile, workspace)  # type: ignore[attr-defined]
    _install_handlers(logged, current)
    if current.pull:
        logged.set_configuration({"maxFileSize": MAX_FILE_SIZE}, section="uet")
        await current.start()
    else:
        await current.start({"uet": {"maxFileSize": MAX_FILE_SIZE}})
    yield current
    await logged.shutdown_session()
    assert current.violations == []


async def diagnostics(session: Session, uri: str) -> list[types.Diagnostic]:
    """The diagnostics of the current version of ``uri`` (pulled, or the push for it),
    waiting as long as a big check may take on a busy machine."""
    if session.pull:
        return await session.diagnostics(uri)
    version = session.versions[uri]
    await until(lambda: published(session, uri, version), timeout=600)
    found = session.last_published(uri)
    assert found is not None
    return found.diagnostics


def published(session: Session, uri: str, version: int) -> bool:
    return any(item.uri == uri and item.version == version for item in session.published)


def hover(session: Session, uri: str) -> asyncio.Future[types.Hover | None]:
    return asyncio.ensure_future(
        session.client.text_document_hover_async(
            types.HoverParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                position=types.Position(line=1, character=3),
            )
        )
    )


async def test_requests_on_a_small_document_do_not_wait_for_big_checks(big: Session) -> None:
    small = big.open("workstreams/build.yaml")
    assert await big.diagnostics(small) == []
    # As many big documents as a default thread pool has workers: if their checks could
    # take every worker, nothing else (not even reading the next message) would run. The
    # first takes longest, so that it is still being checked when the hover is answered.
    count = min(32, (os.cpu_count() or 1) + 4)
    bigs = [
        big.open(f"workstreams/big{number}.yaml", slow(BIG_BYTES * (3 if number == 0 else 1), "B"))
        for number in range(count)
    ]
    # Their diagnostics are asked for (pull) before the hover: the server answers in the
    # order the checks end, and the client sees its messages in the order they were sent.
    checks = [asyncio.ensure_future(diagnostics(big, uri)) for uri in bigs]
    # A new version of the small document must be checked before its hover is answered.
    edited = (big.root / "workstreams/build.yaml").read_text().replace("fail_fast", "continue")
    big.replace(small, edited)
    answer = hover(big, small)
    done, _ = await asyncio.wait([answer, *checks], return_when=asyncio.FIRST_COMPLETED)
    assert done == {answer}, "the hover waited for the check of a big document"
    assert await answer is not None
    assert not any(check.done() for check in checks)
    assert any("a heavy check" in line for line in log_lines(big.root))
    assert await big.diagnostics(small) == []
    for uri in bigs:  # stops their checks: the server need not finish them to shut down
        big.client.text_document_did_close(
            types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
        )
    if big.pull:
        await asyncio.gather(*checks)  # each pull is answered
    for check in checks:
        check.cancel()  # a push for their versions never comes


async def test_a_newer_version_cancels_the_older_check(big: Session) -> None:
    uri = big.open("workstreams/huge.yaml", slow(3 * BIG_BYTES, "HUGE"))
    started = f"checking {uri} v1: "
    await until(lambda: any(started in line for line in log_lines(big.root)))
    big.replace(uri, SMALL_INVALID)
    assert codes(await diagnostics(big, uri)) == ["UET201"]
    canceled = f"check of {uri} v1 canceled"
    assert any(canceled in line for line in log_lines(big.root))
    assert not any(f"validated {uri} v1:" in line for line in log_lines(big.root))
    assert not published(big, uri, 1)


async def test_closing_a_big_document_stops_its_check(big: Session) -> None:
    uri = big.open("workstreams/huge.yaml", slow(3 * BIG_BYTES, "HUGE"))
    await until(lambda: any(f"checking {uri} v1: " in line for line in log_lines(big.root)))
    big.client.text_document_did_close(
        types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )
    canceled = f"check of {uri} v1 canceled"
    await until(lambda: any(canceled in line for line in log_lines(big.root)), timeout=600)
    assert not any(f"validated {uri} v1:" in line for line in log_lines(big.root))


async def test_diagnostics_of_one_file_are_capped(big: Session) -> None:
    # Schema problems stop at validation's own cap (UET211); unknown dependencies do not.
    lines = ["workstream_id: WS-MANY", "project_id: PRJ-DEMO", "phase_id: PH-BUILD",
             "name: Many", "objective: Be wrong.", "error_handling:", "  strategy: fail_fast",
             "tasks:"]  # fmt: skip
    count = MAX_DIAGNOSTICS + 200
    for number in range(count):
        lines += [f"  - task_id: t{number}", f"    name: Task {number}", "    kind: lint",
                  f"    depends_on: [missing-{number}]"]  # fmt: skip
    uri = big.open("workstreams/many.yaml", "\n".join(lines) + "\n")
    found = await diagnostics(big, uri)
    assert len(found) == MAX_DIAGNOSTICS + 1
    assert codes(found[:MAX_DIAGNOSTICS]) == ["UET302"] * MAX_DIAGNOSTICS
    last = found[-1]
    assert last.severity == types.DiagnosticSeverity.Information
    assert "200 more problem(s)" in last.message
    # at the first one left out: the depends_on entry of task MAX_DIAGNOSTICS
    assert last.range.start.line == 8 + 4 * MAX_DIAGNOSTICS + 3
