"""The tags of every parsed file, cached in SQLite so a warm start parses only what changed.

A row is keyed by the file's workspace-relative path and remembers the size, modification
time and content digest the tags were made from. A file whose size and mtime are unchanged
is reused as is, unless its mtime was within :data:`UNRELIABLE_MTIME_NS` of the moment it
was read: a write in that window may leave size and mtime equal (coarse file-system clocks),
so such a row is trusted only after its digest is compared again.

The ``meta`` table records :data:`~uet.context.model.CACHE_VERSION` and the versions of
tree-sitter and its grammars, and a digest of the tag queries. A cache written by anything
else, or a file that is not a readable SQLite database, is deleted and rebuilt without
complaint: the cache is only ever a shortcut. Tags are stored as JSON, never pickled, so a
planted cache file cannot run code.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import logging
import sqlite3
from collections.abc import Iterable, Iterator
from importlib import metadata
from pathlib import Path
from typing import Any, NamedTuple

from uet.context.model import CACHE_VERSION, Definition, FileTags

__all__ = [
    "UNRELIABLE_MTIME_NS",
    "CachedTags",
    "FileStamp",
    "TagCache",
    "content_digest",
    "parser_versions",
]

log = logging.getLogger(__name__)

# File systems with coarse timestamps (FAT: 2 s, ext3/HFS+: 1 s) let a write land in the
# same tick as the read before it.
UNRELIABLE_MTIME_NS = 2_000_000_000

# The distributions whose versions decide what a parse produces.
_PARSER_DISTRIBUTIONS = (
    "tree-sitter",
    "tree-sitter-python",
    "tree-sitter-javascript",
    "tree-sitter-typescript",
    "tree-sitter-go",
    "tree-sitter-rust",
    "tree-sitter-java",
    "tree-sitter-c",
    "tree-sitter-cpp",
    "tree-sitter-ruby",
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tags (
    path TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    read_ns INTEGER NOT NULL,
    digest TEXT NOT NULL,
    tags TEXT NOT NULL
);
"""


class FileStamp(NamedTuple):
    """What a file looked like when its tags were made."""

    size: int
    mtime_ns: int
    read_ns: int  # when it was read (time.time_ns())
    digest: str  # content_digest() of the bytes parsed

    def matches(self, size: int, mtime_ns: int) -> bool:
        return self.size == size and self.mtime_ns == mtime_ns

    @property
    def mtime_reliable(self) -> bool:
        """Whether an equal size and mtime are proof enough that the file is unchanged."""
        return self.read_ns - self.mtime_ns >= UNRELIABLE_MTIME_NS


class CachedTags(NamedTuple):
    """One row: a file's stamp and its tags."""

    stamp: FileStamp
    tags: FileTags


def content_digest(content: bytes) -> str:
    return hashlib.blake2b(content, digest_size=16).hexdigest()


