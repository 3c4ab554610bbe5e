"""Refreshing the tags of the fixture repository with real tree-sitter and a real cache
file: a warm start parses nothing, an edit re-parses exactly the edited file, removed files
drop out, and a damaged or outdated cache is rebuilt."""

from __future__ import annotations

import inspect
import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

import uet.context
from tests.context.repo_fixture import MOST_REFERENCED, PARSED, SKIPPED, build_fixture_repo
from tests.test_lazy_exports import declared
from uet.context.build import TagIndex, refresh, update_files
from uet.context.cache import TagCache
from uet.context.repomap import RepoMap


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return build_fixture_repo(tmp_path / "repo")


@pytest.fixture
def cache_path(tmp_path: Path) -> Path:
    return tmp_path / "cache" / "repomap.db"


def _edit(path: Path, text: str) -> None:
    """Change a file and move its mtime on, as a later write on any file system would."""
    before = path.stat().st_mtime_ns
    path.write_text(path.read_text("utf-8") + text, "utf-8")
    os.utime(path, ns=(before + 5_000_000_000, before + 5_000_000_000))


def test_a_cold_build_parses_every_source(repo: Path, cache_path: Path) -> None:
    seen: list[tuple[int, int]] = []
    with TagCache(cache_path) as cache:
        stats = refresh(repo, cache, progress=lambda done, total: seen.append((done, total)))
    assert set(stats.tags) == set(PARSED)
    assert stats.parsed == stats.files == len(PARSED) and stats.reused == 0
    assert {reason: stats.skipped[reason] for reason in SKIPPED} == SKIPPED
    assert seen[-1] == (len(PARSED), len(PARSED))
    assert {tags.language for tags in stats.tags.values()} == set(PARSED.values())
    assert {d.name for d in stats.tags[MOST_REFERENCED].definitions} >= {"Inventory"}


