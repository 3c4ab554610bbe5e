"""Helpers for artifact tests: compact ranges ("line:col-line:col", 0-based code points)."""

from __future__ import annotations

from uet.artifacts import Diagnostic, LineIndex, Span


def span_text(index: LineIndex, span: Span) -> str:
    """``"3:4-3:9"`` for a span, in 0-based lines and code-point columns."""
    start, end = index.position(span.start), index.position(span.end)
    return f"{start.line}:{start.column}-{end.line}:{end.column}"


def summary(index: LineIndex, diagnostics: list[Diagnostic]) -> list[tuple[str, str]]:
    """``[(code, range)]`` of diagnostics, for table-driven assertions."""
    return [(item.code, span_text(index, item.span)) for item in diagnostics]