@functools.cache
def parser_versions() -> str:
    """The installed tree-sitter and grammar versions, as one string for ``meta``."""
    found = []
    for name in _PARSER_DISTRIBUTIONS:
        try:
            found.append(f"{name}=={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            found.append(f"{name}==absent")
    return " ".join(found)


@functools.cache
def query_digest() -> str:
    """A digest of the tag queries shipped with the package, for ``meta``: tags found with
    other queries are stale, whatever the cache version says."""
    digest = hashlib.blake2b(digest_size=16)
    for query in sorted(Path(__file__).with_name("queries").glob("*.scm")):
        digest.update(query.name.encode())
        digest.update(query.read_bytes())
    return digest.hexdigest()


class TagCache:
    """The cache at ``path`` (``None``: in memory only), opened or rebuilt on construction.

    Not shared between threads; one instance per process (SQLite's WAL lets a server and a
    ``uet map`` use the same file at once).
    """

    def __init__(self, path: Path | None, *, versions: str | None = None) -> None:
        self.path = path
        self._meta = {
            "cache_version": str(CACHE_VERSION),
            "parsers": parser_versions() if versions is None else versions,
            "queries": query_digest(),
        }
        self.rebuilt = False  # the file held another version's cache, or garbage
        self._db = self._open()

    def _open(self) -> sqlite3.Connection:
        if self.path is None:
            return self._connect(":memory:")
        try:
            return self._connect(str(self.path))
        except (sqlite3.Error, OSError) as error:
            log.debug("repository map cache %s unusable (%s): rebuilt", self.path, error)
        self.rebuilt = True
        try:
            self._delete_files()
            return self._connect(str(self.path))
        except (sqlite3.Error, OSError) as error:
            log.warning("repository map cache %s cannot be written (%s)", self.path, error)
            return self._connect(":memory:")

    def _connect(self, where: str) -> sqlite3.Connection:
        if where != ":memory:":
            Path(where).parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(where, isolation_level=None, check_same_thread=False)
        try:
            db.execute("PRAGMA busy_timeout = 10000")
            if where != ":memory:":
                db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = NORMAL")
            db.executescript(_SCHEMA)
            stored = dict(db.execute("SELECT key, value FROM meta").fetchall())
            if stored != self._meta:
                if stored:
                    log.debug("repository map cache of another version %s: rebuilt", stored)
                    self.rebuilt = True
                with _transaction(db):
                    db.execute("DELETE FROM tags")
                    db.execute("DELETE FROM meta")
                    db.executemany("INSERT INTO meta VALUES (?, ?)", self._meta.items())
            db.execute("SELECT count(*) FROM tags").fetchone()  # a damaged table fails here
        except BaseException:
            db.close()
            raise
        return db

    def _delete_files(self) -> None:
        assert self.path is not None
        for suffix in ("", "-wal", "-shm", "-journal"):
            self.path.with_name(self.path.name + suffix).unlink(missing_ok=True)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> TagCache:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def load(self) -> dict[str, CachedTags]:
        """Every row whose tags decode; a row that does not is left out (parsed again)."""
        loaded: dict[str, CachedTags] = {}
        try:
            rows = self._db.execute(
                "SELECT path, size, mtime_ns, read_ns, digest, tags FROM tags"
            ).fetchall()
        except sqlite3.DatabaseError as error:
            log.debug("repository map cache unreadable (%s): parsing everything", error)
            return loaded
        for path, size, mtime_ns, read_ns, digest, text in rows:
            tags = _decode(path, text)
            if tags is not None:
                loaded[path] = CachedTags(FileStamp(size, mtime_ns, read_ns, digest), tags)
        return loaded

    def store(self, rows: Iterable[CachedTags]) -> None:
        """Insert or replace ``rows``, in one transaction."""
        values = [
            (row.tags.path, *row.stamp, json.dumps(_encode(row.tags), separators=(",", ":")))
            for row in rows
        ]
        self._write("INSERT OR REPLACE INTO tags VALUES (?, ?, ?, ?, ?, ?)", values)

    def remove(self, paths: Iterable[str]) -> None:
        """Forget ``paths``, in one transaction."""
        self._write("DELETE FROM tags WHERE path = ?", [(path,) for path in paths])

    def _write(self, statement: str, values: list[tuple[Any, ...]]) -> None:
        if not values:
            return
        try:
            with _transaction(self._db):
                self._db.executemany(statement, values)
        except sqlite3.DatabaseError as error:  # full disk, a file damaged meanwhile ...
            log.warning("repository map cache %s not updated: %s", self.path, error)


@contextlib.contextmanager
def _transaction(db: sqlite3.Connection) -> Iterator[None]:
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def _encode(tags: FileTags) -> list[Any]:
    return [
        tags.language,
        [list(definition) for definition in tags.definitions],
        list(tags.references),
        tags.parse_errors,
    ]


def _decode(path: str, text: str) -> FileTags | None:
    """The tags of a row, or ``None`` when it is not what :func:`_encode` writes."""
    try:
        language, definitions, references, parse_errors = json.loads(text)
        tags = FileTags(
            path,
            str(language),
            tuple(
                Definition(str(name), str(kind), int(line), str(signature))
                for name, kind, line, signature in definitions
            ),
            tuple(str(reference) for reference in references),
            bool(parse_errors),
        )
    except (ValueError, TypeError):
        return None
    return tags
