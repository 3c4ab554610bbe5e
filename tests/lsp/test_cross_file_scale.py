"""The real server on a 10,000-task workstream: its diagnostics arrive, bounded in size.

A generous timeout guards against a hang (the server used to grow to gigabytes and never
answer); it is not what the tests measure.
"""

from __future__ import annotations

import asyncio
import json

from lsprotocol import types

from ..artifacts.test_cross_file_scale import workstream
from .conftest import Session, codes, until

GUARD = 240.0  # seconds


def in_basic_workspace(text: str) -> str:
    """The workstream in the phase the ``basic`` fixture workspace defines."""
    return text.replace('"PH-SCALE"', '"PH-BUILD"')


async def diagnostics_within_guard(session: Session, uri: str) -> list[types.Diagnostic]:
    """The diagnostics of the opened ``uri`` (pulled or pushed), waiting up to ``GUARD``."""
    if session.pull:
        report = await asyncio.wait_for(
            session.client.text_document_diagnostic_async(
                types.DocumentDiagnosticParams(text_document=types.TextDocumentIdentifier(uri=uri))
            ),
            GUARD,
        )
        assert isinstance(report, types.RelatedFullDocumentDiagnosticReport)
        return list(report.items)
    await until(lambda: (p := session.last_published(uri)) is not None and p.version == 1, GUARD)
    published = session.last_published(uri)
    assert published is not None
    return published.diagnostics


async def test_a_10000_task_cycle_gets_one_bounded_diagnostic(session: Session) -> None:
    await session.start()
    uri = session.open("workstreams/cycle.json", in_basic_workspace(workstream("cycle")))
    items = await diagnostics_within_guard(session, uri)
    assert codes(items) == ["UET303"]
    [cycle] = items
    assert cycle.message.startswith("dependency cycle of 10000 tasks: task-00000 → ")
    assert len(cycle.message) < 300
    assert cycle.related_information is not None and len(cycle.related_information) == 20
    assert all(item.location.uri == uri for item in cycle.related_information)
    assert len(json.dumps(cycle.data)) < 1_000


async def test_10000_unknown_dependencies_carry_their_suggestion_only(session: Session) -> None:
    await session.start()
    uri = session.open("workstreams/unknown.json", in_basic_workspace(workstream("unknown")))
    items = await diagnostics_within_guard(session, uri)
    problems = [item for item in items if item.code is not None]  # not the "more" summary
    assert set(codes(problems)) == {"UET302"} and len(problems) >= 1_000
    assert problems[0].data == {"id": "missing-00000", "suggestion": "task-00000"}
    assert all(set(item.data) == {"id", "suggestion"} for item in problems)
    assert max(len(item.message) for item in problems) < 120
