"""The map as a reader sees it: ranked definitions grouped by file, fitted to a token budget.

Text follows aider's layout, which models have seen in many prompts: a file's path, then
its definitions' signature lines in file order, each prefixed with ``│``, and ``⋮`` where
lines are left out. JSON carries the same entries for tools. Files come in the order of
their best-ranked definition. The budget is met by a binary search over how many of the
best entries to show: the largest prefix whose rendering fits, counted with the tokenizer.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from uet.context.model import MapEntry
from uet.context.tokens import count_tokens

__all__ = ["fit_to_budget", "render_json", "render_json_data", "render_map", "render_text"]

Renderer = Callable[[Sequence[MapEntry]], str]


def group_by_file(entries: Sequence[MapEntry]) -> dict[str, list[MapEntry]]:
    """Entries per file, files by best rank (first seen), each file's entries by line."""
    groups: dict[str, list[MapEntry]] = {}
    for entry in entries:
        groups.setdefault(entry.path, []).append(entry)
    for group in groups.values():
        group.sort(key=lambda e: (e.definition.line, e.definition.name))
    return groups


def render_text(entries: Sequence[MapEntry]) -> str:
    """aider's layout; a line holding several definitions is shown once."""
    blocks: list[str] = []
    for path, group in group_by_file(entries).items():
        lines = [f"{path}:"]
        previous = -1
        for entry in group:
            line = entry.definition.line
            if line == previous:
                continue
            if line != previous + 1:
                lines.append("⋮")
            lines.append(f"│{entry.definition.signature}")
            previous = line
        lines.append("⋮")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n" if blocks else ""


def render_json_data(entries: Sequence[MapEntry]) -> list[dict[str, Any]]:
    """``[{path, definitions: [{name, kind, line, signature, rank}]}]``, lines 0-based."""
    return [
        {
            "path": path,
            "definitions": [
                {
                    "name": e.definition.name,
                    "kind": e.definition.kind,
                    "line": e.definition.line,
                    "signature": e.definition.signature,
                    "rank": e.rank,
                }
                for e in group
            ],
        }
        for path, group in group_by_file(entries).items()
    ]


def render_json(entries: Sequence[MapEntry]) -> str:
    return json.dumps(render_json_data(entries), ensure_ascii=False)


def fit_to_budget(
    entries: Sequence[MapEntry], max_tokens: int, render: Renderer = render_text
) -> list[MapEntry]:
    """The longest prefix of ``entries`` (best first) whose rendering has ``max_tokens`` or fewer.

    Each distinct (path, line) adds a line, so at least one token: a prefix with more of
    them than the budget cannot fit, which bounds the search before any tokenizing.
    """
    if max_tokens <= 0:
        return []
    seen: set[tuple[str, int]] = set()
    high = len(entries)
    for i, entry in enumerate(entries):
        seen.add((entry.path, entry.definition.line))
        if len(seen) > max_tokens:
            high = i
            break
    low = 0  # the empty rendering always fits
    while low < high:
        middle = (low + high + 1) // 2
        if count_tokens(render(entries[:middle])) <= max_tokens:
            low = middle
        else:
            high = middle - 1
    return list(entries[:low])


def render_map(entries: Sequence[MapEntry], max_tokens: int, *, as_json: bool = False) -> str:
    """The best entries that fit in ``max_tokens``, as text or JSON.

    JSON stays a valid document: with a budget below one token it is still ``[]``.
    """
    render = render_json if as_json else render_text
    return render(fit_to_budget(entries, max_tokens, render))
