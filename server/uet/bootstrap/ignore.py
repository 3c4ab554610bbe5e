"""Lists the files of a workspace that discovery should look at.

Two sources, one result:

* in a git work tree, one ``git ls-files -t --cached --others --exclude-standard -z``
  (tracked plus untracked-but-not-ignored files; git applies every ignore rule itself);
* otherwise a ``scandir`` walk that applies each folder's ``.gitignore`` with ``pathspec``
  (deeper files take precedence, ignored folders are pruned before descending).

Either way, vendored, virtual-environment and build folders are skipped, symbolic links are
never followed out of the workspace (nor into folders: a folder inside the workspace is
reached through its real path anyway), and unreadable folders become problems, not
exceptions. Paths are workspace-relative POSIX strings, sorted, so the result is
deterministic.
"""

from __future__ import annotations

import errno
import os
import stat
import subprocess
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pathspec

from uet.bootstrap.errors import Problem, ProblemLevel
from uet.bootstrap.paths import is_within

__all__ = [
    "SKIPPED_DIR_NAMES",
    "FileEntry",
    "FileListing",
    "ListingOptions",
    "SkipCounts",
    "list_files",
]

# Folders that hold other people's code, generated output or tool caches. Skipped even
# when tracked: they would drown the signals of the project itself.
SKIPPED_DIR_NAMES = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        ".uet",
        ".venv",
        "venv",
        ".tox",
        ".nox",
        ".eggs",
        "__pycache__",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".hypothesis",
        "node_modules",
        "bower_components",
        "vendor",
        "site-packages",
        ".terraform",
        ".direnv",
        ".cache",
        ".gradle",
        ".next",
        "build",
        "dist",
        "target",
        "_build",
        "dbt_packages",
        "dbt_modules",
    }
)
_VENV_MARKER = "pyvenv.cfg"
_GIT_TIMEOUT_SECONDS = 60.0
_MAX_PROBLEMS = 50


@dataclass(frozen=True, slots=True)
class ListingOptions:
    """How to list: ``use_git`` False forces the walk (tests, benchmarks)."""

    use_git: bool = True
    max_files: int = 200_000


@dataclass(frozen=True, slots=True)
class FileEntry:
    """One regular file (or a symbolic link to a regular file inside the workspace)."""

    path: str
    size: int


@dataclass(frozen=True, slots=True)
class SkipCounts:
    """What the listing left out, by reason (reported by ``uet scan``)."""

    ignored: int = 0
    vendored: int = 0
    symlinks_outside: int = 0
    symlinks_broken: int = 0
    symlinked_dirs: int = 0
    unreadable: int = 0


@dataclass(frozen=True, slots=True)
class FileListing:
    """The files of one workspace, how they were found and what was skipped."""

    root: Path
    files: tuple[FileEntry, ...]
    mode: str
    skipped: SkipCounts
    untracked: int | None
    truncated: bool
    problems: tuple[Problem, ...] = field(default=())


def list_files(root: Path, options: ListingOptions | None = None) -> FileListing:
    """List the files of the workspace at ``root`` (an existing directory)."""
    options = options or ListingOptions()
    real_root = root.resolve()
    collector = _Collector(real_root, options.max_files)
    mode = "walk"
    untracked: int | None = None
    git_paths = _git_ls_files(real_root) if options.use_git else None
    if git_paths is not None:
        mode = "git"
        untracked = collector.add_git_paths(git_paths)
    else:
        collector.walk()
    files = tuple(sorted(collector.files, key=lambda entry: entry.path))
    return FileListing(
        root=real_root,
        files=files,
        mode=mode,
        skipped=SkipCounts(**collector.skipped),
        untracked=untracked,
        truncated=collector.truncated,
        problems=tuple(collector.problems),
    )


