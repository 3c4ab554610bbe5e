"""The bounds every artifact read obeys, shared by the JSON and YAML parsers.

One place for what "bounded" means, so both languages refuse the same hostile input the
same way and everything downstream (validation, message rendering, hover, completion,
incremental reparsing; some of it recursive, some of it in worker threads) can rely on it:

- nesting depth (``MAX_DEPTH``): low enough that a recursive walk of a few Python frames
  per level stays far below the interpreter's recursion limit;
- integer size (``MAX_INT_DIGITS``): Python refuses to convert longer integers to and from
  decimal text (a denial-of-service guard we keep), so a longer literal is a diagnostic;
- alias expansion (``MAX_EXPANDED_NODES``);
- text that is not Unicode (lone surrogates, which editor buffers may hold);
- cancellation: a long parse polls a caller's check and stops with ``CheckCancelled``;
- globs from a workspace (``.gitignore`` files, ``uet.exclude``, association globs) are
  matched by RE2 (``GLOB_BACKEND``, pathspec's ``re2`` backend) in time linear in the path:
  pathspec's plain backend is Python's backtracking ``re``, and a glob such as
  ``*a*a*a*a*a*a*a*a*b`` in a cloned repository would freeze the walk and the server.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable

from uet.artifacts.diagnostics import Diagnostic, Severity
from uet.artifacts.positions import Span

__all__ = [
    "GLOB_BACKEND",
    "MAX_DEPTH",
    "MAX_EXPANDED_NODES",
    "MAX_INT_DIGITS",
    "CancelCheck",
    "CheckCancelled",
    "bounded_int",
    "depth_problem",
    "number_problem",
    "replace_surrogates",
]

GLOB_BACKEND = "re2"
MAX_DEPTH = 256
MAX_EXPANDED_NODES = 1_000_000
# Python's own limit for int <-> decimal text (4,300 unless configured lower).
MAX_INT_DIGITS = min(4300, sys.get_int_max_str_digits() or 4300)
_INT_BOUND = 10**MAX_INT_DIGITS
_MAX_SURROGATE_REPORTS = 20
_SURROGATE = re.compile("[\ud800-\udfff]")

CancelCheck = Callable[[], bool]


class CheckCancelled(Exception):
    """Raised by a parse whose ``cancelled`` check answered true (the caller asked to stop,
    e.g. because a newer version of the document arrived). Never raised on user input."""


def bounded_int(digits: str, base: int) -> int | None:
    """The value of an unsigned integer literal, or ``None`` when it has more than
    ``MAX_INT_DIGITS`` decimal digits (never converted: that is the expensive part)."""
    digits = digits.lstrip("0") or "0"
    if base == 10:
        return int(digits) if len(digits) <= MAX_INT_DIGITS else None
    if len(digits) > MAX_INT_DIGITS:  # base 8 or 16: already more than 10**4300
        return None
    value = int(digits, base)  # linear for power-of-two bases
    return value if value < _INT_BOUND else None


def number_problem(span: Span, token: str) -> Diagnostic:
    """UET112 for a number no JSON tool can hold (an integer over ``MAX_INT_DIGITS``
    digits, or a float beyond the double range)."""
    length = len(token)
    shown = token if length <= 20 else f"{token[:12]}... ({length:,} characters)"
    return Diagnostic(
        span,
        Severity.ERROR,
        "UET112",
        f"number {shown} is too large (integers up to {MAX_INT_DIGITS:,} digits, "
        "floats up to about 1.8e308); the document is not validated",
    )


def depth_problem(span: Span) -> Diagnostic:
    """UET105 for a container opened deeper than ``MAX_DEPTH``."""
    return Diagnostic(
        span,
        Severity.ERROR,
        "UET105",
        f"nesting deeper than {MAX_DEPTH} levels is not supported",
    )


def replace_surrogates(text: str) -> tuple[str, list[Diagnostic]]:
    """``text`` with each lone surrogate replaced by U+FFFD (same length, so every offset
    stays valid) and a UET114 diagnostic for each (the first few, then a count)."""
    if _SURROGATE.search(text) is None:
        return text, []
    problems: list[Diagnostic] = []
    found = [match.start() for match in _SURROGATE.finditer(text)]
    for position in found[:_MAX_SURROGATE_REPORTS]:
        problems.append(
            Diagnostic(
                Span(position, position + 1),
                Severity.ERROR,
                "UET114",
                f"lone surrogate U+{ord(text[position]):04X} is not a character "
                "(a broken UTF-16 pair); it is read as U+FFFD",
            )
        )
    if len(found) > _MAX_SURROGATE_REPORTS:
        rest = len(found) - _MAX_SURROGATE_REPORTS
        last = found[-1]
        problems.append(
            Diagnostic(
                Span(last, last + 1),
                Severity.ERROR,
                "UET114",
                f"{rest:,} more lone surrogates, read as U+FFFD",
            )
        )
    return _SURROGATE.sub("\ufffd", text), problems
