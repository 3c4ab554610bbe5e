"""Where the cursor is in a JSON or YAML text that may not parse: path, key or value, prefix.

Completion runs while the user types, so the text is usually broken (``  na`` without a
colon, ``{"a": 1, "`` without a closing brace). The positional tree cannot help then; this
module reads the text around the cursor instead: YAML by indentation and ``-`` markers,
JSON with a tolerant token scan. It answers a path like ``("tasks", 1, "depends_on", 0)``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from uet.artifacts.positions import Span
from uet.artifacts.tree import PathPart

__all__ = ["CursorContext", "cursor_context"]

Position = Literal["key", "value", "item"]

_WORD_CHARS = r"[^\s:,\[\]{}#\"']"
_YAML_KEY = re.compile(
    r"""(?P<key>"(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^\s#'"\-?:,\[\]{}][^#]*?|-[^\s#][^#]*?)\s*:(?:\s|$)"""
)
_JSON_TOKEN = re.compile(r'"(?:[^"\\\n]|\\.)*"?|[{}\[\]:,]|[^\s{}\[\]:,"]+|\s+')


@dataclass(frozen=True, slots=True)
class CursorContext:
    """What the cursor is on.

    ``path`` leads to the object whose key is being typed (``position == "key"``), to the
    value being typed (``"value"``), or to a list item that may be a scalar or an object
    (``"item"``). ``replace`` is the span a completion replaces; ``existing_keys`` are keys
    already written in the object (not offered again); ``quoted`` says the JSON cursor is
    inside a string.
    """

    path: tuple[PathPart, ...]
    position: Position
    prefix: str
    replace: Span
    existing_keys: frozenset[str] = field(default_factory=frozenset)
    quoted: bool = False


def cursor_context(text: str, offset: int, language: str) -> CursorContext:
    """The context at ``offset`` (code points) of ``text`` (``"json"`` or ``"yaml"``)."""
    offset = max(0, min(offset, len(text)))
    if language == "json":
        return _json_context(text, offset)
    return _yaml_context(text, offset)


# -- YAML -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Line:
    dashes: tuple[int, ...]  # columns of the "- " markers
    content: int  # column where the content after the markers starts
    key: str | None  # the mapping key written at ``content``, if any
    inline_value: str  # text after "key:" (stripped), "" for a block parent


def _parse_line(line: str) -> _Line | None:
    stripped = line.lstrip(" ")
    if not stripped or stripped.startswith("#") or stripped.startswith("---"):
        return None
    column = len(line) - len(stripped)
    dashes: list[int] = []
    while line[column : column + 1] == "-" and line[column + 1 : column + 2] in (" ", ""):
        dashes.append(column)
        column += 1
        while line[column : column + 1] == " ":
            column += 1
    match = _YAML_KEY.match(line, column)
    if match is None:
        return _Line(tuple(dashes), column, None, line[column:].strip())
    value = line[match.end() :].split(" #", 1)[0].strip()
    return _Line(tuple(dashes), column, _unquote(match.group("key")), value)


def _unquote(key: str) -> str:
    key = key.strip()
    if len(key) >= 2 and key[0] == key[-1] and key[0] in "\"'":
        return key[1:-1]
    return key


def _yaml_context(text: str, offset: int) -> CursorContext:
    lines = text.split("\n")
    line_number = text.count("\n", 0, offset)
    line_start = offset - (len(text[:offset]) - (text.rfind("\n", 0, offset) + 1))
    before = text[line_start:offset]
    current = _parse_line(before + "x") or _Line((), len(before), None, "")
    if current.key is not None and before.find(":", current.content) != -1:
        return _yaml_value(
            text,
            lines=lines,
            line_number=line_number,
            before=before,
            line_start=line_start,
            offset=offset,
            current=current,
        )
    word_start = current.content if current.content <= len(before) else len(before)
    prefix = before[word_start:]
    replace = Span(line_start + word_start, _word_end(text, offset))
    if current.dashes:
        parent = _yaml_parent_path(lines, line_number, current.dashes[0], dash=True)
        path = (*parent, *_item_indexes(lines, line_number, current.dashes))
        return CursorContext(path, "item", prefix, replace, frozenset())
    column = min(current.content, len(before))
    path = _yaml_parent_path(lines, line_number, column, dash=False)
    siblings = _sibling_keys(lines, line_number, column)
    return CursorContext(path, "key", prefix, replace, siblings)


def _yaml_value(
    text: str,
    *,
    lines: list[str],
    line_number: int,
    before: str,
    line_start: int,
    offset: int,
    current: _Line,
) -> CursorContext:
    assert current.key is not None
    if current.dashes:
        parent = _yaml_parent_path(lines, line_number, current.dashes[0], dash=True)
        parent = (*parent, *_item_indexes(lines, line_number, current.dashes))
    else:
        parent = _yaml_parent_path(lines, line_number, current.content, dash=False)
    colon = before.index(":", current.content)
    value_text = before[colon + 1 :]
    path: tuple[PathPart, ...] = (*parent, current.key)
    bracket = value_text.rfind("[")
    if bracket != -1 and "]" not in value_text[bracket:]:
        inside = value_text[bracket + 1 :]
        path = (*path, inside.count(","))
        value_text = inside.rsplit(",", 1)[-1]
    prefix = value_text.lstrip(" ")
    start = offset - len(prefix)
    if prefix[:1] in ("'", '"'):
        prefix = prefix[1:]
    return CursorContext(path, "value", prefix, Span(start, _word_end(text, offset)))


