"""The repository map of one workspace, kept current: the one object callers hold.

``RepoMap`` owns the tags (in memory and in the SQLite cache) and the file graph built from
them. ``refresh`` brings both up to date with the workspace; ``update`` re-parses the files
given (a file-watch event) and replaces only their edges; ``render`` ranks and prints the
map for a focus and mentions, reusing the graph.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from uet.context.build import BuildStats, ProgressCallback, TagIndex
from uet.context.cache import TagCache
from uet.context.graph import TagGraph
from uet.context.weights import DEFAULT_WEIGHTS, RankWeights

__all__ = ["RepoMap"]


class RepoMap:
    """The map of the workspace ``root``, its tags cached at ``cache_path`` (``None``: in
    memory only). Not thread-safe: a host serialises calls (the server's worker does)."""

    def __init__(
        self,
        root: Path,
        cache_path: Path | None = None,
        weights: RankWeights = DEFAULT_WEIGHTS,
    ) -> None:
        self.root = root.resolve()
        self._cache = TagCache(cache_path)
        self._index = TagIndex(self.root, self._cache)
        self._graph = TagGraph(weights=weights)
        self._refreshed = False

    @property
    def graph(self) -> TagGraph:
        return self._graph

    def refresh(
        self, *, jobs: int | None = None, progress: ProgressCallback | None = None
    ) -> BuildStats:
        """List the workspace again, parse what changed and update the graph."""
        stats = self._index.refresh(jobs=jobs, progress=progress)
        self._apply(stats, everything=not self._refreshed)
        self._refreshed = True
        return stats

    def update(self, paths: Iterable[str | Path]) -> BuildStats:
        """Re-parse ``paths`` (changed, created or deleted) and replace only their edges."""
        if not self._refreshed:
            return self.refresh()
        stats = self._index.update_files(paths)
        self._apply(stats, everything=False)
        return stats

    def _apply(self, stats: BuildStats, *, everything: bool) -> None:
        changed = set(stats.tags) if everything else stats.changed
        for path in changed:
            tags = stats.tags.get(path)
            if tags is None:
                self._graph.remove(path)
            else:
                self._graph.replace(tags)

    def render(
        self,
        focus: Iterable[str | Path] = (),
        mentions: Iterable[str] = (),
        tokens: int = 1024,
        *,
        as_json: bool = False,
    ) -> str:
        """The map for ``focus`` (files being worked on) and ``mentions`` (identifiers),
        within ``tokens``, as text or JSON (refreshed first if it never was)."""
        from uet.context.rank import rank_definitions
        from uet.context.render import render_map

        if not self._refreshed:
            self.refresh()
        focused = [self._relative(path) for path in focus]
        entries = rank_definitions(self._graph, focused, mentions)
        return render_map(entries, tokens, as_json=as_json)

    def _relative(self, path: str | Path) -> str:
        given = Path(path)
        if given.is_absolute() and given.is_relative_to(self.root):
            return given.relative_to(self.root).as_posix()
        return given.as_posix()

    def close(self) -> None:
        self._cache.close()

    def __enter__(self) -> RepoMap:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
