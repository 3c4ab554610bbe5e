"""Lists the files of a folder the way users expect a linter to: uet-lsp's one
gitignore-aware walker. ``list_files`` serves the bootstrap's workspace scan (each file with
its size, what was skipped and why); ``iter_artifact_candidates`` serves ``uet validate``
and the language server's indexing (JSON/YAML files only). Two sources, one result:

* in a git work tree, one ``git ls-files -t --cached --others --exclude-standard -z``
  (tracked plus untracked-but-not-ignored files; git applies every ignore rule itself),
  run through ``uet.artifacts.git`` so nothing the repository configures executes;
* otherwise a ``scandir`` walk that applies each folder's ``.gitignore`` with pathspec's
  ``GitIgnoreSpec`` (negation works; a deeper file overrides its parents; ignored folders
  are pruned before descending, so nothing below them can be re-included, as in git).

Either way, tool, cache and dependency folders (``SKIPPED_DIR_NAMES``, ``*.egg-info``, any
folder holding ``pyvenv.cfg``) are skipped even when tracked, and the caller's excluded
globs (gitignore syntax, matched against each file's root-relative path) are applied.
Symbolic links are never followed out of the root nor into folders (a loop cannot trap the
walk; a folder inside the root is reached through its real path anyway); a link to a
regular file inside the root counts as that file. Unreadable folders and ``.gitignore``
files become notes, not exceptions. Paths are root-relative POSIX strings, sorted.
"""

from __future__ import annotations

import errno
import os
import stat
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from pathlib import Path
from typing import Literal

import pathspec

from uet.artifacts.git import run_git
from uet.artifacts.guards import GLOB_BACKEND
from uet.artifacts.loader import JSON_SUFFIXES, YAML_SUFFIXES

__all__ = [
    "BUILD_OUTPUT_DIR_NAMES",
    "SKIPPED_DIR_NAMES",
    "VENV_MARKER",
    "FileEntry",
    "FileListing",
    "ListingMode",
    "ListingNote",
    "ListingOptions",
    "SkipCounts",
    "iter_artifact_candidates",
    "list_files",
]

# Folders that hold version control data, tool caches, virtual environments or other
# people's code. Skipped even when tracked: they would drown the project's own files.
SKIPPED_DIR_NAMES = frozenset(
    """
    .git .hg .svn .uet .venv venv .tox .nox .eggs __pycache__ .mypy_cache .pytest_cache
    .ruff_cache .hypothesis .cache .idea .vscode-test node_modules bower_components vendor
    site-packages .terraform .direnv .gradle .next dbt_packages dbt_modules
    """.split()  # noqa: SIM905 - a word list reads better than 27 quoted lines
)
# Build output: generated copies of the project's files. The workspace scan skips them too
# (``SKIPPED_DIR_NAMES | BUILD_OUTPUT_DIR_NAMES``); the validator does not, because users
# may keep artifacts under such a name and silently not checking them would hide errors.
BUILD_OUTPUT_DIR_NAMES = frozenset({"build", "dist", "target", "_build"})
VENV_MARKER = "pyvenv.cfg"
_EGG_INFO = ".egg-info"
_ARTIFACT_SUFFIXES = JSON_SUFFIXES | YAML_SUFFIXES
# -t tags untracked files "?"; -z also turns off the quoting of unusual names.
_GIT_LS_FILES = ("ls-files", "-t", "--cached", "--others", "--exclude-standard", "-z")
_MAX_NOTES = 50

ListingMode = Literal["git", "walk"]
_Specs = list[tuple[str, pathspec.GitIgnoreSpec]]


