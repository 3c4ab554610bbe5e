"""Scans a workspace once and returns what it is made of (``Discovery``).

One pass over the files ``uet.artifacts.files.list_files`` lists (git's listing or the
walk with nested ``.gitignore`` files; build output skipped too): each text file is read
once (at most ``MAX_READ_BYTES``) to count its lines and to test the content probes that
match its path. Everything else (markers, folder roles, dependencies, VCS state) is derived
from the path list and a handful of manifests; the tools come from the project's own
environments first, then ``PATH`` (``uet.bootstrap.toolchain``), alongside the project's
entry points and test configuration (``uet.bootstrap.entrypoints``). The result is plain
frozen data: the selector and the generator are pure functions of it.

Progress is reported through an optional callback ``(done, total)``; the CLI turns it into
a rich progress bar on a terminal, the language server into work-done progress.
"""

from __future__ import annotations

import re
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from uet.artifacts.files import (
    BUILD_OUTPUT_DIR_NAMES,
    SKIPPED_DIR_NAMES,
    FileEntry,
    FileListing,
    ListingOptions,
    SkipCounts,
    list_files,
)
from uet.bootstrap.entrypoints import ProjectTooling, scan_tooling
from uet.bootstrap.errors import Problem, ProblemLevel, WorkspaceError
from uet.bootstrap.languages import BINARY_SNIFF_BYTES, NO_LINE_COUNT, count_lines, language_of
from uet.bootstrap.manifests import project_name, read_dependencies
from uet.bootstrap.markers import (
    BUILTIN_PROBES,
    CI_SYSTEMS,
    ContentProbe,
    directory_roles,
    markers_for_path,
)

__all__ = [
    "MAX_READ_BYTES",
    "PROBE_HEAD_BYTES",
    "SCAN_SKIPPED_DIR_NAMES",
    "UET_LAYOUT_PATTERNS",
    "Discovery",
    "LanguageStat",
    "ProgressCallback",
    "ScanOptions",
    "VcsState",
    "scan_workspace",
]

MAX_READ_BYTES = 4 * 1024 * 1024
PROBE_HEAD_BYTES = 16 * 1024
# Build output would drown the project's own signals, so the scan skips it as well as the
# tool and dependency folders every listing skips.
SCAN_SKIPPED_DIR_NAMES = SKIPPED_DIR_NAMES | BUILD_OUTPUT_DIR_NAMES
_MAX_UNREADABLE_PROBLEMS = 20

ProgressCallback = Callable[[int, int], None]

# Where UET artifacts live in a bootstrapped workspace (docs/layout.md).
UET_LAYOUT_PATTERNS: tuple[re.Pattern[str], ...] = (
    re.compile(r"^PROJECT_PROFILE\.ya?ml$"),
    re.compile(r"^router_config\.(json|ya?ml)$"),
    re.compile(r"^workstreams/[^/]+\.(json|ya?ml)$"),
    re.compile(r"^phases/[^/]+\.(json|ya?ml)$"),
    re.compile(r"^profile_extensions/[^/]+\.(json|ya?ml)$"),
)


@dataclass(frozen=True, slots=True)
class ScanOptions:
    """What to scan for. ``search_path`` is the ``PATH`` used to find executables that the
    project's own environments do not hold (``None``: the process's ``PATH``);
    ``executables`` are the names to look up (the profiles' ``tools.*.detect``); ``probes``
    are extra content probes (the profiles' content signals)."""

    use_git: bool = True
    max_files: int = 200_000
    search_path: str | None = None
    executables: tuple[str, ...] = ()
    probes: tuple[ContentProbe, ...] = ()


@dataclass(frozen=True, slots=True)
class LanguageStat:
    """Files and lines of one language; ``percentage`` is its share of all counted lines
    (of files when no line was counted)."""

    language: str
    files: int
    lines: int
    percentage: float


@dataclass(frozen=True, slots=True)
class VcsState:
    """Version control facts read without extra subprocesses."""

    kind: str
    branch: str | None
    untracked: int | None


