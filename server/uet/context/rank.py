"""Ranking the map's definitions: personalised PageRank over files, then credit per definition.

PageRank runs by power iteration on the sparse matrix of :mod:`uet.context.graph`: one
sparse matrix-vector product per step, no graph objects. As in aider, a file's rank is then
split over its out-edges in proportion to their weights, and each share credited to the
definitions of the edge's identifier in the edge's target file; a definition ranks high when
files that rank high use its name. Definitions of files in focus are left out of the list:
the reader already has those files open (aider's choice too, as they are in its chat).
"""

from __future__ import annotations

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
    graph: TagGraph,
    focus: Iterable[str] = (),
    mentions: Iterable[str] = (),
    limit: int | None = None,
) -> list[MapEntry]:
    """Definitions outside the focus, best first (ties by path, then line); ``limit`` at most.

    A file's rank is split over all its edges, its unreferenced definitions' self-loops
    included, in proportion to their weights.
    """
    focus = set(focus)
    fm = graph.matrix(focus, mentions)
    edges = fm.edges
    n = len(fm.paths)
    ranks = pagerank(fm, graph.weights)
    out_weight = np.bincount(edges.sources, weights=edges.weights, minlength=n)
    totals = out_weight[edges.sources]
    share = np.zeros(len(totals))  # a file whose edges all weigh 0 (a weight set to 0) shares none
    np.divide(ranks[edges.sources] * edges.weights, totals, out=share, where=totals > 0)
    # Sum the shares per (target file, identifier).
    credit = sparse.coo_matrix(
        (share, (edges.targets, edges.idents)), shape=(n, len(fm.ident_names))
    ).tocsr()
    credit.sum_duplicates()
    pairs = credit.tocoo()
    path_order = np.argsort(np.argsort(np.array(fm.paths, dtype=object)))
    # Best first, then by path; equal ranks within a file are ordered by line below.
    order = np.lexsort((path_order[pairs.row], -pairs.data))
    entries: list[MapEntry] = []
    group: list[MapEntry] = []
    group_key: tuple[float, int] | None = None
    for row, col, value in zip(
        pairs.row[order].tolist(),
        pairs.col[order].tolist(),
        pairs.data[order].tolist(),
        strict=True,
    ):
        if (value, row) != group_key:
            group.sort(key=_by_line)
            entries.extend(group)
            if limit is not None and len(entries) >= limit:
                return entries[:limit]
            group = []
            group_key = (value, row)
        path = fm.paths[row]
        if path not in focus:
            named = graph.definitions_named(path, fm.ident_names[col])
            group.extend(MapEntry(path, d, value) for d in named)
    group.sort(key=_by_line)
    entries.extend(group)
    return entries if limit is None else entries[:limit]


def _by_line(entry: MapEntry) -> tuple[int, str]:
    return entry.definition.line, entry.definition.name
