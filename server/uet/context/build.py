"""Bringing the tags of a workspace up to date: reuse what the cache holds, parse the rest.

A cold repository is parsed in a process pool over every core (parsing is CPU-bound, and
the Python that turns matches into tags holds the GIL); each worker reads its files itself,
so only paths go out and tags come back. A few files are parsed in this process, where a
pool would cost more than it saves.
"""

from __future__ import annotations

import concurrent.futures
import concurrent.futures.process
import dataclasses
import logging
import multiprocessing
import os
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import NamedTuple

from uet.context.cache import CachedTags, FileStamp, TagCache, content_digest
from uet.context.model import FileTags

__all__ = ["BuildStats", "ProgressCallback", "TagIndex", "refresh", "update_files"]

log = logging.getLogger(__name__)

ProgressCallback = Callable[[int, int], None]  # (files parsed so far, files to parse)

# Fewer files to parse than this: parse them here (starting workers costs more).
_IN_PROCESS_BELOW = 64
# Paths per task sent to a worker: large enough to amortise the round trip, small enough
# that the progress moves and the last chunks balance across the workers.
_CHUNK_MAX = 64


@dataclass(frozen=True)
class BuildStats:
    """What a refresh or an update did; ``tags`` is every current file's tags (a live view
    of the index's: copying them would cost more than a one-file update)."""

    files: int  # files with tags after the build
    parsed: int  # files read and parsed
    reused: int  # files whose cached tags were kept
    removed: int  # files dropped (deleted, ignored or no longer parsed)
    unreadable: int  # files that could not be read (vanished, permission) or parsed
    parse_errors: int  # parsed files with syntax errors (their tags are what the parser kept)
    changed: frozenset[str] = field(repr=False)  # the paths parsed or dropped
    tags: Mapping[str, FileTags] = field(repr=False)
    # Files the listing left out, by reason (unknown_language, binary ...); a refresh only.
    skipped: Mapping[str, int] = field(default_factory=dict)


class _Parsed(NamedTuple):
    path: str
    row: CachedTags | None  # None: the file could not be read or parsed


class _Source(NamedTuple):
    path: str  # workspace-relative, POSIX
    language: str


def _parse_one(root: Path, source: _Source) -> _Parsed:
    """Read and parse one file; its stamp comes from the open file, so it matches the bytes."""
    from uet.context.tags import file_tags

    try:
        with (root / source.path).open("rb") as stream:
            status = os.fstat(stream.fileno())
            content = stream.read()
    except OSError as error:
        log.debug("cannot read %s: %s", source.path, error)
        return _Parsed(source.path, None)
    stamp = FileStamp(status.st_size, status.st_mtime_ns, time.time_ns(), content_digest(content))
    try:
        tags = file_tags(source.path, content, source.language)
    except Exception:  # one file must not end the map of the whole repository
        log.warning("cannot parse %s", source.path, exc_info=True)
        return _Parsed(source.path, None)
    return _Parsed(source.path, CachedTags(stamp, tags))


def _parse_chunk(root: str, sources: list[_Source]) -> list[_Parsed]:
    """A worker's task (module level, so a pool can send it)."""
    return [_parse_one(Path(root), source) for source in sources]


