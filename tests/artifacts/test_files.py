"""The one gitignore-aware file walker (``uet.artifacts.files``) on real folders and real
git repositories: ignore rules, skipped folders, symbolic links, excluded globs, suffixes,
unreadable folders, and the same answer from git's listing and from the walk."""

from __future__ import annotations

import contextlib
import os
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.bootstrap import support
from uet.artifacts.files import (
    BUILD_OUTPUT_DIR_NAMES,
    SKIPPED_DIR_NAMES,
    ListingOptions,
    iter_artifact_candidates,
    list_files,
)

WALK = ListingOptions(use_git=False)
_NOBODY = 65534


def paths(root: Path, options: ListingOptions = WALK) -> list[str]:
    return [entry.path for entry in list_files(root, options).files]


IGNORE_RULES = {
    ".gitignore": "*.log\nbuild-output/\n!build-output/keep.log\n/top-only.txt\n",
    "keep.py": "x = 1\n",
    "debug.log": "noise\n",
    "top-only.txt": "ignored at the top\n",
    "sub/top-only.txt": "kept: the pattern is anchored\n",
    "build-output/a.py": "x = 1\n",
    "build-output/keep.log": "a file in an ignored folder cannot be taken back\n",
    "sub/.gitignore": "!important.log\nlocal.txt\n",
    "sub/important.log": "kept by negation\n",
    "sub/other.log": "still ignored by the parent\n",
    "sub/local.txt": "ignored below\n",
    "sub/deeper/local.txt": "ignored below, at any depth\n",
    "sibling/local.txt": "the nested rule does not reach here\n",
}
IGNORE_RESULT = [
    ".gitignore",
    "keep.py",
    "sibling/local.txt",
    "sub/.gitignore",
    "sub/important.log",
    "sub/top-only.txt",
]


def test_walk_applies_nested_gitignores_with_negation_and_pruning(tmp_path: Path) -> None:
    support.write(tmp_path, IGNORE_RULES)
    listing = list_files(tmp_path, WALK)
    assert [entry.path for entry in listing.files] == IGNORE_RESULT
    assert listing.mode == "walk"
    assert listing.untracked is None
    assert listing.skipped.ignored == 6  # debug.log, top-only.txt, build-output/, 3 in sub/


def test_git_listing_and_walk_agree_on_ignore_rules(tmp_path: Path) -> None:
    root = support.write(tmp_path / "repo", IGNORE_RULES)
    support.git_repository(root)
    support.write(root, {"untracked.py": "y = 2\n", "untracked.log": "ignored\n"})
    by_git = list_files(root)
    assert by_git.mode == "git"
    assert by_git.untracked == 1
    assert [entry.path for entry in by_git.files] == sorted([*IGNORE_RESULT, "untracked.py"])
    assert paths(root) == [entry.path for entry in by_git.files]


def test_git_listing_honours_info_exclude_sizes_and_deleted_files(tmp_path: Path) -> None:
    root = support.git_repository(support.write(tmp_path, {"a.py": "x = 1\n", "gone.py": "y\n"}))
    (root / "gone.py").unlink()  # still in the index
    (root / ".git" / "info" / "exclude").write_text("secret.txt\n", encoding="utf-8")
    support.write(root, {"secret.txt": "local only\n"})
    listing = list_files(root)
    assert [(entry.path, entry.size) for entry in listing.files] == [("a.py", 6)]


def test_a_conflicted_file_is_listed_once(tmp_path: Path) -> None:
    root = support.git_repository(support.write(tmp_path, {"conflict.txt": "base\n"}))
    support.git(root, "checkout", "-q", "-b", "other")
    support.write(root, {"conflict.txt": "other\n"})
    support.git(root, "commit", "-q", "-am", "other")
    support.git(root, "checkout", "-q", "main")
    support.write(root, {"conflict.txt": "main\n"})
    support.git(root, "commit", "-q", "-am", "main")
    # A real conflict: git lists the file once per stage.
    with pytest.raises(subprocess.CalledProcessError):
        support.git(root, "merge", "-q", "other")
    listing = list_files(root)
    assert (listing.mode, [entry.path for entry in listing.files]) == ("git", ["conflict.txt"])


def test_a_subfolder_of_a_repository_lists_only_its_own_files(tmp_path: Path) -> None:
    root = support.git_repository(
        support.write(tmp_path, {"top.py": "", "pkg/inner.py": "", "pkg/d/x.py": ""})
    )
    listing = list_files(root / "pkg")
    assert listing.mode == "git"
    assert [entry.path for entry in listing.files] == ["d/x.py", "inner.py"]


SKIPPED_TREE = {
    "main.py": "",
    "node_modules/pkg/index.js": "",
    ".venv/lib/site.py": "",
    "env1/pyvenv.cfg": "home = /usr\n",
    "env1/lib/site.py": "",
    "tinylib.egg-info/PKG-INFO": "",
    "src/__pycache__/m.pyc": "",
    "build/lib/main.py": "",
    "vendor/dep/dep.go": "",
    "docs/not-a-pyvenv.cfg": "",
}


@pytest.mark.parametrize("use_git", [False, True], ids=["walk", "git"])
def test_tool_and_dependency_folders_are_skipped_even_when_tracked(
    tmp_path: Path, use_git: bool
) -> None:
    root = support.write(tmp_path / "ws", SKIPPED_TREE)
    if use_git:
        support.git_repository(root)  # everything tracked, nothing ignored
    listing = list_files(root, ListingOptions(use_git=use_git))
    assert listing.mode == ("git" if use_git else "walk")
    assert [entry.path for entry in listing.files] == [
        "build/lib/main.py",
        "docs/not-a-pyvenv.cfg",
        "main.py",
    ]
    scan = ListingOptions(
        use_git=use_git, skipped_dir_names=SKIPPED_DIR_NAMES | BUILD_OUTPUT_DIR_NAMES
    )
    assert paths(root, scan) == ["docs/not-a-pyvenv.cfg", "main.py"]
    assert listing.skipped.vendored == (7 if use_git else 6)  # git lists files, not folders