def test_a_cold_build_in_a_process_pool_finds_the_same_tags(
    repo: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    for copy in range(40):  # enough files for the pool
        folder = repo / "more" / f"copy{copy}"
        folder.mkdir(parents=True)
        (folder / "models.py").write_text((repo / MOST_REFERENCED).read_text("utf-8"), "utf-8")
        (folder / "service.py").write_text((repo / "app/service.py").read_text("utf-8"), "utf-8")
    with TagCache(tmp_path / "pool.db") as cache:
        pooled = refresh(repo, cache, jobs=2)
    with TagCache(tmp_path / "here.db") as cache:
        here = refresh(repo, cache, jobs=1)
    assert pooled.parsed == here.parsed == len(PARSED) + 80
    assert "worker processes failed" not in caplog.text  # the pool did the work
    assert dict(pooled.tags) == dict(here.tags)


def test_a_warm_start_parses_nothing(repo: Path, cache_path: Path) -> None:
    with TagCache(cache_path) as cache:
        cold = refresh(repo, cache)
    with TagCache(cache_path) as cache:
        warm = refresh(repo, cache)
    assert warm.parsed == 0 and warm.reused == len(PARSED)
    assert dict(warm.tags) == dict(cold.tags)


def test_an_edit_re_parses_exactly_that_file(repo: Path, cache_path: Path) -> None:
    with TagCache(cache_path) as cache:
        refresh(repo, cache)
    _edit(repo / MOST_REFERENCED, "\n\ndef audit_stock() -> None:\n    pass\n")
    with TagCache(cache_path) as cache:
        stats = refresh(repo, cache)
    assert stats.parsed == 1 and stats.changed == {MOST_REFERENCED}
    assert "audit_stock" in {d.name for d in stats.tags[MOST_REFERENCED].definitions}


def test_an_edit_within_the_same_mtime_is_caught_by_the_digest(
    repo: Path, cache_path: Path
) -> None:
    path = repo / MOST_REFERENCED
    with TagCache(cache_path) as cache:
        refresh(repo, cache)  # read just after it was written: its mtime is not trusted
    status = path.stat()
    text = path.read_text("utf-8").replace("add_item", "put_item")
    assert len(text.encode()) == status.st_size
    path.write_text(text, "utf-8")
    os.utime(path, ns=(status.st_atime_ns, status.st_mtime_ns))  # same size, same mtime
    with TagCache(cache_path) as cache:
        stats = refresh(repo, cache)
    assert stats.parsed == 1
    assert "put_item" in {d.name for d in stats.tags[MOST_REFERENCED].definitions}


def test_update_files_re_parses_only_the_files_given(repo: Path, cache_path: Path) -> None:
    with TagCache(cache_path) as cache:
        index = TagIndex(repo, cache)
        index.refresh()
        _edit(repo / MOST_REFERENCED, "\n\ndef audit_stock() -> None:\n    pass\n")
        _edit(repo / "app/service.py", "\n\ndef unseen() -> None:\n    pass\n")
        stats = index.update_files([repo / MOST_REFERENCED])
        assert stats.parsed == 1 and stats.reused == len(PARSED) - 1
        assert "audit_stock" in {d.name for d in index.tags[MOST_REFERENCED].definitions}
        assert "unseen" not in {d.name for d in index.tags["app/service.py"].definitions}
        assert index.update_files([MOST_REFERENCED]).parsed == 0  # unchanged since
        new = repo / "app" / "extra.py"
        new.write_text("def extra() -> int:\n    return 1\n", "utf-8")
        assert index.update_files(["app/extra.py"]).parsed == 1
        new.unlink()
        gone = index.update_files([new])
        assert gone.removed == 1 and "app/extra.py" not in gone.tags
    with TagCache(cache_path) as cache:  # the cache saw the same
        assert update_files(repo, cache, ["app/service.py"]).parsed == 1


def test_removed_files_drop_out(repo: Path, cache_path: Path) -> None:
    with TagCache(cache_path) as cache:
        refresh(repo, cache)
    (repo / "app/service.py").unlink()
    with TagCache(cache_path) as cache:
        stats = refresh(repo, cache)
    assert stats.removed == 1 and stats.parsed == 0
    assert "app/service.py" not in stats.tags
    with TagCache(cache_path) as cache:
        assert "app/service.py" not in cache.load()


def test_a_garbage_cache_is_rebuilt(repo: Path, cache_path: Path) -> None:
    cache_path.parent.mkdir(parents=True)
    cache_path.write_bytes(os.urandom(8192))
    with TagCache(cache_path) as cache:
        assert cache.rebuilt
        assert refresh(repo, cache).parsed == len(PARSED)
    with TagCache(cache_path) as cache:
        assert refresh(repo, cache).parsed == 0


def test_a_cache_of_another_version_is_rebuilt(repo: Path, cache_path: Path) -> None:
    with TagCache(cache_path) as cache:
        refresh(repo, cache)
    with sqlite3.connect(cache_path) as db:
        db.execute("UPDATE meta SET value = '0' WHERE key = 'cache_version'")
    with TagCache(cache_path) as cache:
        assert cache.rebuilt
        assert refresh(repo, cache).parsed == len(PARSED)


def test_a_row_verified_by_its_digest_is_trusted_by_its_mtime_next_time(
    repo: Path, cache_path: Path
) -> None:
    long_ago = time.time_ns() - 100_000_000_000
    for path in repo.rglob("*"):
        os.utime(path, ns=(long_ago, long_ago))
    with TagCache(cache_path) as cache:
        refresh(repo, cache)
    with sqlite3.connect(cache_path) as db:  # as if each file had been read as it was written
        db.execute("UPDATE tags SET read_ns = mtime_ns")
    with TagCache(cache_path) as cache:
        assert refresh(repo, cache).parsed == 0  # each file read and its digest compared
    with sqlite3.connect(cache_path) as db:
        recent = db.execute("SELECT count(*) FROM tags WHERE read_ns - mtime_ns < 2e9")
        assert recent.fetchone() == (0,)


def test_the_public_names_are_lazy_and_declared_alike() -> None:
    sources, checked, exported = declared("context")
    assert sources == checked and sorted(exported) == sorted(sources)
    for name, source in sources.items():
        value = getattr(uet.context, name)
        if inspect.isclass(value) or inspect.isfunction(value):
            assert value.__module__ == source, name
    code = (
        "import json, sys, uet.context\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('uet.context.')"
        " or m in ('tree_sitter', 'scipy'))))\n"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert json.loads(loaded.stdout) == []


def test_a_repo_map_update_replaces_only_the_edited_file(repo: Path, cache_path: Path) -> None:
    with RepoMap(repo, cache_path) as repo_map:
        assert "class Inventory" in repo_map.render(tokens=4096)
        graph = repo_map.graph
        service = graph.tags("app/service.py")
        _edit(repo / MOST_REFERENCED, "\n\ndef audit_stock() -> None:\n    pass\n")
        (repo / "app" / "report.py").unlink()
        stats = repo_map.update([repo / MOST_REFERENCED, "app/report.py"])
        assert stats.parsed == 1 and stats.removed == 1
        assert repo_map.graph is graph and graph.tags("app/service.py") is service
        assert "app/report.py" not in graph
        assert "audit_stock" in {d.name for d in graph.tags(MOST_REFERENCED).definitions}
        shown = json.loads(repo_map.render(mentions=["Inventory"], tokens=4096, as_json=True))
        assert shown[0]["path"] == MOST_REFERENCED
        assert "app/report.py" not in {file["path"] for file in shown}
    with RepoMap(repo, cache_path) as warm:  # the cache saw the update
        assert warm.refresh().parsed == 0


def test_update_files_maps_only_what_the_listing_would(repo: Path, cache_path: Path) -> None:
    vendored = repo / "node_modules" / "left_pad.js"
    vendored.parent.mkdir()
    vendored.write_text("function leftPad() {}\n", "utf-8")
    outside = repo.parent / "elsewhere.py"
    outside.write_text("def elsewhere():\n    pass\n", "utf-8")
    unknown = repo / "notes.txt"
    unknown.write_text("not code\n", "utf-8")
    with TagCache(cache_path) as cache:
        index = TagIndex(repo, cache)
        index.refresh()
        stats = index.update_files([vendored, outside, "../elsewhere.py", unknown])
        assert stats.parsed == 0 and stats.removed == 0 and stats.files == len(PARSED)
        (repo / MOST_REFERENCED).write_bytes(b"\x00\x01binary now\n")  # as git judges
        stats = index.update_files([MOST_REFERENCED])
        assert stats.removed == 1 and stats.parsed == 0
        assert MOST_REFERENCED not in index.tags
