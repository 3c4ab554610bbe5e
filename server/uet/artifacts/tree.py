"""The positional document tree both parsers produce.

Every node knows its span; object members also know the span of their key. Each node keeps
the plain Python value of its subtree (``value``) so validation runs on ordinary dicts and
lists and positions are looked up only for the nodes that have a problem.

Memory: a big document has millions of nodes, so a node stores its offsets as two plain
ints — its start and its length, which is usually small enough to be one of Python's shared
small ints — and builds a ``Span`` only when one is asked for (``span``, ``key_span``).
A node shares one empty list for the ``members`` or ``items`` its kind cannot have.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from uet.artifacts.positions import Span

__all__ = ["Document", "Member", "Node", "NodeKind", "PathPart", "scalar_node"]

PathPart = str | int


class NodeKind(enum.Enum):
    """The three JSON shapes."""

    OBJECT = "object"
    ARRAY = "array"
    SCALAR = "scalar"


# The members of every array and scalar and the items of every object and scalar: one
# shared empty list instead of new ones per node (a big document has millions of nodes,
# and each list is also work for the garbage collector). Safe because trees are never
# mutated after parsing; parsers only append to an object's members and an array's items.
_LEAF: list[Any] = []
# Builds a Span from a tuple at half the cost of calling the named tuple (hot in consumers
# that read the spans of every node, such as folding ranges and cross-file facts).
_new_span = tuple.__new__


class Member:
    """One ``key: value`` pair of an object.

    The key's start is kept as its distance to the value's start: usually a few characters,
    so one of Python's shared small ints rather than one more int object per member."""

    __slots__ = ("key", "key_gap", "key_length", "value")

    def __init__(self, key: str, key_start: int, key_end: int, value: Node) -> None:
        self.key = key
        self.key_gap = value.start - key_start
        self.key_length = key_end - key_start
        self.value = value

    @property
    def key_start(self) -> int:
        """Offset of the key's first character."""
        return self.value.start - self.key_gap

    @property
    def key_end(self) -> int:
        """Offset just after the key."""
        return self.value.start - self.key_gap + self.key_length

    @property
    def key_span(self) -> Span:
        """The key's span (built on demand)."""
        start = self.value.start - self.key_gap
        return _new_span(Span, (start, start + self.key_length))

    def __repr__(self) -> str:
        return f"Member({self.key!r}, {self.key_start}, {self.key_end})"


class Node:
    """A JSON value with its source span.

    ``members`` holds an object's pairs in source order (duplicates included, so the
    editor can point at both); ``items`` holds an array's elements.
    """

    __slots__ = ("items", "kind", "length", "members", "start", "value")

    def __init__(
        self,
        kind: NodeKind,
        start: int,
        end: int,
        value: Any,
        *,
        members: list[Member] | None = None,
        items: list[Node] | None = None,
    ) -> None:
        self.kind = kind
        self.start = start
        self.length = end - start
        self.value = value
        if members is None:
            members = [] if kind is NodeKind.OBJECT else _LEAF
        if items is None:
            items = [] if kind is NodeKind.ARRAY else _LEAF
        self.members: list[Member] = members
        self.items: list[Node] = items

    @property
    def end(self) -> int:
        """Offset just after the node."""
        return self.start + self.length

    @property
    def span(self) -> Span:
        """The node's span (built on demand)."""
        start = self.start
        return _new_span(Span, (start, start + self.length))

    def __repr__(self) -> str:
        return f"Node({self.kind.name}, {self.start}, {self.end})"

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


def scalar_node(start: int, end: int, value: Any) -> Node:
    """A scalar node (whose empty ``members`` and ``items`` are shared)."""
    return Node(NodeKind.SCALAR, start, end, value)


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
