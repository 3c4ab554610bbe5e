"""The repository map's file graph, kept current one file at a time.

An edge goes from a file that references an identifier to each file defining it, weighted
as :class:`~uet.context.weights.RankWeights` says. ``TagGraph`` indexes the tags by
identifier (who defines it, who references it and how often), so replacing or removing one
file touches only the identifiers that file defines or references: the edges of every other
identifier are reused as they are. Edges are kept as parallel numpy arrays, without the
multipliers that depend on a request's focus and mentions; after a change only the rows of
the identifiers it touched are rebuilt, and focus and mentions are applied to all rows at
once when a matrix is asked for, so ranking again costs array operations, not a walk over
Python objects.

Every file is a node, even one with no edge; a file without out-edges is dangling and
PageRank teleports its rank (``uet.context.rank``). A definition nobody references gets a
self-loop (aider's choice), so its file's rank is shared with it and it can appear in the
map. Unlike aider, those self-loops stay out of the PageRank matrix: a file whose only
edges they are would keep all the rank that reaches it (a sink) and outrank the files
everyone uses; without them it is dangling and hands its rank on.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import PurePosixPath
from typing import NamedTuple

import numpy as np
from scipy import sparse

from uet.context.model import Definition, FileTags
from uet.context.weights import DEFAULT_WEIGHTS, RankWeights

__all__ = ["Edge", "EdgeArrays", "FileMatrix", "TagGraph"]


class Edge(NamedTuple):
    """``source`` references ``ident`` (``references`` times), which ``target`` defines.

    ``references`` is 0 on the self-loop of a definition nobody references.
    """

    source: str
    target: str
    ident: str
    weight: float
    references: int


class EdgeArrays(NamedTuple):
    """Edges as parallel arrays: node indices, identifier ids, reference counts, weights."""

    sources: np.ndarray
    targets: np.ndarray
    idents: np.ndarray
    references: np.ndarray
    weights: np.ndarray

    @staticmethod
    def empty() -> EdgeArrays:
        ints = np.zeros(0, dtype=np.int64)
        return EdgeArrays(ints, ints, ints, ints, np.zeros(0))


class FileMatrix(NamedTuple):
    """A graph ready for PageRank: nodes (paths), their weighted edges, the personalisation."""

    paths: tuple[str, ...]  # node order
    # (source, target) -> summed weight of the edges between them, without the self-loops of
    # unreferenced definitions (they only share a file's rank among its definitions)
    matrix: sparse.csr_matrix
    edges: EdgeArrays  # all of them, weighted for the request
    ident_names: tuple[str, ...]  # an edge's ``idents`` entry indexes this
    personalization: np.ndarray  # one entry per path, not normalised; all zero: uniform


class TagGraph:
    """Files' tags, indexed by identifier, turned into a weighted file graph on demand."""

    def __init__(
        self, tags: Iterable[FileTags] = (), weights: RankWeights = DEFAULT_WEIGHTS
    ) -> None:
        self.weights = weights
        self._files: dict[str, FileTags] = {}
        self._named: dict[str, dict[str, tuple[Definition, ...]]] = {}  # path -> name -> defs
        self._node: dict[str, int] = {}  # path -> node index (dense, in order of arrival)
        self._nodes: list[str] = []
        self._parts: list[frozenset[str]] = []  # per node: what a mentioned name may match
        self._defines: dict[str, set[str]] = {}
        self._references: dict[str, Counter[str]] = {}
        self._ident_id: dict[str, int] = {}  # grows only: ids stay valid in cached arrays
        self._ident_names: list[str] = []
        self._all: EdgeArrays | None = None  # every identifier's edges, built lazily
        self._stale: set[str] = set()  # identifiers whose rows in _all are out of date
        for file_tags in tags:
            self.replace(file_tags)

    def __len__(self) -> int:
        return len(self._files)

    def __contains__(self, path: object) -> bool:
        return path in self._files

    @property
    def paths(self) -> list[str]:
        """Every file of the graph, in node order."""
        return list(self._nodes)

    def tags(self, path: str) -> FileTags:
        return self._files[path]

    def definitions_named(self, path: str, name: str) -> tuple[Definition, ...]:
        """The definitions of ``name`` in ``path``, in line order."""
        named = self._named.get(path)
        if named is None:
            grouped: dict[str, list[Definition]] = {}
            for definition in sorted(self._files[path].definitions, key=lambda d: d.line):
                grouped.setdefault(definition.name, []).append(definition)
            named = self._named[path] = {k: tuple(v) for k, v in grouped.items()}
        return named.get(name, ())

    def files(self) -> Iterator[FileTags]:
        return iter(self._files.values())

    def defining_files(self, ident: str) -> frozenset[str]:
        return frozenset(self._defines.get(ident, ()))

    def _invalidate(self, names: Iterable[str]) -> None:
        self._stale.update(names)

    def replace(self, file_tags: FileTags) -> None:
        """Add a file's tags, or replace what it contributed before."""
        path = file_tags.path
        self._named.pop(path, None)
        old = self._files.get(path)
        if old is not None:
            self._unindex(old)
        else:
            self._node[path] = len(self._nodes)
            self._nodes.append(path)
            pure = PurePosixPath(path)
            self._parts.append(frozenset({*pure.parts, pure.name, pure.stem}))
        self._files[path] = file_tags
        defined = {d.name for d in file_tags.definitions}
        referenced = Counter(file_tags.references)
        for name in defined:
            self._defines.setdefault(name, set()).add(path)
        for name, count in referenced.items():
            self._references.setdefault(name, Counter())[path] = count
        self._invalidate(defined | referenced.keys())

    def remove(self, path: str) -> None:
        """Forget a file (nothing happens if it is unknown).

        The last node takes the removed one's index, so the edges of the file that moved are
        rebuilt too; every other identifier keeps its arrays.
        """
        old = self._files.pop(path, None)
        if old is None:
            return
        self._named.pop(path, None)
        self._unindex(old)
        index = self._node.pop(path)
        moved = self._nodes.pop()
        parts = self._parts.pop()
        if moved != path:
            self._nodes[index] = moved
            self._parts[index] = parts
            self._node[moved] = index
            moved_tags = self._files[moved]
            self._invalidate({d.name for d in moved_tags.definitions} | set(moved_tags.references))

    def _unindex(self, old: FileTags) -> None:
        path = old.path
        defined = {d.name for d in old.definitions}
        referenced = set(old.references)
        for name in defined:
            definers = self._defines[name]
            definers.discard(path)
            if not definers:
                del self._defines[name]
        for name in referenced:
            referencers = self._references[name]
            del referencers[path]
            if not referencers:
                del self._references[name]
        self._invalidate(defined | referenced)

    def _ident_edges(self, ident: str) -> EdgeArrays:
        number = self._ident_number(ident)
        definers = [self._node[p] for p in self._defines.get(ident, ())]
        referencers = self._references.get(ident)
        w = self.weights
        if not definers:
            result = EdgeArrays.empty()
        elif referencers:
            sources = [self._node[p] for p in referencers]
            counts = list(referencers.values())
            base = w.identifier_multiplier(ident, len(definers))
            scale = [math.sqrt(c) if w.sqrt_reference_counts else float(c) for c in counts]
            n = len(definers)
            result = EdgeArrays(
                np.repeat(np.array(sources, dtype=np.int64), n),
                np.tile(np.array(definers, dtype=np.int64), len(sources)),
                np.full(len(sources) * n, number, dtype=np.int64),
                np.repeat(np.array(counts, dtype=np.int64), n),
                np.repeat(np.array(scale) * base, n),
            )
        else:
            targets = np.array(definers, dtype=np.int64)
            result = EdgeArrays(
                targets,
                targets,
                np.full(len(targets), number, dtype=np.int64),
                np.zeros(len(targets), dtype=np.int64),
                np.full(len(targets), w.unreferenced_self_edge),
            )
        return result

    def _ident_number(self, ident: str) -> int:
        number = self._ident_id.get(ident)
        if number is None:
            number = self._ident_id[ident] = len(self._ident_names)
            self._ident_names.append(ident)
        return number

    def edge_arrays(self) -> EdgeArrays:
        """Every edge with its weight before focus and mentions.

        Kept between calls: after a change only the rows of the identifiers it touched are
        dropped and rebuilt, one vectorised filter over the rest.
        """
        if self._all is None:
            kept, fresh = EdgeArrays.empty(), list(self._defines)
        elif self._stale:
            stale = [self._ident_id[n] for n in self._stale if n in self._ident_id]
            keep = ~np.isin(self._all.idents, stale)
            kept = EdgeArrays(*(column[keep] for column in self._all))
            fresh = [n for n in self._stale if n in self._defines]
        else:
            return self._all
        parts = [kept, *(self._ident_edges(n) for n in fresh)]
        self._all = EdgeArrays(*(np.concatenate(columns) for columns in zip(*parts, strict=True)))
        self._stale.clear()
        return self._all

    def weighted_edges(self, focus: Iterable[str] = (), mentions: Iterable[str] = ()) -> EdgeArrays:
        """Every edge, weighted for this focus (paths) and these mentioned identifiers."""
        base = self.edge_arrays()
        w = self.weights
        weights = base.weights.copy()
        referencing = base.references > 0  # a self-loop is no reference: no multiplier
        mention_ids = [self._ident_id[m] for m in set(mentions) if m in self._ident_id]
        if mention_ids:
            weights[referencing & np.isin(base.idents, mention_ids)] *= w.mentioned
        focus_nodes = [self._node[p] for p in set(focus) if p in self._node]
        if focus_nodes:
            weights[referencing & np.isin(base.sources, focus_nodes)] *= w.focus_referencer
        return base._replace(weights=weights)

    def edges(self, focus: Iterable[str] = (), mentions: Iterable[str] = ()) -> list[Edge]:
        """The weighted edges as records (for reading and testing; ranking uses arrays)."""
        arrays = self.weighted_edges(focus, mentions)
        return [
            Edge(self._nodes[s], self._nodes[t], self._ident_names[i], w, r)
            for s, t, i, r, w in zip(
                arrays.sources.tolist(),
                arrays.targets.tolist(),
                arrays.idents.tolist(),
                arrays.references.tolist(),
                arrays.weights.tolist(),
                strict=True,
            )
        ]

    def personalization(
        self, focus: Iterable[str] = (), mentions: Iterable[str] = ()
    ) -> np.ndarray:
        """Where PageRank teleports: files in focus and files whose path names a mention."""
        w = self.weights
        result = np.zeros(len(self._nodes))
        for path in set(focus):
            if path in self._node:
                result[self._node[path]] += w.focus_personalization
        mention_set = set(mentions)
        if mention_set:
            for i, parts in enumerate(self._parts):
                if not parts.isdisjoint(mention_set):
                    result[i] += w.mentioned_path_personalization
        return result

    def matrix(self, focus: Iterable[str] = (), mentions: Iterable[str] = ()) -> FileMatrix:
        """The weighted adjacency matrix (rows reference columns) for this request."""
        focus = list(focus)
        mentions = list(mentions)
        edges = self.weighted_edges(focus, mentions)
        flow = edges.references > 0
        n = len(self._nodes)
        # Duplicate (row, col) pairs, one per shared identifier, are summed by the conversion.
        matrix = sparse.coo_matrix(
            (edges.weights[flow], (edges.sources[flow], edges.targets[flow])), shape=(n, n)
        ).tocsr()
        return FileMatrix(
            tuple(self._nodes),
            matrix,
            edges,
            tuple(self._ident_names),
            self.personalization(focus, mentions),
        )