def _word_end(text: str, offset: int) -> int:
    match = re.compile(_WORD_CHARS + "*").match(text, offset)
    return match.end() if match else offset


def _yaml_parent_path(
    lines: list[str], line_number: int, column: int, *, dash: bool
) -> tuple[PathPart, ...]:
    """The path of the container holding a construct at ``column`` on ``line_number``.

    A key's parent is the nearest key above with a smaller column; a list marker's parent
    may sit at the same column (``key:`` then ``- item``).
    """
    path: list[PathPart] = []
    need, dash_mode = column, dash
    for number in range(line_number - 1, -1, -1):
        if need == 0 and not dash_mode:
            break
        parsed = _parse_line(lines[number])
        if parsed is None:
            continue
        if parsed.key is not None and (
            parsed.content < need or (dash_mode and parsed.content == need)
        ):
            path.append(parsed.key)
            outer = [d for d in parsed.dashes]
            if outer:
                indexes = _item_indexes(lines, number, tuple(outer))
                path.extend(reversed(indexes))
                need, dash_mode = outer[0], True
            else:
                need, dash_mode = parsed.content, False
            continue
        inner = [d for d in parsed.dashes if d < need]
        if inner:
            chain = tuple(inner)
            path.extend(reversed(_item_indexes(lines, number, chain)))
            need, dash_mode = chain[0], True
            continue
        first = parsed.dashes[0] if parsed.dashes else parsed.content
        if first < need:
            break  # a scalar less indented than us: no container to descend from
    path.reverse()
    return tuple(path)


def _item_indexes(lines: list[str], line_number: int, dashes: tuple[int, ...]) -> list[PathPart]:
    """Index of each item started by the markers at ``dashes`` on ``line_number``."""
    indexes: list[PathPart] = []
    for position, column in enumerate(dashes):
        if position > 0:
            indexes.append(0)  # "- - x": the inner list's first item
            continue
        count = 0
        for number in range(line_number - 1, -1, -1):
            parsed = _parse_line(lines[number])
            if parsed is None:
                continue
            first = parsed.dashes[0] if parsed.dashes else parsed.content
            if column in parsed.dashes:
                count += 1
            elif first < column or (first == column and parsed.key is not None):
                break
        indexes.append(count)
    return indexes


def _sibling_keys(lines: list[str], line_number: int, column: int) -> frozenset[str]:
    keys: set[str] = set()
    for step in (-1, 1):
        number = line_number + step
        while 0 <= number < len(lines):
            parsed = _parse_line(lines[number])
            number += step
            if parsed is None:
                continue
            first = parsed.dashes[0] if parsed.dashes else parsed.content
            if parsed.content == column and parsed.key is not None:
                keys.add(parsed.key)
                if parsed.dashes and step == -1:
                    break  # the first key of this list item
                if parsed.dashes and step == 1:
                    break  # the next list item
                continue
            if first < column:
                break
    return frozenset(keys)


# -- JSON -------------------------------------------------------------------------------


@dataclass(slots=True)
class _Frame:
    kind: Literal["object", "array"]
    key: str | None = None  # object: the key whose value comes next
    index: int = 0  # array: the item being written
    after_colon: bool = False
    keys: set[str] = field(default_factory=set)


def _json_context(text: str, offset: int) -> CursorContext:
    stack: list[_Frame] = []
    quoted = False
    token_start = offset
    prefix = ""
    for match in _JSON_TOKEN.finditer(text, 0, len(text)):
        start, end = match.span()
        token = match.group()
        if start >= offset:
            break
        if end >= offset and (token[0] == '"' or token[0] not in "{}[]:, \t\r\n"):
            if token[0] == '"' and (end > offset or not _closed(token)):
                quoted, token_start, prefix = True, start, text[start + 1 : offset]
                break
            if token[0] != '"':
                token_start, prefix = start, text[start:offset]
                break
        _json_feed(stack, token)
    end = offset
    if quoted:
        close = text.find('"', offset)
        newline = text.find("\n", offset)
        if close != -1 and (newline == -1 or close < newline):
            end = close + 1
    else:
        end = _word_end(text, offset)
    replace = Span(token_start, end)
    if not stack:
        return CursorContext((), "value", prefix, replace, frozenset(), quoted)
    path = _json_path(stack)
    top = stack[-1]
    if top.kind == "object" and not top.after_colon:
        return CursorContext(path, "key", prefix, replace, frozenset(top.keys), quoted)
    return CursorContext(path, "value", prefix, replace, frozenset(), quoted)


def _closed(token: str) -> bool:
    return len(token) >= 2 and token.endswith('"') and not token.endswith('\\"')


def _json_feed(stack: list[_Frame], token: str) -> None:
    top = stack[-1] if stack else None
    if token in ("{", "["):
        stack.append(_Frame("object" if token == "{" else "array"))
    elif token in ("}", "]"):
        if stack:
            stack.pop()
    elif token == ":":
        if top is not None and top.kind == "object":
            top.after_colon = True
    elif token == ",":
        if top is not None and top.kind == "object":
            top.after_colon, top.key = False, None
        elif top is not None:
            top.index += 1
    elif token[0] == '"' and top is not None and top.kind == "object" and not top.after_colon:
        top.key = token[1:-1] if _closed(token) else token[1:]
        top.keys.add(top.key)


def _json_path(stack: list[_Frame]) -> tuple[PathPart, ...]:
    path: list[PathPart] = []
    for position, frame in enumerate(stack):
        last = position == len(stack) - 1
        if frame.kind == "array":
            path.append(frame.index)
        elif frame.key is not None and (not last or frame.after_colon):
            path.append(frame.key)
    return tuple(path)
