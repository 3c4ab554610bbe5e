"""The repository map's file graph, kept current one file at a time.

An edge goes from a file that references an identifier to each file defining it, weighted
as :class:`~uet.context.weights.RankWeights` says. ``TagGraph`` indexes the tags by
identifier (who defines it, who references it and how often), so replacing or removing one
file touches only the identifiers that file defines or references: the edges of every other
identifier are reused as they are (cached per identifier, without the multipliers that
depend on a request's focus and mentions, which are applied when a matrix is asked for).

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

from uet.context.model import FileTags
from uet.context.weights import DEFAULT_WEIGHTS, RankWeights

__all__ = ["Edge", "FileMatrix", "TagGraph"]


class Edge(NamedTuple):
    """``source`` references ``ident`` (``references`` times), which ``target`` defines.

    ``references`` is 0 on the self-loop of a definition nobody references.
    """

    source: str
    target: str
    ident: str
    weight: float
    references: int


class FileMatrix(NamedTuple):
    """A graph ready for PageRank: nodes (paths), their weighted edges, the personalisation."""

    paths: tuple[str, ...]
    # (source, target) -> summed weight of the edges between them, without the self-loops of
    # unreferenced definitions (they only share a file's rank among its definitions)
    matrix: sparse.csr_matrix
    edges: tuple[Edge, ...]  # all of them
    personalization: np.ndarray  # one entry per path, not normalised; all zero: uniform


class _BaseEdge(NamedTuple):
    source: str
    target: str
    references: int  # 0 for an unreferenced definition's self-loop
    weight: float  # every multiplier but focus and mention


class TagGraph:
    """Files' tags, indexed by identifier, turned into a weighted file graph on demand."""

    def __init__(
        self, tags: Iterable[FileTags] = (), weights: RankWeights = DEFAULT_WEIGHTS
    ) -> None:
        self.weights = weights
        self._files: dict[str, FileTags] = {}
        self._defines: dict[str, set[str]] = {}
        self._references: dict[str, Counter[str]] = {}
        self._edges: dict[str, tuple[_BaseEdge, ...]] = {}  # per identifier, built lazily
        for file_tags in tags:
            self.replace(file_tags)

    def __len__(self) -> int:
        return len(self._files)

    def __contains__(self, path: object) -> bool:
        return path in self._files

    @property
    def paths(self) -> list[str]:
        """Every file of the graph, sorted (a stable node order)."""
        return sorted(self._files)

    def tags(self, path: str) -> FileTags:
        return self._files[path]

    def files(self) -> Iterator[FileTags]:
        return iter(self._files.values())

    def defining_files(self, ident: str) -> frozenset[str]:
        return frozenset(self._defines.get(ident, ()))

    def replace(self, file_tags: FileTags) -> None:
        """Add a file's tags, or replace what it contributed before."""
        self.remove(file_tags.path)
        path = file_tags.path
        self._files[path] = file_tags
        for name in {d.name for d in file_tags.definitions}:
            self._defines.setdefault(name, set()).add(path)
            self._edges.pop(name, None)
        for name, count in Counter(file_tags.references).items():
            self._references.setdefault(name, Counter())[path] = count
            self._edges.pop(name, None)

    def remove(self, path: str) -> None:
        """Forget a file (nothing happens if it is unknown)."""
        old = self._files.pop(path, None)
        if old is None:
            return
        for name in {d.name for d in old.definitions}:
            definers = self._defines[name]
            definers.discard(path)
            if not definers:
                del self._defines[name]
            self._edges.pop(name, None)
        for name in set(old.references):
            referencers = self._references[name]
            del referencers[path]
            if not referencers:
                del self._references[name]
            self._edges.pop(name, None)

    def _ident_edges(self, ident: str) -> tuple[_BaseEdge, ...]:
        cached = self._edges.get(ident)
        if cached is not None:
            return cached
        definers = sorted(self._defines.get(ident, ()))
        referencers = self._references.get(ident)
        w = self.weights
        base = w.identifier_multiplier(ident, len(definers))
        edges: list[_BaseEdge] = []
        if referencers:
            for source, count in sorted(referencers.items()):
                scaled = math.sqrt(count) if w.sqrt_reference_counts else float(count)
                edges.extend(_BaseEdge(source, t, count, base * scaled) for t in definers)
        else:
            edges.extend(_BaseEdge(t, t, 0, w.unreferenced_self_edge) for t in definers)
        result = tuple(edges)
        self._edges[ident] = result
        return result

    def edges(self, focus: Iterable[str] = (), mentions: Iterable[str] = ()) -> list[Edge]:
        """Every edge, weighted for this focus (paths) and these mentioned identifiers."""
        focus_set = set(focus)
        mention_set = set(mentions)
        w = self.weights
        result: list[Edge] = []
        for ident in sorted(self._defines):
            mention = w.mentioned if ident in mention_set else 1.0
            for e in self._ident_edges(ident):
                weight = e.weight
                if e.references:  # a self-loop is no reference: neither multiplier applies
                    weight *= mention
                    if e.source in focus_set:
                        weight *= w.focus_referencer
                result.append(Edge(e.source, e.target, ident, weight, e.references))
        return result

    def personalization(
        self, paths: list[str], focus: Iterable[str] = (), mentions: Iterable[str] = ()
    ) -> np.ndarray:
        """Where PageRank teleports: files in focus and files whose path names a mention."""
        focus_set = set(focus)
        mention_set = set(mentions)
        w = self.weights
        result = np.zeros(len(paths))
        for i, path in enumerate(paths):
            if path in focus_set:
                result[i] += w.focus_personalization
            if mention_set:
                pure = PurePosixPath(path)
                parts = {*pure.parts, pure.name, pure.stem}
                if parts & mention_set:
                    result[i] += w.mentioned_path_personalization
        return result

    def matrix(self, focus: Iterable[str] = (), mentions: Iterable[str] = ()) -> FileMatrix:
        """The weighted adjacency matrix (rows reference columns) for this request."""
        focus = list(focus)
        mentions = list(mentions)
        paths = self.paths
        index = {path: i for i, path in enumerate(paths)}
        edges = self.edges(focus, mentions)
        flow = [e for e in edges if e.references]
        rows = np.fromiter((index[e.source] for e in flow), dtype=np.int64, count=len(flow))
        cols = np.fromiter((index[e.target] for e in flow), dtype=np.int64, count=len(flow))
        data = np.fromiter((e.weight for e in flow), dtype=np.float64, count=len(flow))
        n = len(paths)
        # Duplicate (row, col) pairs, one per shared identifier, are summed by the conversion.
        matrix = sparse.coo_matrix((data, (rows, cols)), shape=(n, n)).tocsr()
        return FileMatrix(
            tuple(paths), matrix, tuple(edges), self.personalization(paths, focus, mentions)
        )