class TagIndex:
    """The tags of the workspace ``root``, kept in memory and in ``cache``."""

    def __init__(self, root: Path, cache: TagCache) -> None:
        self.root = root
        self.cache = cache
        self._rows: dict[str, CachedTags] | None = None
        self._tags: dict[str, FileTags] = {}  # the same tags, for a read-only view
        self._restamped: list[CachedTags] = []  # verified by digest, now with an old mtime

    @property
    def tags(self) -> Mapping[str, FileTags]:
        """Every file's current tags (a live, read-only view)."""
        self._loaded()
        return MappingProxyType(self._tags)

    def _loaded(self) -> dict[str, CachedTags]:
        if self._rows is None:
            self._rows = self.cache.load()
            self._tags = {path: row.tags for path, row in self._rows.items()}
        return self._rows

    def _unchanged(self, path: str, row: CachedTags, size: int, mtime_ns: int) -> bool:
        """Whether ``row`` still describes the file: same size and mtime, and, when its mtime
        was too recent to be trusted, the same content. A row verified by its digest whose
        mtime is old by now is stamped again, so the next start need not read the file."""
        if not row.stamp.matches(size, mtime_ns):
            return False
        if row.stamp.mtime_reliable:
            return True
        try:
            content = (self.root / path).read_bytes()
        except OSError:
            return False
        if content_digest(content) != row.stamp.digest:
            return False
        stamp = row.stamp._replace(read_ns=time.time_ns())
        if stamp.mtime_reliable:
            self._restamped.append(row._replace(stamp=stamp))
        return True

    def refresh(
        self, *, jobs: int | None = None, progress: ProgressCallback | None = None
    ) -> BuildStats:
        """List the workspace's sources and bring every file's tags up to date."""
        from uet.context.sources import source_files

        rows = self._loaded()
        listing = source_files(self.root)
        to_parse: list[_Source] = []
        listed: set[str] = set()
        for source in listing.files:
            path = _relative(self.root, source.path)
            listed.add(path)
            row = rows.get(path)
            if row is None or not self._unchanged(path, row, source.size, source.mtime_ns):
                to_parse.append(_Source(path, source.language))
        dropped = set(rows) - listed
        stats = self._apply(to_parse, dropped, jobs, progress)
        return dataclasses.replace(stats, skipped=dataclasses.asdict(listing.skipped))

    def update_files(self, paths: Iterable[str | Path]) -> BuildStats:
        """Re-parse ``paths`` (workspace-relative or absolute) if they changed, and drop the
        ones that no longer exist or are no longer worth mapping; the rest of the workspace
        is not looked at. A new file inside a folder the listing skips (``node_modules``,
        ``.venv`` ...) is not added; ``.gitignore`` is only applied by :meth:`refresh`."""
        from uet.context.sources import in_skipped_folder, source_file

        rows = self._loaded()
        to_parse: list[_Source] = []
        dropped: set[str] = set()
        for given in paths:
            path = _relative(self.root, given)
            if path.startswith("../") or Path(path).is_absolute():
                continue  # outside the workspace
            row = rows.get(path)
            if row is None and in_skipped_folder(path):
                continue
            try:
                status = (self.root / path).stat()
            except OSError:
                dropped.add(path)
                continue
            if row is not None and self._unchanged(path, row, status.st_size, status.st_mtime_ns):
                continue
            judged = source_file(self.root, path)  # the listing's own rules
            if isinstance(judged, str):
                dropped.add(path)
            else:
                to_parse.append(_Source(path, judged.language))
        return self._apply(to_parse, dropped & set(rows), jobs=1, progress=None)

    def _apply(
        self,
        to_parse: list[_Source],
        dropped: set[str],
        jobs: int | None,
        progress: ProgressCallback | None,
    ) -> BuildStats:
        rows = self._loaded()
        parsed = _parse_all(self.root, to_parse, jobs, progress)
        fresh = [item.row for item in parsed if item.row is not None]
        gone = dropped | {item.path for item in parsed if item.row is None and item.path in rows}
        for path in gone:
            rows.pop(path, None)
            self._tags.pop(path, None)
        restamped = [row for row in self._restamped if row.tags.path not in gone]
        self._restamped = []
        rows.update((row.tags.path, row) for row in (*restamped, *fresh))
        self._tags.update((row.tags.path, row.tags) for row in fresh)
        self.cache.store([*restamped, *fresh])
        self.cache.remove(gone)
        return BuildStats(
            files=len(rows),
            parsed=len(fresh),
            reused=len(rows) - len(fresh),
            removed=len(gone),
            unreadable=len(parsed) - len(fresh),
            parse_errors=sum(row.tags.parse_errors for row in fresh),
            changed=frozenset(gone | {row.tags.path for row in fresh}),
            tags=self.tags,
        )


def _parse_all(
    root: Path, sources: list[_Source], jobs: int | None, progress: ProgressCallback | None
) -> list[_Parsed]:
    parsed: list[_Parsed] = []
    total = len(sources)
    workers = min(jobs or os.cpu_count() or 1, max(1, total // _CHUNK_MAX + 1))
    if workers > 1 and total >= _IN_PROCESS_BELOW:
        size = max(1, min(_CHUNK_MAX, total // (workers * 4)))
        chunks = [sources[start : start + size] for start in range(0, total, size)]
        methods = multiprocessing.get_all_start_methods()
        # Not fork: the server has threads, and a forked child may inherit a held lock.
        context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
        try:
            with concurrent.futures.ProcessPoolExecutor(workers, mp_context=context) as pool:
                futures = [pool.submit(_parse_chunk, str(root), chunk) for chunk in chunks]
                for future in concurrent.futures.as_completed(futures):
                    parsed.extend(future.result())
                    if progress is not None:
                        progress(len(parsed), total)
        except (concurrent.futures.process.BrokenProcessPool, OSError) as error:
            # A worker killed (out of memory) or no process to be had: finish here.
            log.warning("parsing in this process: the worker processes failed (%s)", error)
    done = {item.path for item in parsed}
    for source in sources:
        if source.path not in done:
            parsed.append(_parse_one(root, source))
            if progress is not None:
                progress(len(parsed), total)
    return parsed


def _relative(root: Path, path: str | Path) -> str:
    given = Path(path)
    if given.is_absolute():
        given = given.relative_to(root) if given.is_relative_to(root) else given
    return given.as_posix()


def refresh(
    root: Path,
    cache: TagCache,
    *,
    jobs: int | None = None,
    progress: ProgressCallback | None = None,
) -> BuildStats:
    """Bring the tags of ``root`` up to date in ``cache`` (a one-off :class:`TagIndex`)."""
    return TagIndex(root, cache).refresh(jobs=jobs, progress=progress)


def update_files(root: Path, cache: TagCache, paths: Iterable[str | Path]) -> BuildStats:
    """Re-parse the ``paths`` of ``root`` that changed (a one-off :class:`TagIndex`)."""
    return TagIndex(root, cache).update_files(paths)