def _git_ls_files(root: Path) -> list[tuple[str, str]] | None:
    """``(tag, path)`` pairs from git, or ``None`` when ``root`` is not in a work tree or
    git is unavailable (the caller then walks the folder itself)."""
    command = [
        "git",
        "-c",
        "core.quotepath=off",
        "ls-files",
        "-t",
        "--cached",
        "--others",
        "--exclude-standard",
        "-z",
    ]
    try:
        completed = subprocess.run(
            command,
            cwd=root,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=_GIT_TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if completed.returncode != 0:
        return None
    pairs: list[tuple[str, str]] = []
    for record in completed.stdout.split(b"\x00"):
        if len(record) < 3:
            continue
        text = os.fsdecode(record)
        pairs.append((text[0], text[2:]))
    return pairs


def _skipped_dir(name: str) -> bool:
    return name in SKIPPED_DIR_NAMES or name.endswith(".egg-info")


class _Collector:
    """Mutable accumulator behind ``list_files`` (private; never escapes the module)."""

    def __init__(self, root: Path, max_files: int) -> None:
        self.root = root
        self.max_files = max_files
        self.files: list[FileEntry] = []
        self.skipped: Counter[str] = Counter()
        self.problems: list[Problem] = []
        self.truncated = False

    def problem(self, path: str, message: str, level: ProblemLevel = ProblemLevel.INFO) -> None:
        if len(self.problems) < _MAX_PROBLEMS:
            self.problems.append(Problem(level, path, message))

    def add(self, path: str, size: int) -> bool:
        """Record a file; False once the limit is reached."""
        if len(self.files) >= self.max_files:
            if not self.truncated:
                self.problem(".", f"more than {self.max_files} files; the scan stopped there")
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
                continue
            seen.add(path)
            ordered.append(path)
            if tag == "?":
                untracked += 1
        venvs = {path.rpartition("/")[0] for path in ordered if path.endswith(_VENV_MARKER)}
        venvs = {prefix for prefix in venvs if prefix}
        for path in ordered:
            parts = path.split("/")
            if any(_skipped_dir(part) for part in parts[:-1]) or any(
                "/".join(parts[:index]) in venvs for index in range(1, len(parts))
            ):
                self.skipped["vendored"] += 1
                continue
            try:
                info = os.lstat(self.root / path)
            except OSError:
                continue  # deleted in the work tree but still in the index
            if stat.S_ISLNK(info.st_mode):
                self._symlink(path)
            elif stat.S_ISREG(info.st_mode) and not self.add(path, info.st_size):
                break
        return untracked

    def walk(self) -> None:
        Specs = list[tuple[str, pathspec.GitIgnoreSpec]]
        stack: list[tuple[str, Specs]] = [("", [])]
        while stack and not self.truncated:
            rel_dir, specs = stack.pop()
            try:
                with os.scandir(self.root / rel_dir) as iterator:
                    entries = sorted(iterator, key=lambda entry: entry.name)
            except OSError as exc:
                self.skipped["unreadable"] += 1
                self.problem(rel_dir or ".", f"folder not readable: {exc.strerror}")
                continue
            local = specs
            for entry in entries:
                if entry.name == ".gitignore" and entry.is_file(follow_symlinks=False):
                    spec = self._read_gitignore(entry.path, rel_dir)
                    if spec is not None:
                        local = [*specs, (rel_dir, spec)]
            subdirs: list[str] = []
            for entry in entries:
                rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
                if entry.is_symlink():
                    if not _ignored(local, rel, is_dir=False):
                        self._symlink(rel)
                    else:
                        self.skipped["ignored"] += 1
                elif entry.is_dir(follow_symlinks=False):
                    if _skipped_dir(entry.name) or (Path(entry.path) / _VENV_MARKER).exists():
                        self.skipped["vendored"] += 1
                    elif _ignored(local, rel, is_dir=True):
                        self.skipped["ignored"] += 1
                    else:
                        subdirs.append(rel)
                elif entry.is_file(follow_symlinks=False):
                    if _ignored(local, rel, is_dir=False):
                        self.skipped["ignored"] += 1
                    elif not self.add(rel, entry.stat(follow_symlinks=False).st_size):
                        return
            stack.extend((sub, local) for sub in reversed(subdirs))

    def _read_gitignore(self, path: str, rel_dir: str) -> pathspec.GitIgnoreSpec | None:
        try:
            text = Path(path).read_text(encoding="utf-8", errors="replace")
            return pathspec.GitIgnoreSpec.from_lines(text.splitlines())
        except OSError as exc:
            self.problem(f"{rel_dir}/.gitignore" if rel_dir else ".gitignore", str(exc))
        return None

    def _symlink(self, rel: str) -> None:
        """Keep a link only when it is a regular file inside the workspace."""
        absolute = self.root / rel
        target = Path(os.path.realpath(absolute))
        if not is_within(target, self.root):
            self.skipped["symlinks_outside"] += 1
            self.problem(rel, "symbolic link points outside the workspace; not followed")
            return
        try:
            info = absolute.stat()
        except OSError as exc:
            self.skipped["symlinks_broken"] += 1
            reason = "symbolic link loop" if exc.errno == errno.ELOOP else "broken symbolic link"
            self.problem(rel, f"{reason}; not followed")
            return
        if stat.S_ISREG(info.st_mode):
            self.add(rel, info.st_size)
        else:
            self.skipped["symlinked_dirs"] += 1


def _ignored(specs: list[tuple[str, pathspec.GitIgnoreSpec]], rel: str, *, is_dir: bool) -> bool:
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
