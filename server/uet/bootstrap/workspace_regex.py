"""Regexes that come from a workspace (profile extensions' content regexes, the regexes
their globs compile to) run on RE2, whose matching time is linear in the text.

Python's ``re`` backtracks: ``^(a+)+$`` against forty ``a`` and a ``!`` takes hours, holding
the GIL, so one pattern in a cloned repository would freeze ``uet profiles`` and every
document of the language server. RE2 guarantees linear time by leaving out what needs
backtracking (backreferences, lookaround, atomic groups, possessive quantifiers); a pattern
using them is refused with a :class:`RefusedPattern` that says why, and is not used.
Bundled patterns stay on ``re``: they are ours and reviewed.
"""

from __future__ import annotations

import re
from typing import Protocol

import re2

__all__ = ["BytesSearch", "RefusedPattern", "StrMatch", "compile_content_regex", "compile_str"]


class BytesSearch(Protocol):
    """A compiled pattern searched in file contents (``re`` or RE2)."""

    def search(self, text: bytes, /) -> object: ...


class StrMatch(Protocol):
    """A compiled pattern matched at the start of a path (``re`` or RE2)."""

    def match(self, text: str, /) -> object: ...


class RefusedPattern(ValueError):
    """A workspace pattern that is not used; ``str()`` says why, naming the pattern."""

    def __init__(self, pattern: str, reason: str) -> None:
        super().__init__(f"regex {pattern!r} is not used: {reason}")
        self.pattern = pattern
        self.reason = reason


def compile_content_regex(pattern: str) -> BytesSearch:
    """``pattern`` (Python syntax) for searching bytes, multiline (``^``/``$`` at each line).

    Raises :class:`RefusedPattern` when it does not compile, or uses what only a
    backtracking engine can match.
    """
    _check_syntax(pattern)
    try:
        return re2.compile(f"(?m){pattern}".encode(), _options())
    except re2.error as error:
        raise _refused_by_re2(pattern, error) from None


def compile_str(pattern: str) -> StrMatch:
    """``pattern`` for matching text (the regex a workspace glob compiles to)."""
    _check_syntax(pattern)
    try:
        return re2.compile(pattern, _options())
    except re2.error as error:
        raise _refused_by_re2(pattern, error) from None


def _check_syntax(pattern: str) -> None:
    """Refuse what is not a Python regex at all (compiling never backtracks)."""
    try:
        re.compile(pattern)
    except (re.error, OverflowError, RecursionError, ValueError) as error:
        raise RefusedPattern(pattern, f"it does not compile: {error}") from None


def _options() -> re2.Options:
    """RE2's defaults (UTF-8, a bounded program size), without its own error log on
    stderr: a refusal is reported as a problem instead."""
    options = re2.Options()
    options.log_errors = False
    return options


def _refused_by_re2(pattern: str, error: Exception) -> RefusedPattern:
    detail = error.args[0] if error.args else error
    if isinstance(detail, bytes):
        detail = detail.decode("utf-8", "replace")
    return RefusedPattern(
        pattern,
        "patterns from a workspace run on RE2, which matches in linear time and so has no"
        f" backreferences, lookaround, atomic groups or possessive quantifiers ({detail})",
    )
