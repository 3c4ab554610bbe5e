"""Typed errors of ``uet.bootstrap``.

Broken user input (an invalid profile extension, an unreadable file, a hostile template path)
is returned as data (``Problem`` records), never raised. Exceptions are kept for requests
the caller cannot continue from::

    BootstrapError                  base class; the CLI prints ``str(error)`` and exits 2
    ├── UnsafePathError             a write would leave the workspace (``..``, absolute
    │                               path, escaping or replaced symbolic link)
    ├── UnknownProfileError         ``--profile`` names no loaded profile
    └── WorkspaceError              the workspace folder is missing or not a directory
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

__all__ = [
    "BootstrapError",
    "Problem",
    "ProblemLevel",
    "UnknownProfileError",
    "UnsafePathError",
    "WorkspaceError",
]


class BootstrapError(Exception):
    """Base class of the errors ``uet.bootstrap`` raises."""


class UnsafePathError(BootstrapError):
    """A path given to the writer would resolve outside the workspace or through a link."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"refusing to write {path!r}: {reason}")
        self.path = path
        self.reason = reason


class UnknownProfileError(BootstrapError):
    """The requested profile id is not among the loaded profiles."""

    def __init__(self, profile_id: str, known: list[str]) -> None:
        super().__init__(
            f"unknown profile {profile_id!r}; known profiles: {', '.join(sorted(known))}"
        )
        self.profile_id = profile_id
        self.known = tuple(sorted(known))


class WorkspaceError(BootstrapError):
    """The workspace folder cannot be used at all."""


class ProblemLevel(Enum):
    """How bad a ``Problem`` is (the CLI prints the value)."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True, slots=True)
class Problem:
    """Something wrong with the user's input, reported instead of raised.

    ``path`` is workspace-relative (POSIX separators) when the problem is in the workspace,
    or a short label such as ``builtin:operations/profile.json`` for bundled data. ``code``
    is the diagnostic code when the problem has its own (``uet doctor`` reports the others
    of a profile as UET509).
    """

    level: ProblemLevel
    path: str
    message: str
    code: str | None = None

    def format(self) -> str:
        """One line for the CLI: ``path: level: [code ]message``."""
        code = f"{self.code} " if self.code else ""
        return f"{self.path}: {self.level.value}: {code}{self.message}"
