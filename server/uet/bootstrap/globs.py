"""Fast matching of gitignore-style globs against workspace-relative POSIX paths.

Profiles and probes use gitignore syntax (``*.tf`` matches at any depth, ``/pyproject.toml``
only at the root, ``docs/**/*.md`` under ``docs``). ``pathspec`` compiles each glob to a
regex; calling those regexes directly, instead of ``PathSpec.match_file`` (which normalises
every path first), keeps a 2,000-file scan with dozens of globs well under the time budget.
Our paths are already normalised (relative, ``/`` separators, no ``./``). Globs come from
workspaces (profile extensions), so their regexes run on RE2 (``workspace_regex``): a glob
such as ``*a*a*a*a*a*a*b`` backtracks for seconds per path on ``re``, linear time on RE2.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import pathspec

from uet.bootstrap.workspace_regex import RefusedPattern, StrMatch, compile_str

__all__ = ["GlobMatcher", "compile_globs"]


@dataclass(frozen=True, slots=True)
class GlobMatcher:
    """Compiled globs; calling it answers "does the path match?" (the last matching glob
    decides, so ``!pattern`` excludes, as in ``.gitignore``)."""

    patterns: tuple[tuple[StrMatch, bool], ...]

    def __call__(self, path: str) -> bool:
        matched = False
        for regex, include in self.patterns:
            if matched != include and regex.match(path) is not None:
                matched = include
        return matched


@lru_cache(maxsize=1024)
def compile_globs(globs: tuple[str, ...]) -> GlobMatcher:
    """The matcher for ``globs`` (cached: profiles reuse the same tuples)."""
    spec = pathspec.PathSpec.from_lines("gitignore", globs)
    compiled: list[tuple[StrMatch, bool]] = []
    for pattern in spec.patterns:
        regex = getattr(pattern, "regex", None)
        include = getattr(pattern, "include", None)
        if isinstance(regex, re.Pattern) and include is not None:
            try:
                compiled.append((compile_str(regex.pattern), bool(include)))
            except RefusedPattern:
                continue  # pathspec writes plain regexes; a glob RE2 refuses matches nothing
    return GlobMatcher(tuple(compiled))
