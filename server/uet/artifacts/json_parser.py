"""A JSON parser that keeps source positions, without recursion.

Why our own: ``json.loads`` gives no positions and reports errors as code-point columns
only. This parser produces the positional tree (``uet.artifacts.tree``) in one pass with a
single compiled regex, an explicit stack (10,000-deep input cannot overflow Python's
stack), duplicate-key and NaN/Infinity reports, and exactly one precise range per syntax
error. Strings are decoded by the C ``scanstring`` the stdlib uses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from json import JSONDecodeError
from json.decoder import scanstring  # type: ignore[attr-defined]  # C-accelerated, undeclared in typeshed
from typing import Any

from uet.artifacts.diagnostics import Diagnostic, Related, Severity
from uet.artifacts.guards import (
    MAX_DEPTH,
    CancelCheck,
    CheckCancelled,
    bounded_int,
    depth_problem,
    number_problem,
    replace_surrogates,
)
from uet.artifacts.positions import Span
from uet.artifacts.tree import Document, Member, Node, NodeKind, scalar_node

__all__ = ["MAX_DEPTH", "JsonParseResult", "parse_json"]

_POLL_TOKENS = 4096  # tokens between two calls of the caller's ``cancelled`` check

_TOKEN = re.compile(
    r"""[ \t\r\n\ufeff]*(?:
      (?P<string>"(?:[^"\\\x00-\x1f]|\\.)*")
    | (?P<number>-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?)
    | (?P<punct>[{}\[\]:,])
    | (?P<literal>true|false|null)
    | (?P<nonfinite>NaN|-?Infinity)
    | (?P<end>\Z)
    | (?P<bad>.)
    )""",
    re.VERBOSE | re.DOTALL,
)
_LITERALS: dict[str, Any] = {"true": True, "false": False, "null": None}
_WORD = re.compile(r"[A-Za-z0-9_.+-]+")
_INFINITIES = (float("inf"), float("-inf"))


@dataclass(slots=True)
class JsonParseResult:
    """The parsed document (absent after a syntax error) and the problems found."""

    document: Document | None
    problems: list[Diagnostic]


class _SyntaxProblem(Exception):
    def __init__(self, span: Span, message: str, related: tuple[Related, ...] = ()) -> None:
        super().__init__(message)
        self.span = span
        self.message = message
        self.related = related


@dataclass(slots=True)
class _Frame:
    node: Node
    # object states: "key_or_end", "key", "colon", "value", "comma_or_end"
    # array states: "value_or_end", "value", "comma_or_end"
    state: str
    key: str = ""
    key_start: int = 0
    key_end: int = 0
    seen: dict[str, Member] | None = None


def parse_json(text: str, path: str = "", cancelled: CancelCheck | None = None) -> JsonParseResult:
    """Parse ``text``; syntax errors become one diagnostic with the offending token's range.

    ``cancelled`` is polled every few thousand tokens; when it answers true the parse stops
    with ``CheckCancelled``. Nothing else is raised: problems are diagnostics."""
    text, problems = replace_surrogates(text)
    try:
        root = _parse(text, problems, path, cancelled)
    except _SyntaxProblem as problem:
        problems.append(
            Diagnostic(
                span=problem.span,
                severity=Severity.ERROR,
                code="UET105" if problem.message.startswith("nesting") else "UET101",
                message=problem.message,
                related=problem.related,
            )
        )
        return JsonParseResult(None, problems)
    if root is None or any(problem.code == "UET112" for problem in problems):
        return JsonParseResult(None, problems)  # a number no JSON tool can hold: not validated
    return JsonParseResult(Document(root, root.span), problems)


def _describe(match: re.Match[str], text: str) -> tuple[Span, str]:
    """Span and human name of an unexpected token."""
    kind = match.lastgroup
    start = match.start(kind) if kind else match.start()
    if kind == "end":
        return Span(start, start), "end of file"
    if kind == "bad":
        word = _WORD.match(text, start)
        if word is not None:
            return Span(start, word.end()), f"'{word.group()}'"
        char = text[start]
        if char == "'":
            return Span(start, start + 1), '"\'" (JSON strings use double quotes)'
        return Span(start, start + 1), repr(char)
    end = match.end(kind) if kind else match.end()
    token = text[start:end]
    if kind == "string":
        return Span(start, end), "a string"
    if kind == "number":
        return Span(start, end), f"number {token}"
    return Span(start, end), f"'{token}'"


def _string_value(token: str, start: int) -> str:
    if "\\" not in token:
        return token[1:-1]
    try:
        decoded: str = scanstring(token, 1, True)[0]
        return decoded
    except JSONDecodeError as exc:
        raise _SyntaxProblem(
            Span(start + exc.pos, start + exc.pos + 2), "invalid escape sequence"
        ) from None


def _bad_string(text: str, start: int) -> _SyntaxProblem:
    """Explain why a string starting at ``start`` did not match the string token."""
    try:
        scanstring(text, start + 1, True)
    except JSONDecodeError as exc:
        position = exc.pos
        if exc.msg.startswith("Unterminated"):
            line_end = text.find("\n", start)
            end = line_end if line_end != -1 else len(text)
            return _SyntaxProblem(Span(start, end), "unterminated string")
        if exc.msg.startswith("Invalid control") and text[position] in "\r\n":
            return _SyntaxProblem(
                Span(start, position), "unterminated string (a JSON string cannot span lines)"
            )
        if exc.msg.startswith("Invalid control"):
            return _SyntaxProblem(
                Span(position, position + 1),
                "control character in string (escape it, e.g. \\n or \\t)",
            )
        return _SyntaxProblem(Span(position, position + 2), "invalid escape sequence")
    return _SyntaxProblem(Span(start, start + 1), "invalid string")


def _scalar(kind: str, match: re.Match[str], problems: list[Diagnostic]) -> Node:
    start, end = match.start(kind), match.end(kind)
    token = match.group(kind)
    if kind == "string":
        return scalar_node(start, end, _string_value(token, start))
    if kind == "number":
        value: int | float | None
        if "." in token or "e" in token or "E" in token:
            value = float(token)
            if value in _INFINITIES:
                value = None
        elif len(token) <= 18:  # the common case: certainly within bounds
            value = int(token)
        else:
            value = bounded_int(token.lstrip("-"), 10)
            if value is not None and token.startswith("-"):
                value = -value
        if value is None:
            problems.append(number_problem(Span(start, end), token))
        return scalar_node(start, end, value)
    if kind == "literal":
        return scalar_node(start, end, _LITERALS[token])
    problems.append(
        Diagnostic(
            span=Span(start, end),
            severity=Severity.ERROR,
            code="UET107",
            message=f"{token} is not a JSON value; write a number or null",
        )
    )
    return scalar_node(start, end, float(token.replace("NaN", "nan")))


def _parse(
    text: str, problems: list[Diagnostic], path: str, cancelled: CancelCheck | None
) -> Node | None:
    """The parser loop: one regex match per token, containers on an explicit stack."""
    stack: list[_Frame] = []
    root: Node | None = None
    keys: dict[str, str] = {}  # one string per distinct key: big documents repeat a few
    position = 0
    match_token = _TOKEN.match
    countdown = _POLL_TOKENS
    while True:
        if cancelled is not None:
            countdown -= 1
            if countdown == 0:
                countdown = _POLL_TOKENS
                if cancelled():
                    raise CheckCancelled
        match = match_token(text, position)
        if match is None:  # pragma: no cover - the pattern always matches (\Z or .)
            raise _SyntaxProblem(Span(position, position + 1), "unexpected input")
        kind = match.lastgroup or "end"
        position = match.end()
        frame = stack[-1] if stack else None

        if frame is None:
            if root is not None:
                if kind == "end":
                    return root
                span, what = _describe(match, text)
                raise _SyntaxProblem(span, f"unexpected {what} after the end of the JSON value")
            if kind == "end":
                return None  # empty or whitespace-only file: no document
        state = frame.state if frame is not None else "value"

        if kind == "punct":
            char = match.group("punct")
            start = match.start("punct")
            if frame is not None and char in "}]" and state.endswith("end"):
                expected = "}" if frame.node.kind is NodeKind.OBJECT else "]"
                if char != expected:
                    raise _mismatched(frame, char, start, expected, path)
                frame.node.length = start + 1 - frame.node.start
                stack.pop()
                root = _attach(stack, frame.node, root, problems, path)
                continue
            if frame is not None and char == "," and state == "comma_or_end":
                frame.state = "key" if frame.node.kind is NodeKind.OBJECT else "value"
                continue
            if frame is not None and char == ":" and state == "colon":
                frame.state = "value"
                continue
            if char in "{[" and state in ("value", "value_or_end"):
                if len(stack) >= MAX_DEPTH:
                    span = Span(start, start + 1)
                    raise _SyntaxProblem(span, depth_problem(span).message)
                if char == "{":
                    node = Node(NodeKind.OBJECT, start, start + 1, {})
                    stack.append(_Frame(node, "key_or_end", seen={}))
                else:
                    node = Node(NodeKind.ARRAY, start, start + 1, [])
                    stack.append(_Frame(node, "value_or_end"))
                continue
            raise _unexpected(match, text, frame)

        if kind == "string" and frame is not None and state in ("key", "key_or_end"):
            key_start = frame.key_start = match.start("string")
            frame.key_end = match.end("string")
            key = _string_value(match.group("string"), key_start)
            frame.key = keys.setdefault(key, key)
            frame.state = "colon"
            continue

        if kind in ("string", "number", "literal", "nonfinite") and state in (
            "value",
            "value_or_end",
        ):
            root = _attach(stack, _scalar(kind, match, problems), root, problems, path)
            continue
        if kind == "string" and match.group("string") is None:  # pragma: no cover
            raise _SyntaxProblem(Span(position, position + 1), "invalid string")
        if kind == "bad" and text[match.start("bad")] == '"':
            raise _bad_string(text, match.start("bad"))
        raise _unexpected(match, text, frame)


def _attach(
    stack: list[_Frame], node: Node, root: Node | None, problems: list[Diagnostic], path: str
) -> Node | None:
    """Attach a finished value to its parent container (or make it the root)."""
    if not stack:
        return node
    frame = stack[-1]
    parent = frame.node
    if parent.kind is NodeKind.OBJECT:
        seen = frame.seen if frame.seen is not None else {}
        member = Member(frame.key, frame.key_start, frame.key_end, node)
        first = seen.get(member.key)
        if first is not None:
            problems.append(_duplicate(member.key, member.key_span, first.key_span, path))
        seen[member.key] = member
        parent.members.append(member)
        parent.value[member.key] = node.value
    else:
        parent.items.append(node)
        parent.value.append(node.value)
    frame.state = "comma_or_end"
    return root


def _duplicate(key: str, span: Span, first: Span, path: str) -> Diagnostic:
    return Diagnostic(
        span=span,
        severity=Severity.ERROR,
        code="UET102",
        message=f"duplicate key '{key}': the last value wins; remove one of them",
        data={"key": key},
        related=(Related(path, first, f"'{key}' first defined here"),),
    )


def _mismatched(frame: _Frame, char: str, start: int, expected: str, path: str) -> _SyntaxProblem:
    opened = frame.node.start
    return _SyntaxProblem(
        Span(start, start + 1),
        f"expected '{expected}', found '{char}'",
        (Related(path, Span(opened, opened + 1), "the bracket opened here"),),
    )


def _unexpected(match: re.Match[str], text: str, frame: _Frame | None) -> _SyntaxProblem:
    span, what = _describe(match, text)
    if frame is None:
        return _SyntaxProblem(span, f"expected a JSON value, found {what}")
    state = frame.state
    in_object = frame.node.kind is NodeKind.OBJECT
    if what == "end of file":
        closer = "}" if in_object else "]"
        opened = frame.node.start
        return _SyntaxProblem(
            Span(opened, opened + 1),
            f"this {'object' if in_object else 'array'} is never closed: "
            f"expected '{closer}' before the end of file",
        )
    expectations = {
        "key_or_end": "a property name in double quotes or '}'",
        "key": "a property name in double quotes (no trailing commas in JSON)",
        "colon": f"':' after the property name '{frame.key}'",
        "value": "a value" + ("" if in_object else " (no trailing commas in JSON)"),
        "value_or_end": "a value or ']'",
        "comma_or_end": f"',' or '{'}' if in_object else ']'}'",
    }
    return _SyntaxProblem(span, f"expected {expectations[state]}, found {what}")
