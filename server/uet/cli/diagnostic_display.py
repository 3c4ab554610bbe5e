"""How ``uet validate`` prints its diagnostics as text.

Two layouts, as ruff has them. *Full* (the default on a terminal): each diagnostic with its
source line and a marker under the node, in colour, then a coloured summary. *Concise* (the
default on a pipe or in a file): one ``path:line:col: severity CODE message`` line each, the
form editors and CI parse, then the summary. Colours are rich's decision: off when
``NO_COLOR`` is set, ``TERM=dumb`` or the output is not a terminal, on with ``FORCE_COLOR``.
rich is imported only for the full layout.

Source lines come from the user's files, so what the terminal would act on (control
characters, bidirectional overrides) is shown as U+FFFD, and a long line (minified JSON) is
cut to a window around the marker.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple, TextIO

from uet.artifacts import Severity

if TYPE_CHECKING:
    from rich.console import Console

__all__ = [
    "Excerpt",
    "SourceLine",
    "concise_line",
    "excerpt",
    "summary",
    "write_concise",
    "write_full",
]

# A record as ``uet validate --format json`` prints it (see commands_artifacts).
Record = dict[str, Any]
# The text of line ``line`` (1-based) of the file shown as ``path``, or None.
SourceLine = Callable[[str, int], "str | None"]

_SEVERITY_STYLES = {
    "error": "bold red",
    "warning": "bold yellow",
    "information": "bold blue",
    "hint": "bold cyan",
}
_GUTTER_STYLE = "bold blue"
_TAB = "    "  # ruff's tab width in excerpts
_WINDOW = 120  # code points of a longer line shown around its marker
_WINDOW_BEFORE = 40  # of which before the marker
_ELLIPSIS = "…"
# Bidirectional embedding, override and isolate controls: a source line must not reorder
# the text printed after it.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def concise_line(record: Record) -> str:
    """``path:line:col: severity CODE message`` (1-based code-point columns)."""
    return (
        f"{record['path']}:{record['line']}:{record['column']}: "
        f"{record['severity']} {record['code']} {record['message']}"
    )


def summary(count: int, records: Sequence[Record]) -> str:
    """``All 3 artifacts valid.`` or ``Checked 3 artifacts: 2 errors, 1 warning.``"""
    by_severity = {item.label: 0 for item in Severity}
    for record in records:
        by_severity[record["severity"]] += 1
    noun = "artifact" if count == 1 else "artifacts"
    if not records:
        return f"All {count} {noun} valid."
    parts = [
        f"{number} {label}{'s' if number != 1 else ''}"
        for label, number in by_severity.items()
        if number
    ]
    return f"Checked {count} {noun}: {', '.join(parts)}."


def write_concise(
    records: Sequence[Record], count: int, *, quiet: bool, stream: TextIO | None = None
) -> None:
    """One line per diagnostic, then the summary (not with ``quiet``), in one write."""
    lines = [concise_line(record) for record in records]
    if not quiet:
        lines.append(summary(count, records))
    if lines:
        (stream or sys.stdout).write("\n".join(lines) + "\n")


def write_full(
    records: Sequence[Record],
    count: int,
    source_line: SourceLine,
    *,
    quiet: bool,
    stream: TextIO | None = None,
) -> None:
    """Each diagnostic with its source excerpt, then the coloured summary, in one write.

    rich decides whether to colour (a terminal, ``NO_COLOR``, ``FORCE_COLOR``, ``TERM``)
    and renders the styles; the text is assembled here and written once, rather than
    printed as one rich ``Text`` object per part, which is far slower for thousands of
    diagnostics."""
    from rich.console import Console

    output = stream or sys.stdout
    paint = _painter(Console(file=output))
    parts = [
        _full_text(record, source_line(record["path"], record["line"]), paint) for record in records
    ]
    if not quiet:
        parts.append(_summary_text(count, records, paint))
    if parts:
        output.write("".join(parts))


# Renders text in a style (a rich style definition), or leaves it plain.
Paint = Callable[[str, str], str]


def _painter(console: Console) -> Paint:
    """How ``console`` shows styles: none off a terminal, no colours under ``NO_COLOR``."""
    if console.color_system is None:
        return lambda text, style: text
    from rich.color import ColorSystem
    from rich.style import Style

    cache: dict[str, Style] = {}

    def paint(text: str, style: str) -> str:
        parsed = cache.get(style)
        if parsed is None:
            parsed = Style.parse(style)
            cache[style] = parsed.without_color if console.no_color else parsed
            parsed = cache[style]
        # the styles here use the 8 standard colours: any colour system shows them
        return parsed.render(text, color_system=ColorSystem.STANDARD)

    return paint


class Excerpt(NamedTuple):
    """One source line as shown under a diagnostic, and the marker line beneath it."""

    shown: str
    marker: str


def excerpt(line: str, start: int, end: int | None) -> Excerpt:
    """``line`` made safe to print, with ``^`` under code points ``start`` to ``end``
    (0-based; ``None``: to the end of the line, for a span that goes on below). The marker
    is at least one ``^`` wide and lines up under tabs (shown as four spaces) and wide
    characters."""
    from rich.cells import cell_len

    stop = len(line) if end is None else min(end, len(line))
    first, last = 0, len(line)
    if len(line) > _WINDOW:
        first = max(0, min(start - _WINDOW_BEFORE, len(line) - _WINDOW))
        last = first + _WINDOW
    shown = [_ELLIPSIS] if first else []
    cells_before = cell_len(_ELLIPSIS) if first else 0
    carets = 0
    for offset in range(first, last):
        piece = _printable(line[offset])
        shown.append(piece)
        if offset < start:
            cells_before += cell_len(piece)
        elif offset < stop:
            carets += max(cell_len(piece), 1)
    if last < len(line):
        shown.append(_ELLIPSIS)
    return Excerpt("".join(shown), " " * cells_before + "^" * max(carets, 1))


def _printable(character: str) -> str:
    if character == "\t":
        return _TAB
    if character < " " or "\x7f" <= character < "\xa0" or character in _BIDI_CONTROLS:
        return "\ufffd"
    return character


def _full_text(record: Record, source: str | None, paint: Paint) -> str:
    style = _SEVERITY_STYLES.get(record["severity"], "bold")
    line_number = str(record["line"])
    pad = " " * len(line_number)
    parts = [
        paint(f"{record['severity']}[{record['code']}]", style),
        paint(f": {_safe(str(record['message']))}", "bold"),
        "\n",
        paint(f"{pad}--> ", _GUTTER_STYLE),
        _safe(f"{record['path']}:{record['line']}:{record['column']}"),
        "\n",
    ]
    if source is not None:
        same_line = record["end_line"] == record["line"]
        start = record["column"] - 1
        shown = excerpt(source, start, record["end_column"] - 1 if same_line else None)
        carets = shown.marker.lstrip(" ")
        parts += [
            paint(f"{pad} |", _GUTTER_STYLE),
            "\n",
            paint(f"{line_number} | ", _GUTTER_STYLE),
            shown.shown,
            "\n",
            paint(f"{pad} | ", _GUTTER_STYLE),
            shown.marker[: len(shown.marker) - len(carets)],
            paint(carets, style),
            "\n",
            paint(f"{pad} |", _GUTTER_STYLE),
            "\n",
        ]
    parts.append("\n")
    return "".join(parts)


def _summary_text(count: int, records: Sequence[Record], paint: Paint) -> str:
    severities = {record["severity"] for record in records}
    style = next(
        (_SEVERITY_STYLES[label] for label in ("error", "warning") if label in severities),
        "bold" if records else "bold green",
    )
    return paint(summary(count, records), style) + "\n"


def _safe(text: str) -> str:
    """``text`` (a message, a path) with what a terminal would act on made visible."""
    return "".join(map(_printable, text)) if any(map(_needs_care, text)) else text


def _needs_care(character: str) -> bool:
    return _printable(character) is not character
