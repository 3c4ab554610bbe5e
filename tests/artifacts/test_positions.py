"""Offsets to lines and columns in code points, UTF-16 units and UTF-8 bytes."""

from __future__ import annotations

from uet.artifacts import LineCol, LineIndex


def test_columns_in_each_unit() -> None:
    text = 'a: "\U0001f600é" x\nsecond\r\nthird'
    index = LineIndex(text)
    x = text.index("x")
    assert index.position(x) == LineCol(0, 8)
    assert index.utf16_position(x) == LineCol(0, 9)
    assert index.utf8_position(x) == LineCol(0, 12)
    assert index.position(text.index("third")) == LineCol(2, 0)
    assert index.line_text(1) == "second"
    assert index.line_count == 3


def test_round_trip_from_utf16() -> None:
    text = "k: \U0001f600\U0001f600 v"
    index = LineIndex(text)
    offset = text.index("v")
    position = index.utf16_position(offset)
    assert index.offset_from_utf16(position.line, position.column) == offset
    assert index.offset_from_utf16(0, 4) == 3  # inside a surrogate pair rounds down


def test_clamping() -> None:
    index = LineIndex("ab\ncd")
    assert index.position(99) == LineCol(1, 2)
    assert index.offset(5, 0) == 5
    assert index.offset(0, 99) == 2