@dataclass(frozen=True, slots=True)
class Discovery:
    """Everything the selector and the generator need to know about one workspace.

    ``executables``: each tool found, by name, and the file that runs (``tooling.tools``
    says where it was found: a project environment or ``PATH``)."""

    root: Path
    project_name: str
    files: tuple[str, ...]
    languages: tuple[LanguageStat, ...]
    markers: Mapping[str, tuple[str, ...]]
    dependencies: frozenset[str]
    executables: Mapping[str, str]
    content_hits: Mapping[str, tuple[str, ...]]
    ci_systems: tuple[str, ...]
    vcs: VcsState | None
    uet_artifacts: tuple[str, ...]
    listing_mode: str
    skipped: SkipCounts
    truncated: bool
    elapsed_seconds: float
    problems: tuple[Problem, ...] = field(default=())
    tooling: ProjectTooling = field(default=ProjectTooling())

    def paths_of(self, kind: str) -> tuple[str, ...]:
        """Paths carrying marker ``kind``, shallowest first (empty when none)."""
        return self.markers.get(kind, ())

    def language_share(self, languages: Iterable[str]) -> float:
        """Fraction (0..1) of the counted lines written in ``languages``."""
        wanted = {name.lower() for name in languages}
        return (
            sum(stat.percentage for stat in self.languages if stat.language.lower() in wanted)
            / 100.0
        )


def scan_workspace(
    root: Path,
    options: ScanOptions | None = None,
    progress: ProgressCallback | None = None,
) -> Discovery:
    """Scan the workspace folder ``root``; raise ``WorkspaceError`` only when ``root`` is not
    a readable directory (everything else becomes a problem record)."""
    options = options or ScanOptions()
    started = time.perf_counter()
    if not root.is_dir():
        raise WorkspaceError(f"{root} is not a directory")
    listing = list_files(
        root,
        ListingOptions(
            use_git=options.use_git,
            max_files=options.max_files,
            skipped_dir_names=SCAN_SKIPPED_DIR_NAMES,
        ),
    )
    listing_problems = tuple(
        Problem(ProblemLevel.INFO, note.path, note.message) for note in listing.notes
    )
    probes = BUILTIN_PROBES + options.probes
    project_files: list[FileEntry] = []
    layout_files: list[str] = []
    for entry in listing.files:
        if _is_uet_layout(entry.path):
            layout_files.append(entry.path)
        else:
            project_files.append(entry)
    reading = _read_files(listing.root, project_files, probes, progress)
    paths = tuple(entry.path for entry in project_files)
    markers: dict[str, set[str]] = defaultdict(set)
    for path in paths:
        for kind in markers_for_path(path):
            markers[kind].add(path)
    for probe in BUILTIN_PROBES:
        markers[probe.key].update(reading.hits.get(probe.key, ()))
    vcs = _vcs_state(listing)
    if vcs is not None:
        markers["git" if vcs.kind == "git" else vcs.kind].add(".")
    for role, folders in directory_roles(paths).items():
        markers[role].update(folders)
    frozen_markers = {
        kind: tuple(sorted(found, key=_shallow_first)) for kind, found in markers.items() if found
    }
    marker_pairs = [(kind, path) for kind, found in frozen_markers.items() for path in found]
    dependencies, manifest_problems = read_dependencies(listing.root, marker_pairs)
    tooling = scan_tooling(listing.root, options.executables, options.search_path)
    return Discovery(
        root=listing.root,
        project_name=project_name(listing.root),
        files=paths,
        languages=_language_stats(reading.language_files, reading.language_lines),
        markers=frozen_markers,
        dependencies=dependencies,
        executables={name: location.path for name, location in tooling.tools.items()},
        content_hits={key: tuple(sorted(found)) for key, found in reading.hits.items()},
        ci_systems=_ci_systems(paths),
        vcs=vcs,
        uet_artifacts=_uet_artifacts(layout_files, reading.hits.get("uet_artifact", set())),
        listing_mode=listing.mode,
        skipped=listing.skipped,
        truncated=listing.truncated,
        elapsed_seconds=time.perf_counter() - started,
        problems=listing_problems + reading.problems + manifest_problems,
        tooling=tooling,
    )


@dataclass(slots=True)
class _Reading:
    language_files: Counter[str]
    language_lines: Counter[str]
    hits: dict[str, set[str]]
    problems: tuple[Problem, ...]


