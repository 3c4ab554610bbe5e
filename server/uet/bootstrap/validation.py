"""Validates bootstrap inputs and outputs through ``uet.artifacts`` (the one loader).

The bootstrap never parses or validates artifacts on its own: profiles, templates and every
generated file go through ``uet.artifacts.check_text`` so that the CLI, the language server
and the bootstrap report the same diagnostics. This module only turns a ``FileReport`` into
``(value, problems)``.
"""

from __future__ import annotations

from dataclasses import dataclass

from uet.artifacts import FileReport, Severity, bundled_registry, check_text
from uet.bootstrap.errors import Problem, ProblemLevel

__all__ = ["LEVEL_BY_SEVERITY", "Checked", "check_artifact_text"]

# How an artifact diagnostic's severity reads as a bootstrap problem level.
LEVEL_BY_SEVERITY = {
    Severity.ERROR: ProblemLevel.ERROR,
    Severity.WARNING: ProblemLevel.WARNING,
    Severity.INFORMATION: ProblemLevel.INFO,
    Severity.HINT: ProblemLevel.INFO,
}


@dataclass(frozen=True, slots=True)
class Checked:
    """A loaded artifact: its plain value (``None`` after a syntax error) and problems."""

    value: object
    problems: tuple[Problem, ...]
    report: FileReport

    @property
    def ok(self) -> bool:
        """True when no problem is an error."""
        return not any(problem.level is ProblemLevel.ERROR for problem in self.problems)


def check_artifact_text(text: str, path: str, schema: str, label: str | None = None) -> Checked:
    """Load ``text`` (named ``path``, which decides JSON or YAML) and validate it against
    ``schema``. Problems carry ``label`` (default ``path``) and ``line:col``."""
    shown = label or path
    known = schema in bundled_registry()
    report = check_text(text, path, schema if known else None, relative_path=path)
    problems: list[Problem] = []
    index = report.parsed.line_index
    for item in report.diagnostics:
        position = index.position(item.span.start)
        problems.append(
            Problem(
                LEVEL_BY_SEVERITY[item.severity],
                f"{shown}:{position.line + 1}:{position.column + 1}",
                f"{item.code} {item.message}",
            )
        )
    if not report.parsed.documents and not problems:
        problems.append(Problem(ProblemLevel.ERROR, shown, "the file holds no document"))
    return Checked(report.value, tuple(problems), report)