@dataclass(frozen=True, slots=True)
class ListingOptions:
    """How to list.

    ``use_git`` False forces the walk (tests, benchmarks). ``max_files`` stops the listing
    there (``None``: no limit). ``excluded_globs`` are gitignore-syntax patterns of files to
    leave out on top of ``.gitignore``. ``suffixes`` keeps only files whose lower-cased
    suffix is in it (``None``: every file). ``skipped_dir_names`` are the folder names never
    entered (``*.egg-info`` and virtual environments are always skipped)."""

    use_git: bool = True
    max_files: int | None = None
    excluded_globs: tuple[str, ...] = ()
    suffixes: frozenset[str] | None = None
    skipped_dir_names: frozenset[str] = SKIPPED_DIR_NAMES


@dataclass(frozen=True, slots=True)
class FileEntry:
    """One regular file (or a symbolic link to a regular file inside the root)."""

    path: str
    size: int


@dataclass(frozen=True, slots=True)
class SkipCounts:
    """What the listing left out, by reason (reported by ``uet scan``). Files without a
    wanted suffix are not counted: they were never asked for."""

    ignored: int = 0
    excluded: int = 0
    vendored: int = 0
    symlinks_outside: int = 0
    symlinks_broken: int = 0
    symlinked_dirs: int = 0
    unreadable: int = 0


@dataclass(frozen=True, slots=True)
class ListingNote:
    """Something the listing could not do or chose not to follow (``path`` is
    root-relative, ``.`` for the root itself)."""

    path: str
    message: str


@dataclass(frozen=True, slots=True)
class FileListing:
    """The files under one root, how they were found and what was skipped."""

    root: Path
    files: tuple[FileEntry, ...]
    mode: ListingMode
    skipped: SkipCounts
    untracked: int | None
    truncated: bool
    notes: tuple[ListingNote, ...] = field(default=())


def list_files(root: Path, options: ListingOptions | None = None) -> FileListing:
    """List the files under ``root`` (an existing directory; its real path is used)."""
    options = options or ListingOptions()
    real_root = root.resolve()
    collector = _Collector(real_root, options)
    mode: ListingMode = "walk"
    untracked: int | None = None
    git_pairs = _git_ls_files(real_root) if options.use_git else None
    if git_pairs is not None:
        mode = "git"
        untracked = collector.add_git_paths(git_pairs)
    else:
        collector.walk()
    collector.files.sort(key=attrgetter("path"))
    return FileListing(
        root=real_root,
        files=tuple(collector.files),
        mode=mode,
        skipped=SkipCounts(**collector.skipped),
        untracked=untracked,
        truncated=collector.truncated,
        notes=tuple(collector.notes),
    )


def iter_artifact_candidates(
    root: Path, excluded_globs: Sequence[str] = (), use_git: bool = True
) -> Iterator[Path]:
    """JSON/YAML files under ``root`` that are not ignored, sorted for stable output (absolute
    paths below the real path of ``root``)."""
    options = ListingOptions(
        use_git=use_git, excluded_globs=tuple(excluded_globs), suffixes=_ARTIFACT_SUFFIXES
    )
    listing = list_files(root, options)
    for entry in listing.files:
        yield listing.root / entry.path


def _git_ls_files(root: Path) -> list[tuple[str, str]] | None:
    """``(tag, path)`` pairs from git, or ``None`` when ``root`` is not in a work tree or
    git is unavailable (the caller then walks the folder itself). Through ``uet.artifacts.git``,
    so nothing the repository configures runs."""
    completed = run_git(_GIT_LS_FILES, root)
    if completed is None or not completed.ok:
        return None
    records = completed.stdout.split(b"\x00")
    texts = (os.fsdecode(record) for record in records if len(record) > 2)  # "T path"
    return [(text[0], text[2:]) for text in texts]


def _suffix(name: str) -> str:
    """The lower-cased ``PurePath.suffix`` of a name, without a path object per file."""
    dot = name.rfind(".")
    return name[dot:].lower() if 0 < dot < len(name) - 1 else ""


