"""Source positions: spans as code-point offsets, converted to lines and columns on demand.

Why offsets: both parsers produce them cheaply, they are immune to line-ending style, and
one ``LineIndex`` per text answers every unit a consumer needs — UTF-16 columns for LSP
(converted only at the LSP edge), code-point columns for the CLI, bytes for tools.
"""

from __future__ import annotations

import bisect
from array import array
from dataclasses import dataclass
from typing import NamedTuple

__all__ = ["LineCol", "LineIndex", "Span"]


class Span(NamedTuple):
    """A half-open range ``[start, end)`` of code-point offsets into one text.

    A named tuple rather than a frozen dataclass: parsers build one per key and value, and
    tuple construction is several times cheaper."""

    start: int
    end: int

    def contains(self, offset: int) -> bool:
        """True when ``offset`` lies inside the span (its end counts, as for a cursor)."""
        return self.start <= offset <= self.end


@dataclass(frozen=True, slots=True)
class LineCol:
    """A 0-based line and column; the column unit depends on the method that made it."""

    line: int
    column: int


class LineIndex:
    """Maps offsets of one text to lines and columns in code points, UTF-16 units or bytes."""

    __slots__ = ("_line_starts", "_text")

    def __init__(self, text: str) -> None:
        self._text = text
        # A machine-int array, not a list: 8 bytes a line instead of about 40.
        starts = array("q", [0])
        append, find = starts.append, text.find
        position = find("\n")
        while position != -1:
            position += 1
            append(position)
            position = find("\n", position)
        self._line_starts = starts

    @property
    def text(self) -> str:
        """The indexed text."""
        return self._text

    @property
    def line_count(self) -> int:
        """Number of lines (a trailing newline starts an empty last line)."""
        return len(self._line_starts)

    def line_start(self, line: int) -> int:
        """Offset of the first character of ``line`` (clamped to the text)."""
        if line < 0:
            return 0
        if line >= len(self._line_starts):
            return len(self._text)
        return self._line_starts[line]

    def line_end(self, line: int) -> int:
        """Offset just after the last character of ``line``, excluding ``\\r\\n``."""
        if line + 1 < len(self._line_starts):
            end = self._line_starts[line + 1] - 1
        else:
            end = len(self._text)
        if end > self.line_start(line) and self._text[end - 1 : end] == "\r":
            end -= 1
        return end

    def line_text(self, line: int) -> str:
        """The text of ``line`` without its line break."""
        return self._text[self.line_start(line) : self.line_end(line)]

    def position(self, offset: int) -> LineCol:
        """Line and code-point column of ``offset``."""
        offset = max(0, min(offset, len(self._text)))
        line = bisect.bisect_right(self._line_starts, offset) - 1
        return LineCol(line, offset - self._line_starts[line])

    def utf16_position(self, offset: int) -> LineCol:
        """Line and UTF-16 column of ``offset`` (the LSP default encoding)."""
        point = self.position(offset)
        start = self._line_starts[point.line]
        prefix = self._text[start : start + point.column]
        if prefix.isascii():
            return point
        # surrogatepass: a lone surrogate (editor buffers may hold one) is one UTF-16 unit
        return LineCol(point.line, len(prefix.encode("utf-16-le", "surrogatepass")) // 2)

    def utf8_position(self, offset: int) -> LineCol:
        """Line and UTF-8 byte column of ``offset``."""
        point = self.position(offset)
        start = self._line_starts[point.line]
        prefix = self._text[start : start + point.column]
        if prefix.isascii():
            return point
        return LineCol(point.line, len(prefix.encode("utf-8", "surrogatepass")))

    def offset(self, line: int, column: int) -> int:
        """Offset of a code-point ``column`` on ``line`` (clamped to the line)."""
        start = self.line_start(line)
        return min(start + max(column, 0), self.line_end(line))

    def offset_from_utf16(self, line: int, column: int) -> int:
        """Offset of a UTF-16 ``column`` on ``line`` (clamped; mid-surrogate rounds down)."""
        start = self.line_start(line)
        text = self.line_text(line)
        if text.isascii():
            return start + min(max(column, 0), len(text))
        units = 0
        for index, char in enumerate(text):
            width = 2 if ord(char) > 0xFFFF else 1
            if units + width > column:
                return start + index
            units += width
        return start + len(text)
