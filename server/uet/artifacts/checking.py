"""One call from text or path to every per-file diagnostic: load, associate, validate.

``check_text`` / ``check_file`` are what the CLI, the bootstrap, the engine and the
language server use; cross-artifact checks run on top of their reports (``index``).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePath

from uet.artifacts.association import Association, AssociationSettings, associate
from uet.artifacts.diagnostics import Diagnostic, Severity
from uet.artifacts.facts import FileFacts, extract_facts
from uet.artifacts.loader import DEFAULT_MAX_FILE_BYTES, ParsedFile, load_path, load_text
from uet.artifacts.registry import SchemaRegistry, bundled_registry
from uet.artifacts.validation import validate_document

__all__ = ["CheckSettings", "FileReport", "check_file", "check_parsed", "check_text"]


@dataclass(frozen=True, slots=True)
class CheckSettings:
    """What per-file checking depends on besides the file itself."""

    associations: AssociationSettings = field(default_factory=AssociationSettings)
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES


@dataclass(slots=True, eq=False)
class FileReport:
    """The result of checking one file."""

    path: str
    parsed: ParsedFile
    association: Association
    diagnostics: list[Diagnostic]
    _facts: FileFacts | None = field(default=None, repr=False)

    @property
    def facts(self) -> FileFacts:
        """What the file defines and references (computed once: a language server asks
        for it in the worker thread that checked the file, not on its event loop)."""
        if self._facts is None:
            self._facts = extract_facts(self.path, self.schema, self.parsed.documents)
        return self._facts

    @property
    def schema(self) -> str | None:
        """The schema the file was checked against (``None``: not an artifact)."""
        return self.association.schema

    @property
    def value(self) -> object:
        """Plain value of the first document (``None`` after a syntax error)."""
        return self.parsed.value

    @property
    def ok(self) -> bool:
        """True when no diagnostic is an error."""
        return not any(item.severity is Severity.ERROR for item in self.diagnostics)

    def format_lines(self, display_path: str | None = None) -> list[str]:
        """``path:line:col: severity CODE message`` lines (1-based, code-point columns)."""
        shown = display_path if display_path is not None else self.path
        index = self.parsed.line_index
        lines = []
        for item in self.diagnostics:
            start = index.position(item.span.start)
            lines.append(
                f"{shown}:{start.line + 1}:{start.column + 1}: "
                f"{item.severity.label} {item.code} {item.message}"
            )
        return lines


def check_parsed(
    parsed: ParsedFile,
    relative_path: str,
    schema: str | None = None,
    *,
    registry: SchemaRegistry | None = None,
    settings: CheckSettings | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> FileReport:
    """Associate and validate an already-parsed file (``cancelled``: see
    ``validate_document``)."""
    registry = registry or bundled_registry()
    settings = settings or CheckSettings()
    if schema is not None:
        name = registry.lookup(schema)
        if name is None:
            raise KeyError(schema)
        association = Association(name, f"{name} was requested explicitly", "forced")
    else:
        association = associate(parsed, relative_path, registry, settings.associations)
    diagnostics = list(parsed.problems)
    if association.problem is not None:
        diagnostics.append(association.problem)
    if association.schema is not None:
        for document in parsed.documents:
            diagnostics.extend(validate_document(document, association.schema, registry, cancelled))
    elif association.problem is None:
        diagnostics = []  # not an artifact: its syntax is the editor's JSON/YAML tooling's job
    diagnostics.sort(key=lambda item: (item.span.start, item.code))
    return FileReport(parsed.path, parsed, association, diagnostics)


def check_text(
    text: str,
    path: str,
    schema: str | None = None,
    *,
    registry: SchemaRegistry | None = None,
    settings: CheckSettings | None = None,
    relative_path: str | None = None,
) -> FileReport:
    """Check an in-memory text as if it were the file ``path``."""
    parsed = load_text(text, path)
    return check_parsed(
        parsed, relative_path or _posix(path), schema, registry=registry, settings=settings
    )


def check_file(
    path: Path | str,
    schema: str | None = None,
    *,
    registry: SchemaRegistry | None = None,
    settings: CheckSettings | None = None,
    root: Path | None = None,
) -> FileReport:
    """Read and check ``path``; ``root`` makes association globs relative to a workspace."""
    path = Path(path)
    settings = settings or CheckSettings()
    parsed = load_path(path, max_bytes=settings.max_file_bytes)
    relative = _posix(path)
    if root is not None:
        # realpath, not Path.resolve: a symbolic link loop is reported by the loader,
        # it must not raise here (Python before 3.13 raises RuntimeError for one).
        try:
            relative = Path(os.path.realpath(path)).relative_to(root.resolve()).as_posix()
        except ValueError:
            relative = _posix(path)
    return check_parsed(parsed, relative, schema, registry=registry, settings=settings)


def _posix(path: str | PurePath) -> str:
    return PurePath(path).as_posix()
