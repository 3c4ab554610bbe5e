"""Ranking the map's definitions: personalised PageRank over files, then credit per definition.

PageRank runs by power iteration on the sparse matrix of :mod:`uet.context.graph`: one
sparse matrix-vector product per step, no graph objects. As in aider, a file's rank is then
split over its out-edges in proportion to their weights, and each share credited to the
definitions of the edge's identifier in the edge's target file; a definition ranks high when
files that rank high use its name. Definitions of files in focus are left out of the list:
the reader already has those files open (aider's choice too, as they are in its chat).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

import numpy as np
from scipy import sparse

from uet.context.graph import FileMatrix, TagGraph
from uet.context.model import MapEntry
from uet.context.weights import DEFAULT_WEIGHTS, RankWeights

__all__ = ["pagerank", "rank_definitions", "rank_files"]


def pagerank(graph: FileMatrix, weights: RankWeights = DEFAULT_WEIGHTS) -> np.ndarray:
    """Each file's PageRank (summing to 1), in the order of ``graph.paths``.

    A dangling file (no out-edge) hands its rank to the personalisation, as networkx does
    with ``dangling=personalization``, so rank is neither lost nor spread to unrelated files.
    """
    n = len(graph.paths)
    if n == 0:
        return np.zeros(0)
    teleport = np.asarray(graph.personalization, dtype=np.float64)
    total = teleport.sum()
    teleport = teleport / total if total > 0 else np.full(n, 1.0 / n)
    out_weight = np.asarray(graph.matrix.sum(axis=1)).ravel()
    dangling = out_weight == 0
    inverse = np.zeros(n)
    np.divide(1.0, out_weight, out=inverse, where=~dangling)
    # Row-stochastic, transposed: step(x) = transition^T @ x.
    step = (sparse.diags(inverse) @ graph.matrix).T.tocsr()
    alpha = weights.damping
    rank = np.full(n, 1.0 / n)
    for _ in range(weights.max_iterations):
        previous = rank
        rank = alpha * (step @ previous + previous[dangling].sum() * teleport)
        rank += (1.0 - alpha) * teleport
        if np.abs(rank - previous).sum() < n * weights.tolerance:
            break
    return rank


def rank_files(
    graph: TagGraph, focus: Iterable[str] = (), mentions: Iterable[str] = ()
) -> dict[str, float]:
    """Each file's PageRank for this focus and these mentions."""
    matrix = graph.matrix(focus, mentions)
    ranks = pagerank(matrix, graph.weights)
    return dict(zip(matrix.paths, ranks.tolist(), strict=True))


def rank_definitions(
    graph: TagGraph, focus: Iterable[str] = (), mentions: Iterable[str] = ()
) -> list[MapEntry]:
    """Every definition outside the focus, best first (ties by path, then line)."""
    focus = set(focus)
    matrix = graph.matrix(focus, mentions)
    ranks = dict(zip(matrix.paths, pagerank(matrix, graph.weights).tolist(), strict=True))
    out_weight: dict[str, float] = defaultdict(float)
    for edge in matrix.edges:
        out_weight[edge.source] += edge.weight
    credit: dict[tuple[str, str], float] = defaultdict(float)
    for edge in matrix.edges:
        total = out_weight[edge.source]
        if total > 0:
            credit[edge.target, edge.ident] += ranks[edge.source] * edge.weight / total
    entries: list[MapEntry] = []
    for path in matrix.paths:
        if path in focus:
            continue
        for definition in graph.tags(path).definitions:
            value = credit.get((path, definition.name))
            if value is not None:
                entries.append(MapEntry(path, definition, value))
    entries.sort(key=lambda e: (-e.rank, e.path, e.definition.line, e.definition.name))
    return entries
