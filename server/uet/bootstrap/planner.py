"""Plans a bootstrap (what would change, file by file) and applies a plan.

``plan_bootstrap`` is the function the CLI *and* the language server call: it returns data
(``BootstrapPlan``) and writes nothing. The CLI then calls ``apply_plan`` (atomic writes +
manifest); the language server turns ``plan.writes()`` into one ``WorkspaceEdit``
(``CreateFile`` + a whole-document ``TextEdit`` using ``previous_text`` for the range) and,
once the client applied it, calls ``record_applied`` so the next run knows which files the
generator owns.

Per generated file (``FileAction``): ``create`` (absent), ``unchanged`` (identical),
``update`` (the text on disk is what the generator last wrote, per the manifest),
``keep`` (the user changed it: left alone) or ``overwrite`` (the user changed it and
``force`` was given). ``.gitignore`` is merged, never replaced: ``.uet/`` is appended when
missing. Files the generator wrote before but no longer generates (after a profile switch)
are removed when untouched since (``removed``, so no workstream is left naming an app the
new router config lacks) and left in place when the user changed them (``stale``).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from uet.bootstrap.analysis import Analysis, AnalysisOptions, analyze_workspace
from uet.bootstrap.errors import Problem, ProblemLevel, UnsafePathError
from uet.bootstrap.generator import Generated, GeneratedFile, TaskSource, generate
from uet.bootstrap.profiles import FALLBACK_PROFILE_ID
from uet.bootstrap.validation import check_artifact_text
from uet.bootstrap.writer import (
    Manifest,
    read_manifest,
    remove_file,
    resolve_for_write,
    text_digest,
    write_manifest,
    write_text,
)

__all__ = [
    "GITIGNORE_ENTRY",
    "GITIGNORE_PATH",
    "ApplyResult",
    "BootstrapPlan",
    "FileAction",
    "PlannedFile",
    "apply_plan",
    "plan_bootstrap",
    "record_applied",
    "render_diff",
    "task_sources",
]

GITIGNORE_PATH = ".gitignore"
GITIGNORE_ENTRY = ".uet/"
_GITIGNORE_BLOCK = "# UET engine state: database, logs, build output (docs/layout.md)\n.uet/\n"
_IGNORES_UET = re.compile(r"^\s*/?\.uet(/|/\*\*)?\s*$", re.MULTILINE)


class FileAction(Enum):
    """What applying the plan does to one file."""

    CREATE = "create"
    UPDATE = "update"
    UNCHANGED = "unchanged"
    KEEP = "keep"
    OVERWRITE = "overwrite"


@dataclass(frozen=True, slots=True)
class PlannedFile:
    """One file of a plan. ``previous_text`` is the text on disk (``None``: absent or not
    UTF-8); ``schema`` names the artifact schema (``None`` for ``.gitignore``/``.gitkeep``)."""

    path: str
    text: str
    schema: str | None
    action: FileAction
    previous_text: str | None

    @property
    def writes(self) -> bool:
        """True when applying the plan writes this file."""
        return self.action in (FileAction.CREATE, FileAction.UPDATE, FileAction.OVERWRITE)

    @property
    def user_modified(self) -> bool:
        """True when the file on disk differs from what the generator last wrote."""
        return self.action in (FileAction.KEEP, FileAction.OVERWRITE)

    @property
    def tracked(self) -> bool:
        """True when the manifest records this file (``.gitignore`` is the user's)."""
        return self.path != GITIGNORE_PATH


@dataclass(frozen=True, slots=True)
class BootstrapPlan:
    """Everything ``uet bootstrap`` would do, before it does it."""

    root: Path
    profile_id: str
    profile_version: str
    files: tuple[PlannedFile, ...]
    generated: Generated
    stale: tuple[str, ...]
    problems: tuple[Problem, ...]
    force: bool
    removed: tuple[str, ...] = ()

    def writes(self) -> tuple[PlannedFile, ...]:
        """The files applying the plan writes, in plan order."""
        return tuple(item for item in self.files if item.writes)

    def kept(self) -> tuple[PlannedFile, ...]:
        """Files the user changed and the plan leaves alone (no ``force``)."""
        return tuple(item for item in self.files if item.action is FileAction.KEEP)

    @property
    def ok(self) -> bool:
        """True when no problem is an error (a plan with errors must not be applied)."""
        return not any(problem.level is ProblemLevel.ERROR for problem in self.problems)


@dataclass(frozen=True, slots=True)
class ApplyResult:
    """What ``apply_plan`` wrote and left alone."""

    written: tuple[str, ...]
    kept: tuple[str, ...]
    unchanged: tuple[str, ...]
    removed: tuple[str, ...] = ()


def plan_bootstrap(
    root: Path,
    profile_id: str,
    *,
    force: bool = False,
    analysis: Analysis | None = None,
    options: AnalysisOptions | None = None,
) -> BootstrapPlan:
    """Plan the bootstrap of ``root`` as ``profile_id`` (``UnknownProfileError`` if no such
    profile). Pass ``analysis`` to reuse a scan; nothing is written."""
    root = root.resolve()
    analysis = analysis or analyze_workspace(root, options)
    profile = analysis.profiles.get(profile_id)
    fallback = analysis.profiles.profiles.get(FALLBACK_PROFILE_ID)
    generated = generate(analysis.discovery, profile, fallback)
    manifest, problems_list = read_manifest(root)
    problems = list(problems_list)
    files: list[PlannedFile] = []
    gitignore = _gitignore(root)
    if gitignore is None:
        message = "not readable as UTF-8 text; add '.uet/' to it yourself"
        problems.append(Problem(ProblemLevel.WARNING, GITIGNORE_PATH, message))
    for item in (*generated.files, *((gitignore,) if gitignore is not None else ())):
        problems.extend(_validate(item))
        try:
            resolve_for_write(root, item.path)
        except UnsafePathError as exc:
            level = ProblemLevel.WARNING if item.path == GITIGNORE_PATH else ProblemLevel.ERROR
            problems.append(Problem(level, item.path, str(exc)))
            continue
        files.append(_plan_file(root, item, manifest, force))
    planned = {item.path for item in files}
    removed, stale = _no_longer_generated(root, manifest, planned)
    return BootstrapPlan(
        root=root,
        profile_id=profile.profile_id,
        profile_version=profile.version,
        files=tuple(files),
        generated=generated,
        stale=stale,
        problems=tuple(problems),
        force=force,
        removed=removed,
    )


def task_sources(analysis: Analysis, profile_id: str | None) -> tuple[TaskSource, ...]:
    """Where each task ``uet bootstrap`` would generate for ``profile_id`` gets its command
    (an entry point of the project or a tool, and why); empty for an unknown profile. Pure:
    nothing is written or run, so ``uet scan`` and ``uet profiles`` can show it."""
    profile = analysis.profiles.profiles.get(profile_id) if profile_id is not None else None
    if profile is None:
        return ()
    fallback = analysis.profiles.profiles.get(FALLBACK_PROFILE_ID)
    return generate(analysis.discovery, profile, fallback).sources


def apply_plan(plan: BootstrapPlan) -> ApplyResult:
    """Write the plan's files atomically, then the manifest. Refuses a plan with errors."""
    if not plan.ok:
        raise ValueError("the plan has errors; fix them before applying it")
    written: list[str] = []
    for item in plan.writes():
        write_text(plan.root, item.path, item.text)
        written.append(item.path)
    manifest, _ = read_manifest(plan.root)
    removed = [
        path
        for path in plan.removed
        if _digest_on_disk(plan.root, path) == manifest.files.get(path)
        and remove_file(plan.root, path)
    ]
    record_applied(plan)
    return ApplyResult(
        written=tuple(written),
        kept=tuple(item.path for item in plan.kept()),
        unchanged=tuple(item.path for item in plan.files if item.action is FileAction.UNCHANGED),
        removed=tuple(removed),
    )


def record_applied(plan: BootstrapPlan) -> None:
    """Record in the manifest the files the plan wrote or found identical (call after a
    client applied the plan's WorkspaceEdit). Kept files keep their old entry."""
    manifest, _ = read_manifest(plan.root)
    files = dict(manifest.files)
    planned = {item.path for item in plan.files}
    for path in [path for path in files if path not in planned]:
        if _digest_on_disk(plan.root, path) is None:
            files.pop(path)  # removed (or deleted by the user): no longer the generator's
    for item in plan.files:
        if item.tracked and item.action is not FileAction.KEEP:
            files[item.path] = text_digest(item.text)
    write_manifest(plan.root, Manifest(plan.profile_id, files))


def render_diff(plan: BootstrapPlan) -> str:
    """Unified diffs of every file the plan writes, plus one line per kept file."""
    chunks: list[str] = [f"# {path}: no longer generated; removed\n" for path in plan.removed]
    for item in plan.files:
        if item.action is FileAction.KEEP:
            chunks.append(f"# {item.path}: changed by you; kept (use --force to overwrite)\n")
            continue
        if not item.writes:
            continue
        before = (item.previous_text or "").splitlines(keepends=True)
        after = item.text.splitlines(keepends=True)
        source = "/dev/null" if item.action is FileAction.CREATE else f"a/{item.path}"
        lines = list(difflib.unified_diff(before, after, source, f"b/{item.path}"))
        if not lines:
            lines = [f"--- {source}\n", f"+++ b/{item.path}\n", "(empty file)\n"]
        chunks.append("".join(line if line.endswith("\n") else line + "\n" for line in lines))
    return "".join(chunks)


def _plan_file(root: Path, item: GeneratedFile, manifest: Manifest, force: bool) -> PlannedFile:
    path = root / item.path
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return PlannedFile(item.path, item.text, item.schema, FileAction.CREATE, None)
    except OSError:
        raw = None
    previous = _decode(raw)
    if previous == item.text:
        return PlannedFile(item.path, item.text, item.schema, FileAction.UNCHANGED, previous)
    owned = raw is not None and manifest.files.get(item.path) == text_digest(raw)
    if item.path == GITIGNORE_PATH or owned:
        return PlannedFile(item.path, item.text, item.schema, FileAction.UPDATE, previous)
    action = FileAction.OVERWRITE if force else FileAction.KEEP
    return PlannedFile(item.path, item.text, item.schema, action, previous)


def _no_longer_generated(
    root: Path, manifest: Manifest, planned: set[str]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``(removed, stale)``: the manifest's files the plan no longer generates, split into
    those still as the generator wrote them and those the user changed (absent ones drop)."""
    removed: list[str] = []
    stale: list[str] = []
    for path, digest in sorted(manifest.files.items()):
        if path in planned:
            continue
        on_disk = _digest_on_disk(root, path)
        if on_disk == digest:
            removed.append(path)
        elif on_disk is not None:
            stale.append(path)
    return tuple(removed), tuple(stale)


def _digest_on_disk(root: Path, relative: str) -> str | None:
    """The digest of the regular file ``root/relative`` (``None``: absent, unreadable, or
    not a plain file inside the workspace)."""
    try:
        path = resolve_for_write(root, relative)
        return text_digest(path.read_bytes()) if path.is_file() else None
    except (UnsafePathError, OSError):
        return None


def _decode(raw: bytes | None) -> str | None:
    if raw is None:
        return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _gitignore(root: Path) -> GeneratedFile | None:
    """``.gitignore`` with ``.uet/`` appended when it does not ignore it yet (``None``: it
    exists but cannot be read as text, so it is left alone)."""
    try:
        current = (root / GITIGNORE_PATH).read_text(encoding="utf-8")
    except FileNotFoundError:
        current = ""
    except (OSError, UnicodeDecodeError):
        return None
    if _IGNORES_UET.search(current):
        return GeneratedFile(GITIGNORE_PATH, current, None)
    separator = "" if not current or current.endswith("\n") else "\n"
    spacer = "\n" if current else ""
    return GeneratedFile(GITIGNORE_PATH, f"{current}{separator}{spacer}{_GITIGNORE_BLOCK}", None)


def _validate(item: GeneratedFile) -> list[Problem]:
    """Problems of a generated artifact (any is a generator bug, reported not raised)."""
    if item.schema is None:
        return []
    checked = check_artifact_text(item.text, item.path, item.schema)
    return list(checked.problems)