def _read_files(
    root: Path,
    entries: Sequence[FileEntry],
    probes: Sequence[ContentProbe],
    progress: ProgressCallback | None,
) -> _Reading:
    """Count lines per language and run the content probes, one read per file."""
    matchers = [(probe, probe.matcher()) for probe in probes]
    files: Counter[str] = Counter()
    lines: Counter[str] = Counter()
    hits: dict[str, set[str]] = defaultdict(set)
    problems: list[Problem] = []
    total = len(entries)
    for index, entry in enumerate(entries):
        if progress is not None:
            progress(index, total)
        language = language_of(entry.path)
        wanted = [probe for probe, matches in matchers if matches(entry.path)]
        if language is not None:
            files[language] += 1
        if (language is None or language in NO_LINE_COUNT) and not wanted:
            continue
        try:
            with (root / entry.path).open("rb") as handle:
                data = handle.read(MAX_READ_BYTES)
        except OSError as exc:
            if len(problems) < _MAX_UNREADABLE_PROBLEMS:
                problems.append(
                    Problem(ProblemLevel.INFO, entry.path, f"not readable: {exc.strerror}")
                )
            continue
        if b"\x00" in data[:BINARY_SNIFF_BYTES]:
            continue
        if language is not None and language not in NO_LINE_COUNT:
            lines[language] += count_lines(data)
        head = data[:PROBE_HEAD_BYTES]
        for probe in wanted:
            if all(pattern.search(head) for pattern in probe.patterns):
                hits[probe.key].add(entry.path)
    if progress is not None:
        progress(total, total)
    return _Reading(files, lines, hits, tuple(problems))


def _shallow_first(path: str) -> tuple[int, str]:
    """Sort key putting root-level paths first, so ``{{path:KIND}}`` is the shallowest."""
    return (0 if path == "." else path.count("/") + 1, path)


def _language_stats(files: Counter[str], lines: Counter[str]) -> tuple[LanguageStat, ...]:
    total_lines = sum(lines.values())
    total_files = sum(files.values())
    stats: list[LanguageStat] = []
    for language, count in files.items():
        if total_lines:
            share = 100.0 * lines[language] / total_lines
        else:
            share = 100.0 * count / total_files
        stats.append(LanguageStat(language, count, lines[language], round(share, 2)))
    stats.sort(key=lambda stat: (-stat.percentage, -stat.files, stat.language))
    return tuple(stats)


def _ci_systems(paths: Iterable[str]) -> tuple[str, ...]:
    systems = {name for path in paths for pattern, name in CI_SYSTEMS if pattern.match(path)}
    return tuple(sorted(systems))


def _uet_artifacts(layout_files: Iterable[str], probed: Iterable[str]) -> tuple[str, ...]:
    found = {path for path in layout_files if any(p.match(path) for p in UET_LAYOUT_PATTERNS)}
    return tuple(sorted(found | set(probed)))


def _is_uet_layout(path: str) -> bool:
    """True for the files ``uet bootstrap`` generates: they are reported as UET artifacts
    and kept out of language statistics and profile signals (a bootstrapped workspace must
    not look different to the selector than before)."""
    return path.startswith((".tasks/", ".ledger/")) or any(
        pattern.match(path) for pattern in UET_LAYOUT_PATTERNS
    )


def _vcs_state(listing: FileListing) -> VcsState | None:
    git_dir = _find_git_dir(listing.root)
    if listing.mode != "git" and git_dir is None:
        return None
    branch = _read_branch(git_dir) if git_dir is not None else None
    return VcsState("git", branch, listing.untracked)


def _find_git_dir(root: Path) -> Path | None:
    """The git directory of the work tree holding ``root`` (follows ``gitdir:`` files)."""
    for folder in (root, *root.parents):
        candidate = folder / ".git"
        if candidate.is_dir():
            return candidate
        if candidate.is_file():
            try:
                text = candidate.read_text(encoding="utf-8", errors="replace").strip()
            except OSError:
                return None
            if text.startswith("gitdir:"):
                target = Path(text[len("gitdir:") :].strip())
                return target if target.is_absolute() else (folder / target)
            return None
    return None


def _read_branch(git_dir: Path) -> str | None:
    try:
        head = (git_dir / "HEAD").read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return None
    prefix = "ref: refs/heads/"
    if head.startswith(prefix):
        return head[len(prefix) :]
    return head[:12] or None
