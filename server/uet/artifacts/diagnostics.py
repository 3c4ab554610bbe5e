"""Diagnostic records produced by the loader, the validator and the cross-artifact checks.

Plain frozen dataclasses: the CLI prints them, the language server converts them in
``uet.lsp.convert``. ``data`` carries what a quick fix needs (JSON-serialisable only).
Every code is listed in ``CODES`` and documented in docs/diagnostics.md (a test keeps the
two in step).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from uet.artifacts.positions import Span

__all__ = ["CODES", "Diagnostic", "Related", "Severity"]


class Severity(enum.IntEnum):
    """Severity, numbered like LSP's ``DiagnosticSeverity`` for a trivial conversion."""

    ERROR = 1
    WARNING = 2
    INFORMATION = 3
    HINT = 4

    @property
    def label(self) -> str:
        """Lower-case name as printed by the CLI (``error``, ``warning``, ...)."""
        return self.name.lower()


@dataclass(frozen=True, slots=True)
class Related:
    """Another place that explains a diagnostic (e.g. the other end of a cycle)."""

    path: str
    span: Span
    message: str


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem on one node of one file."""

    span: Span
    severity: Severity
    code: str
    message: str
    schema: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)
    related: tuple[Related, ...] = ()


# Stable codes. Ranges: UET1xx syntax/loading, UET2xx schema, UET3xx cross-artifact,
# UET4xx run results (engine, reported by the language server), UET5xx workspace health.
CODES: dict[str, str] = {
    "UET101": "syntax error in JSON or YAML",
    "UET102": "duplicate key in an object",
    "UET103": "file larger than the configured size limit",
    "UET104": "file is binary or not valid UTF-8",
    "UET105": "nesting deeper than the supported limit",
    "UET106": "YAML aliases expand beyond the supported size, or an alias is recursive",
    "UET107": "NaN or Infinity is not a JSON value",
    "UET108": "the schema named by the file does not exist",
    "UET109": "file could not be read",
    "UET110": "YAML tag or value that JSON cannot represent",
    "UET111": "not a regular file (directory, FIFO, socket or device)",
    "UET112": "number too large to represent",
    "UET113": "YAML value that does not fit its explicit tag",
    "UET114": "lone surrogate (text that is not valid Unicode)",
    "UET201": "value has the wrong type",
    "UET202": "required property is missing",
    "UET203": "property is not allowed here",
    "UET204": "value is not one of the allowed values",
    "UET205": "string does not match the required pattern",
    "UET206": "value is outside the allowed range or length",
    "UET207": "value does not match the expected constant",
    "UET208": "value is not in the expected format",
    "UET209": "array items must be unique",
    "UET210": "value matches none of the allowed alternatives",
    "UET211": "validation stopped after the first 1,000 schema problems of a document",
    "UET299": "other schema violation",
    "UET301": "duplicate id",
    "UET302": "dependency names an unknown task",
    "UET303": "dependency cycle",
    "UET304": "workstream names an unknown phase",
    "UET305": "routing rule names an unknown app",
    "UET306": "unknown profile",
    "UET307": "task depends on itself",
    # Run results, shown by the language server on the task in its workstream file.
    "UET401": "task failed (non-zero exit status or error)",
    "UET402": "task timed out",
    "UET403": "task was skipped because a dependency did not succeed",
    # Workspace health (``uet doctor``; uet.bootstrap.checks.DOCTOR_CODES is this subset).
    "UET501": "the workspace is not bootstrapped (no PROJECT_PROFILE.yaml)",
    "UET502": "a generated artifact is missing",
    "UET503": "engine state (.uet/) is not ignored by git",
    "UET504": "a framework folder (.tasks/, .ledger/) is missing",
    "UET505": "an app's executable is not on PATH",
    "UET506": "a routing rule that no app satisfies",
    "UET507": "a task that no app can run",
    "UET508": "a phase without a workstream",
    "UET509": "a problem in a profile or profile extension",
    "UET510": "a profile's regex that the linear-time engine (RE2) refuses",
    "UET511": "a tool the profile needs is not installed",
    "UET512": "a prerequisite of a tool the workspace uses is missing",
}
