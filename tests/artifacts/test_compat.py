"""Checks the verdict table of docs/compat.md against the schemas and the original UET files.

docs/compat.md says, for every example and profile file published with the original UET
schemas, whether our schemas accept it and why. This module reads that table, validates each
file with the bundled registry and requires exactly the stated verdict; an ``invalid`` verdict
must name (in backticks) something the errors actually mention, so a file cannot be rejected
for another reason than the documented one. Every reference file must have a row.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema.exceptions import ValidationError

from uet.artifacts.registry import bundled_registry

COMPAT_DOC = Path(__file__).resolve().parents[2] / "docs" / "compat.md"
TABLE_HEADER = "| file | schema | verdict | reason |"
VERDICTS = frozenset({"valid", "invalid"})
ARTIFACT_SUFFIXES = frozenset({".json", ".yaml", ".yml"})
# Keys a leading YAML document may hold to count as front matter of the next document.
_STAMP_KEYS = frozenset({"$schema", "doc_id"})


@dataclass(frozen=True, slots=True)
class Row:
    """One row of the verdict table."""

    file: str
    schema: str
    verdict: str
    reason: str


def parse_verdict_table(text: str) -> list[Row]:
    """The rows of the table that starts with ``TABLE_HEADER``."""
    lines = text.splitlines()
    start = lines.index(TABLE_HEADER) + 2  # skip the header and the |---| line
    rows: list[Row] = []
    for raw_line in lines[start:]:
        line = raw_line.strip()
        if not line.startswith("|"):
            break
        cells = [cell.strip() for cell in line.strip("|").split("|", 3)]
        file, schema, verdict, reason = cells
        rows.append(Row(file.strip("`"), schema.strip("`"), verdict, reason))
    return rows


ROWS = parse_verdict_table(COMPAT_DOC.read_text(encoding="utf-8"))


def _is_stamp(document: Mapping[str, Any]) -> bool:
    return all(key in _STAMP_KEYS or key.startswith("x-") for key in document)


def load_reference(path: Path) -> list[dict[str, Any]]:
    """The documents of a reference file: JSON, or YAML where a stamp-only document
    (``doc_id: ...`` followed by ``---``) is merged into the document after it."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        return [json.loads(text)]
    documents = [doc for doc in yaml.safe_load_all(text) if isinstance(doc, dict)]
    merged: list[dict[str, Any]] = []
    pending: dict[str, Any] = {}
    for document in documents:
        if _is_stamp(document):
            pending.update(document)
            continue
        merged.append({**pending, **document})
        pending = {}
    if pending:
        merged.append(pending)
    return merged


def reference_files(root: Path) -> set[str]:
    """Every example and profile artifact of the reference set, relative to ``root``."""
    found = [*root.glob("examples/*"), *root.glob("profiles/**/*")]
    return {
        path.relative_to(root).as_posix()
        for path in found
        if path.is_file() and path.suffix in ARTIFACT_SUFFIXES
    }


def _error_text(errors: list[ValidationError]) -> str:
    parts: list[str] = []
    for error in errors:
        parts.extend((error.json_path, error.message))
        parts.extend(_error_text(list(error.context or ())).splitlines())
    return "\n".join(parts)


def test_table_is_well_formed() -> None:
    assert len(ROWS) >= 26
    files = [row.file for row in ROWS]
    assert len(files) == len(set(files)), "one row per file"
    artifact_names = set(bundled_registry().artifact_names())
    for row in ROWS:
        assert row.verdict in VERDICTS, row
        assert row.schema in artifact_names, row
        assert row.reason, row
        if row.verdict == "invalid":
            assert "`" in row.reason, f"{row.file}: name the offending keys in backticks"


def test_every_reference_file_has_a_row(uet_reference: Path) -> None:
    assert reference_files(uet_reference) == {row.file for row in ROWS}


@pytest.mark.parametrize("row", ROWS, ids=[row.file for row in ROWS])
def test_verdict(row: Row, uet_reference: Path) -> None:
    documents = load_reference(uet_reference / row.file)
    assert documents, f"{row.file} holds no mapping"
    validator = bundled_registry().validator(row.schema)
    errors = [error for document in documents for error in validator.iter_errors(document)]
    text = _error_text(errors)
    if row.verdict == "valid":
        assert errors == [], text
        return
    assert errors, f"{row.file} is valid, but docs/compat.md says invalid"
    named = re.findall(r"`([^`]+)`", row.reason)
    assert any(token in text for token in named), (
        f"{row.file}: the reason names {named}, the errors say:\n{text}"
    )


def test_doc_id_front_matter_is_merged(uet_reference: Path, tmp_path: Path) -> None:
    """The later PH-CORE-01.yaml prepends ``doc_id: ...`` and ``---``; it is still one phase."""
    original = uet_reference / "profiles/software-dev-python/phase_templates/PH-CORE-01.yaml"
    stamped = tmp_path / "PH-CORE-01.yaml"
    stamped.write_text(
        "doc_id: DOC-CONFIG-PH-CORE-01-104\n---\n" + original.read_text(encoding="utf-8"),
        encoding="utf-8",
    )
    [document] = load_reference(stamped)
    assert document["doc_id"] == "DOC-CONFIG-PH-CORE-01-104"
    assert document["phase_id"] == "PH-CORE-01"
    assert list(bundled_registry().validator("phase_spec").iter_errors(document)) == []


def test_parse_verdict_table_keeps_pipes_in_the_reason() -> None:
    row = "| `a.json` | task_spec | invalid | `x` or | y |"
    text = f"intro\n\n{TABLE_HEADER}\n|---|---|---|---|\n{row}\n\nafter\n"
    assert parse_verdict_table(text) == [Row("a.json", "task_spec", "invalid", "`x` or | y")]
