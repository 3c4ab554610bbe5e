"""Validation of a big broken document is bounded: the first ``MAX_SCHEMA_ERRORS`` schema
problems are explained, then one UET211 says validation stopped; a caller can stop it."""

from __future__ import annotations

import json

import pytest

from uet.artifacts import check_text
from uet.artifacts.guards import CheckCancelled
from uet.artifacts.validation import MAX_SCHEMA_ERRORS


def _broken_workstream(tasks: int) -> str:
    # Every task has an unknown key: one UET203 each.
    document = {
        "workstream_id": "ws-big",
        "project_id": "PRJ-BIG",
        "phase_id": "PH-BIG",
        "name": "Big",
        "objective": "Many broken tasks.",
        "tasks": [
            {"task_id": f"t{n}", "name": "n", "kind": "lint", "tool": "x", "bogus_key": n}
            for n in range(tasks)
        ],
    }
    return json.dumps(document, indent=1)


def test_validation_stops_after_the_cap_and_says_so() -> None:
    report = check_text(_broken_workstream(MAX_SCHEMA_ERRORS + 200), "workstreams/big.json")
    codes = [diagnostic.code for diagnostic in report.diagnostics]
    assert codes.count("UET203") == MAX_SCHEMA_ERRORS
    [stopped] = [d for d in report.diagnostics if d.code == "UET211"]
    assert f"{MAX_SCHEMA_ERRORS:,}" in stopped.message
    assert stopped.severity.name == "INFORMATION"
    assert report.diagnostics[-1] is stopped  # read after the problems it follows


def test_a_document_under_the_cap_is_reported_whole() -> None:
    report = check_text(_broken_workstream(30), "workstreams/small.json")
    codes = [diagnostic.code for diagnostic in report.diagnostics]
    assert codes.count("UET203") == 30
    assert "UET211" not in codes


def test_a_caller_can_stop_validation_between_errors() -> None:
    from uet.artifacts import check_parsed, load_text

    parsed = load_text(_broken_workstream(50), "workstreams/big.json")
    asked: list[int] = []

    def cancelled() -> bool:
        asked.append(1)
        return len(asked) > 3

    with pytest.raises(CheckCancelled):
        check_parsed(parsed, "workstreams/big.json", cancelled=cancelled)
    assert len(asked) == 4