class _Collector:
    """Mutable accumulator behind ``list_files`` (private; never escapes the module)."""

    def __init__(self, root: Path, options: ListingOptions) -> None:
        self.root_text = str(root)
        self.root_prefix = self.root_text.rstrip(os.sep) + os.sep
        self.max_files = options.max_files
        self.suffixes = options.suffixes
        self.skipped_names = options.skipped_dir_names
        self.excluded = (
            pathspec.GitIgnoreSpec.from_lines(options.excluded_globs, backend=GLOB_BACKEND)
            if options.excluded_globs
            else None
        )
        # Without a negated pattern, a folder that matches means every file below matches
        # too, so the walk may prune it; with one, each file must be asked (a ``!`` pattern
        # may take a file back).
        self.prune_excluded = self.excluded is not None and not any(
            pattern.include is False for pattern in self.excluded.patterns
        )
        self.files: list[FileEntry] = []
        self.skipped: Counter[str] = Counter()
        self.notes: list[ListingNote] = []
        self.truncated = False
        self.folder_verdicts: dict[str, bool] = {}

    def note(self, path: str, message: str) -> None:
        if len(self.notes) < _MAX_NOTES:
            self.notes.append(ListingNote(path, message))

    def wanted(self, name: str) -> bool:
        return self.suffixes is None or _suffix(name) in self.suffixes

    def skipped_dir(self, name: str) -> bool:
        return name in self.skipped_names or name.endswith(_EGG_INFO)

    def is_excluded(self, rel: str) -> bool:
        return self.excluded is not None and self.excluded.match_file(rel)

    def add(self, path: str, size: int) -> bool:
        """Record a file; False once the limit is reached."""
        if self.max_files is not None and len(self.files) >= self.max_files:
            if not self.truncated:
                self.note(".", f"more than {self.max_files} files; the listing stopped there")
            self.truncated = True
            return False
        self.files.append(FileEntry(path, size))
        return True

    def add_git_paths(self, pairs: Iterable[tuple[str, str]]) -> int:
        """Check git's paths on disk; return how many are untracked."""
        seen: set[str] = set()
        untracked = 0
        ordered: list[str] = []
        for tag, path in pairs:
            if path in seen:
                continue  # one line per stage while a merge conflict is unresolved
            seen.add(path)
            ordered.append(path)
            if tag == "?":
                untracked += 1
        marker = "/" + VENV_MARKER  # a virtual environment at the root is the project's
        venvs = {path[: -len(marker)] for path in ordered if path.endswith(marker)}
        for path in ordered:
            folders, _, name = path.rpartition("/")
            if not self.wanted(name):
                continue
            if folders and self._in_skipped_folder(folders, venvs):
                self.skipped["vendored"] += 1
                continue
            if self.is_excluded(path):
                self.skipped["excluded"] += 1
                continue
            try:
                info = os.lstat(self.root_prefix + path)
            except OSError:
                continue  # deleted in the work tree but still in the index
            if stat.S_ISLNK(info.st_mode):
                self._symlink(path)
            elif stat.S_ISREG(info.st_mode) and not self.add(path, info.st_size):
                break
        return untracked

    def _in_skipped_folder(self, folders: str, venvs: set[str]) -> bool:
        """Whether a path below ``folders`` is vendored (cached: files share folders)."""
        verdict = self.folder_verdicts.get(folders)
        if verdict is None:
            parts = folders.split("/")
            verdict = any(self.skipped_dir(part) for part in parts) or any(
                "/".join(parts[: index + 1]) in venvs for index in range(len(parts))
            )
            self.folder_verdicts[folders] = verdict
        return verdict

    def walk(self) -> None:
        stack: list[tuple[str, _Specs]] = [("", [])]
        while stack and not self.truncated:
            rel_dir, specs = stack.pop()
            folder = self.root_prefix + rel_dir if rel_dir else self.root_text
            try:
                with os.scandir(folder) as iterator:
                    entries = sorted(iterator, key=attrgetter("name"))
            except OSError as exc:
                self.skipped["unreadable"] += 1
                self.note(rel_dir or ".", f"folder not readable: {exc.strerror}")
                continue
            local = specs
            for entry in entries:
                if entry.name == ".gitignore" and entry.is_file(follow_symlinks=False):
                    spec = self._read_gitignore(entry.path, rel_dir)
                    if spec is not None:
                        local = [*specs, (rel_dir, spec)]
                    break
            subdirs = self._walk_entries(rel_dir, entries, local)
            if subdirs is None:
                return
            stack.extend((sub, local) for sub in reversed(subdirs))

    def _walk_entries(
        self, rel_dir: str, entries: list[os.DirEntry[str]], specs: _Specs
    ) -> list[str] | None:
        """Record the files of one folder; return its subfolders to descend into, or
        ``None`` once the limit is reached."""
        subdirs: list[str] = []
        for entry in entries:
            name = entry.name
            rel = f"{rel_dir}/{name}" if rel_dir else name
            if entry.is_dir(follow_symlinks=False):
                if self.skipped_dir(name) or _holds_venv(entry.path):
                    self.skipped["vendored"] += 1
                elif _ignored(specs, rel, is_dir=True):
                    self.skipped["ignored"] += 1
                elif self.prune_excluded and self.is_excluded(rel + "/"):
                    self.skipped["excluded"] += 1
                else:
                    subdirs.append(rel)
            elif not self._kept(name, rel, specs):
                continue
            elif entry.is_symlink():
                self._symlink(rel)
            elif entry.is_file(follow_symlinks=False) and not self.add(rel, self._size(entry)):
                return None
        return subdirs

    def _kept(self, name: str, rel: str, specs: _Specs) -> bool:
        """Whether a file or link passes the suffix, ``.gitignore`` and excluded checks."""
        if not self.wanted(name):
            return False
        if _ignored(specs, rel, is_dir=False):
            self.skipped["ignored"] += 1
            return False
        if self.is_excluded(rel):
            self.skipped["excluded"] += 1
            return False
        return True

    def _size(self, entry: os.DirEntry[str]) -> int:
        try:
            return entry.stat(follow_symlinks=False).st_size
        except OSError:
            return 0  # vanished since the folder was read; the reader reports it

    def _read_gitignore(self, path: str, rel_dir: str) -> pathspec.GitIgnoreSpec | None:
        try:
            text = Path(path).read_text(encoding="utf-8", errors="replace")
            return pathspec.GitIgnoreSpec.from_lines(text.splitlines(), backend=GLOB_BACKEND)
        except OSError as exc:
            # An unreadable .gitignore ignores nothing, as in git.
            self.note(f"{rel_dir}/.gitignore" if rel_dir else ".gitignore", str(exc))
        return None

    def _symlink(self, rel: str) -> None:
        """Keep a link only when it is a regular file inside the root."""
        absolute = self.root_prefix + rel
        target = os.path.realpath(absolute)
        if target != self.root_text and not target.startswith(self.root_prefix):
            self.skipped["symlinks_outside"] += 1
            self.note(rel, "symbolic link points outside the workspace; not followed")
            return
        try:
            info = Path(absolute).stat()
        except OSError as exc:
            self.skipped["symlinks_broken"] += 1
            reason = "symbolic link loop" if exc.errno == errno.ELOOP else "broken symbolic link"
            self.note(rel, f"{reason}; not followed")
            return
        if stat.S_ISREG(info.st_mode):
            self.add(rel, info.st_size)
        else:
            self.skipped["symlinked_dirs"] += 1


def _holds_venv(folder: str) -> bool:
    try:
        return Path(folder, VENV_MARKER).exists()
    except OSError:
        return False  # an unreadable folder is reported when the walk tries to enter it


def _ignored(specs: _Specs, rel: str, *, is_dir: bool) -> bool:
    """Apply the ``.gitignore`` files from the deepest folder up; the first decisive match
    wins (a deeper file overrides its parents, as in git)."""
    for base, spec in reversed(specs):
        relative = rel[len(base) + 1 :] if base else rel
        if is_dir:
            relative += "/"
        include = spec.check_file(relative).include
        if include is not None:
            return include
    return False
