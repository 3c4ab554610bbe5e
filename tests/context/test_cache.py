"""The tags cache on a real SQLite file: rows survive a reopen, and a cache of another
version, a damaged file or a planted row is rebuilt or ignored, never an error."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import pytest

from uet.context import cache as cache_module
from uet.context.cache import CachedTags, FileStamp, TagCache, content_digest, query_digest
from uet.context.model import CACHE_VERSION, Definition, FileTags

TAGS = FileTags(
    "pkg/shapes.py",
    "python",
    (Definition("Circle", "class", 3, "class Circle(Shape):"),),
    ("Shape", "math", "Shape"),
    parse_errors=True,
)
STAMP = FileStamp(size=120, mtime_ns=1_000, read_ns=5_000_000_000, digest=content_digest(b"x"))


def _filled(path: Path, versions: str = "parsers-1") -> None:
    with TagCache(path, versions=versions) as cache:
        assert not cache.rebuilt
        cache.store([CachedTags(STAMP, TAGS)])


def test_rows_survive_a_reopen(tmp_path: Path) -> None:
    path = tmp_path / ".uet" / "repomap.db"
    _filled(path)
    with TagCache(path, versions="parsers-1") as cache:
        assert cache.load() == {"pkg/shapes.py": CachedTags(STAMP, TAGS)}
        assert not cache.rebuilt
        cache.remove(["pkg/shapes.py"])
        assert cache.load() == {}


def test_the_file_is_in_wal_mode_with_its_versions(tmp_path: Path) -> None:
    path = tmp_path / "repomap.db"
    _filled(path)
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        meta = dict(db.execute("SELECT key, value FROM meta"))
    assert meta == {
        "cache_version": str(CACHE_VERSION),
        "parsers": "parsers-1",
        "queries": query_digest(),
    }


def test_the_query_digest_follows_the_shipped_queries() -> None:
    queries = sorted((Path(cache_module.__file__).parent / "queries").glob("*.scm"))
    assert queries
    expected = hashlib.blake2b(digest_size=16)
    for query in queries:
        expected.update(query.name.encode())
        expected.update(query.read_bytes())
    assert query_digest() == expected.hexdigest()


@pytest.mark.parametrize("key", ["cache_version", "parsers", "queries"])
def test_a_cache_of_another_version_is_emptied(tmp_path: Path, key: str) -> None:
    path = tmp_path / "repomap.db"
    _filled(path)
    with sqlite3.connect(path) as db:
        db.execute("UPDATE meta SET value = 'other' WHERE key = ?", (key,))
    with TagCache(path, versions="parsers-1") as cache:
        assert cache.rebuilt
        assert cache.load() == {}
        cache.store([CachedTags(STAMP, TAGS)])
    with TagCache(path, versions="parsers-1") as cache:  # rebuilt for good
        assert not cache.rebuilt and len(cache.load()) == 1


def test_new_grammar_versions_empty_the_cache(tmp_path: Path) -> None:
    path = tmp_path / "repomap.db"
    _filled(path, versions="parsers-1")
    with TagCache(path, versions="parsers-2") as cache:
        assert cache.rebuilt and cache.load() == {}


def test_garbage_bytes_are_rebuilt(tmp_path: Path) -> None:
    path = tmp_path / "repomap.db"
    path.write_bytes(b"\x00\xffnot a database" * 1000)
    with TagCache(path, versions="parsers-1") as cache:
        assert cache.rebuilt
        assert cache.load() == {}
        cache.store([CachedTags(STAMP, TAGS)])
    with TagCache(path, versions="parsers-1") as cache:
        assert len(cache.load()) == 1


def test_a_truncated_database_is_rebuilt(tmp_path: Path) -> None:
    path = tmp_path / "repomap.db"
    _filled(path)
    with sqlite3.connect(path) as db:  # the rows into the main file, then cut it short
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    content = path.read_bytes()
    path.write_bytes(content[:100] + b"\xff" * (len(content) - 100))
    with TagCache(path, versions="parsers-1") as cache:
        assert cache.rebuilt
        assert cache.load() == {}


def test_a_folder_in_the_way_leaves_a_cache_in_memory(tmp_path: Path) -> None:
    path = tmp_path / "repomap.db"
    path.mkdir()
    with TagCache(path, versions="parsers-1") as cache:
        cache.store([CachedTags(STAMP, TAGS)])
        assert len(cache.load()) == 1
    assert path.is_dir()


@pytest.mark.parametrize(
    "planted",
    [
        "not json",
        json.dumps({"__reduce__": "os.system"}),
        json.dumps(["python", [["f", "function", "one", "def f():", "extra"]], [], False]),
        json.dumps(["python", [], 7, False]),
    ],
)
def test_a_row_that_does_not_decode_is_left_out(tmp_path: Path, planted: str) -> None:
    path = tmp_path / "repomap.db"
    _filled(path)
    with sqlite3.connect(path) as db:
        db.execute(
            "INSERT INTO tags VALUES ('planted.py', 1, 1, 1, 'd', ?)",
            (planted,),
        )
    with TagCache(path, versions="parsers-1") as cache:
        assert set(cache.load()) == {"pkg/shapes.py"}


def test_an_old_mtime_is_reliable_a_recent_one_is_not() -> None:
    assert STAMP.mtime_reliable
    recent = STAMP._replace(mtime_ns=STAMP.read_ns - 1_000_000_000)
    assert not recent.mtime_reliable
    assert recent.matches(120, recent.mtime_ns) and not recent.matches(121, recent.mtime_ns)
