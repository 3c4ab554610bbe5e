"""The positional document tree both parsers produce.

Every node knows its span; object members also know the span of their key. Each node keeps
the plain Python value of its subtree (``value``) so validation runs on ordinary dicts and
lists and positions are looked up only for the nodes that have a problem.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from uet.artifacts.positions import Span

__all__ = ["Document", "Member", "Node", "NodeKind", "PathPart", "scalar_node"]

PathPart = str | int


class NodeKind(enum.Enum):
    """The three JSON shapes."""

    OBJECT = "object"
    ARRAY = "array"
    SCALAR = "scalar"


@dataclass(slots=True, eq=False)
class Member:
    """One ``key: value`` pair of an object."""

    key: str
    key_span: Span
    value: Node


@dataclass(slots=True, eq=False)
class Node:
    """A JSON value with its source span.

    ``members`` holds an object's pairs in source order (duplicates included, so the
    editor can point at both); ``items`` holds an array's elements.
    """

    kind: NodeKind
    span: Span
    value: Any
    members: list[Member] = field(default_factory=list)
    items: list[Node] = field(default_factory=list)

    def member(self, key: str) -> Member | None:
        """The last member named ``key`` (the one whose value wins), if any."""
        for candidate in reversed(self.members):
            if candidate.key == key:
                return candidate
        return None

    def get(self, key: str) -> Node | None:
        """The value node of member ``key``, if any."""
        found = self.member(key)
        return found.value if found is not None else None

    def child(self, part: PathPart) -> Node | None:
        """The child at one path step (an object key or an array index)."""
        if self.kind is NodeKind.OBJECT and isinstance(part, str):
            return self.get(part)
        if self.kind is NodeKind.ARRAY and isinstance(part, int) and 0 <= part < len(self.items):
            return self.items[part]
        return None

    def walk(self) -> Iterator[Node]:
        """This node and all descendants, depth first, without recursion."""
        stack: list[Node] = [self]
        while stack:
            node = stack.pop()
            yield node
            if node.kind is NodeKind.OBJECT:
                stack.extend(member.value for member in reversed(node.members))
            elif node.kind is NodeKind.ARRAY:
                stack.extend(reversed(node.items))


# The members and items of every scalar built by ``scalar_node``: one shared empty list
# instead of two new ones per value (a third of a big document's objects, and work for the
# garbage collector). Safe because trees are never mutated after parsing.
_LEAF: list[Any] = []


def scalar_node(span: Span, value: Any) -> Node:
    """A scalar node whose (empty) ``members`` and ``items`` are shared."""
    return Node(NodeKind.SCALAR, span, value, _LEAF, _LEAF)


@dataclass(slots=True, eq=False)
class Document:
    """One document of a file (YAML streams may hold several)."""

    root: Node | None
    span: Span

    def resolve(self, path: Sequence[PathPart]) -> tuple[Node | None, Member | None]:
        """Follow ``path`` from the root: the deepest node reached and, when the last
        step was an object key, the member holding it (for key ranges)."""
        node = self.root
        member: Member | None = None
        for part in path:
            if node is None:
                break
            if node.kind is NodeKind.OBJECT and isinstance(part, str):
                found = node.member(part)
                if found is None:
                    return node, member
                member, node = found, found.value
            else:
                child = node.child(part)
                if child is None:
                    return node, member
                member, node = None, child
        return node, member