def test_links_are_never_followed_out_of_the_root_nor_into_folders(tmp_path: Path) -> None:
    root = support.write(tmp_path / "ws", {"notes.txt": "", "real/module.py": "x = 1\n"})
    outside = support.write(tmp_path / "outside", {"secret.py": "print('outside')\n"})
    (root / "loop_a").symlink_to(root / "loop_b")
    (root / "loop_b").symlink_to(root / "loop_a")
    (root / "to_root").symlink_to("/")
    (root / "outside_file.py").symlink_to(outside / "secret.py")
    (root / "self").symlink_to(root)
    (root / "broken.py").symlink_to(root / "missing.py")
    (root / "alias.py").symlink_to(root / "real" / "module.py")
    for use_git in (False, True):
        if use_git:
            support.git_repository(root)
        listing = list_files(root, ListingOptions(use_git=use_git))
        assert [(entry.path, entry.size) for entry in listing.files] == [
            ("alias.py", 6),
            ("notes.txt", 0),
            ("real/module.py", 6),
        ]
        notes = {note.path: note.message for note in listing.notes}
        assert "loop" in notes["loop_a"] and "loop" in notes["loop_b"]
        assert "outside" in notes["to_root"] and "outside" in notes["outside_file.py"]
        assert "broken" in notes["broken.py"]
        skipped = listing.skipped
        assert (skipped.symlinks_outside, skipped.symlinks_broken) == (2, 3)
        assert skipped.symlinked_dirs == 1  # self


@contextlib.contextmanager
def unprivileged() -> Iterator[None]:
    """Run the body with permission checks as ``nobody`` when the tests run as root."""
    if os.geteuid() != 0:
        yield
        return
    os.seteuid(_NOBODY)
    try:
        yield
    finally:
        os.seteuid(0)


def test_unreadable_folders_and_gitignores_are_notes_not_crashes() -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        root.chmod(0o755)
        support.write(
            root, {"ok.py": "", "locked/a.py": "", "sub/.gitignore": "*.py\n", "sub/b.py": ""}
        )
        list_files(root, WALK)  # imports what the listing needs while still privileged
        (root / "locked").chmod(0)
        (root / "sub" / ".gitignore").chmod(0)
        try:
            with unprivileged():
                listing = list_files(root, WALK)
        finally:
            (root / "locked").chmod(0o755)
    assert [entry.path for entry in listing.files] == ["ok.py", "sub/.gitignore", "sub/b.py"]
    notes = {note.path: note.message for note in listing.notes}
    assert "not readable" in notes["locked"]
    assert "Permission denied" in notes["sub/.gitignore"]
    assert listing.skipped.unreadable == 1


EXCLUDE_TREE = {
    "generated/a.json": "{}",
    "generated/deep/b.yaml": "a: 1\n",
    "data/keep.json": "{}",
    "data/drop.json": "{}",
    "top.json": "{}",
}


@pytest.mark.parametrize(
    ("globs", "expected"),
    [
        (("generated/",), ["data/drop.json", "data/keep.json", "top.json"]),
        (("generated/**", "*.yaml"), ["data/drop.json", "data/keep.json", "top.json"]),
        (
            ("data/*.json", "!data/keep.json"),
            ["data/keep.json", "generated/a.json", "generated/deep/b.yaml", "top.json"],
        ),
        (
            ("generated/", "!generated/a.json"),
            ["data/drop.json", "data/keep.json", "generated/a.json", "top.json"],
        ),
    ],
)
def test_excluded_globs_give_the_same_answer_walking_and_with_git(
    tmp_path: Path, globs: tuple[str, ...], expected: list[str]
) -> None:
    root = support.write(tmp_path / "ws", EXCLUDE_TREE)
    walked = list_files(root, ListingOptions(use_git=False, excluded_globs=globs))
    support.git_repository(root)
    listed = list_files(root, ListingOptions(excluded_globs=globs))
    assert [entry.path for entry in walked.files] == expected
    assert [entry.path for entry in listed.files] == expected
    assert walked.skipped.excluded >= 1 and listed.skipped.excluded >= 1


def test_artifact_candidates_are_json_and_yaml_files_as_absolute_sorted_paths(
    tmp_path: Path,
) -> None:
    support.write(
        tmp_path,
        {
            ".gitignore": "ignored/\n",
            "workstreams/b.YAML": "",
            "workstreams/a.json": "",
            "phases/p.yml": "",
            "build/copy.json": "",  # the validator checks build output
            "ignored/x.json": "",
            "node_modules/w.json": "",
            "notes.md": "",
            ".json": "",  # a hidden file without a suffix
            "skip/me.yaml": "",
        },
    )
    found = list(iter_artifact_candidates(tmp_path, ["skip/"], use_git=False))
    root = tmp_path.resolve()
    assert found == [
        root / "build/copy.json",
        root / "phases/p.yml",
        root / "workstreams/a.json",
        root / "workstreams/b.YAML",
    ]
    assert list(iter_artifact_candidates(tmp_path, ["skip/"])) == found  # no repository


def test_max_files_truncates_with_a_note(tmp_path: Path) -> None:
    support.write(tmp_path, {f"f{number}.txt": "" for number in range(10)})
    listing = list_files(tmp_path, ListingOptions(use_git=False, max_files=4))
    assert listing.truncated
    assert [entry.path for entry in listing.files] == ["f0.txt", "f1.txt", "f2.txt", "f3.txt"]
    assert [note.path for note in listing.notes] == ["."]
