"""Context for AI tools: the repository map (tree-sitter tags ranked by PageRank).

The public API (everything else is private to the package):

``RepoMap(root, cache_path=None, weights=RankWeights())``
    the map of one workspace, kept current: ``refresh()`` (list, parse what changed, on all
    cores when many files did), ``update(paths)`` (re-parse those files, replace only their
    edges), ``render(focus, mentions, tokens, as_json=False)``; returns ``BuildStats``.
Building blocks
    ``TagCache`` (the SQLite cache of every file's tags; rebuilt when from another version
    or damaged), ``TagIndex``/``refresh``/``update_files`` (bringing tags up to date),
    ``TagGraph`` (the file graph, indexed by identifier), ``RankWeights`` (the frozen
    weights), ``rank_definitions`` (personalised PageRank credited to definitions).
Records
    ``FileTags``, ``Definition``, ``MapEntry``, ``CACHE_VERSION``.

Names are loaded on first use (PEP 562, :mod:`uet.lazy_exports`): importing ``uet.context``
imports neither tree-sitter nor scipy.

Plain Python; imports only ``uet.artifacts`` (its file walker) among first-party packages.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from uet.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from uet.context.build import BuildStats, TagIndex, refresh, update_files
    from uet.context.cache import TagCache
    from uet.context.graph import TagGraph
    from uet.context.model import CACHE_VERSION, Definition, FileTags, MapEntry
    from uet.context.rank import rank_definitions
    from uet.context.repomap import RepoMap
    from uet.context.weights import DEFAULT_WEIGHTS, RankWeights

__all__ = [
    "CACHE_VERSION",
    "DEFAULT_WEIGHTS",
    "BuildStats",
    "Definition",
    "FileTags",
    "MapEntry",
    "RankWeights",
    "RepoMap",
    "TagCache",
    "TagGraph",
    "TagIndex",
    "rank_definitions",
    "refresh",
    "update_files",
]

_SOURCES = {
    "BuildStats": "uet.context.build",
    "CACHE_VERSION": "uet.context.model",
    "DEFAULT_WEIGHTS": "uet.context.weights",
    "Definition": "uet.context.model",
    "FileTags": "uet.context.model",
    "MapEntry": "uet.context.model",
    "RankWeights": "uet.context.weights",
    "RepoMap": "uet.context.repomap",
    "TagCache": "uet.context.cache",
    "TagGraph": "uet.context.graph",
    "TagIndex": "uet.context.build",
    "rank_definitions": "uet.context.rank",
    "refresh": "uet.context.build",
    "update_files": "uet.context.build",
}

__getattr__, __dir__ = lazy_exports(__name__, _SOURCES, globals())
