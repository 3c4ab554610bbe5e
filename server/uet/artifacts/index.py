"""The workspace index: every artifact's report and facts, and the cross-file diagnostics.

Incremental by construction: ``update`` re-extracts the facts of one file and returns the
files whose cross-file diagnostics may have changed — the file itself, files that refer to
an id it started or stopped defining, and files that define the same id. Only those are
re-checked. Task ids are scoped to their workstream, so editing tasks never fans out.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from uet.artifacts.checking import FileReport
from uet.artifacts.diagnostics import Diagnostic, Related, Severity
from uet.artifacts.facts import (
    APP,
    PHASE,
    PROFILE,
    TASK,
    WORKSTREAM,
    FileFacts,
    Reference,
    Symbol,
    suggest,
)

__all__ = ["Located", "WorkspaceIndex"]

_GLOBAL_KINDS = (WORKSTREAM, PHASE, APP, PROFILE)
_UNIQUE_KINDS = (WORKSTREAM, PHASE, PROFILE)

Key = tuple[str, str]


@dataclass(frozen=True, slots=True)
class Located:
    """A symbol or reference together with the file holding it."""

    path: str
    item: Symbol | Reference


class WorkspaceIndex:
    """Reports, facts and cross-file diagnostics of every artifact in a workspace.

    Not thread-safe: the owner serialises updates (the language server does them on its
    event loop; the CLI builds it once).
    """

    def __init__(self, known_profiles: Iterable[str] = ()) -> None:
        self._builtin_profiles = frozenset(known_profiles)
        self._reports: dict[str, FileReport] = {}
        self._facts: dict[str, FileFacts] = {}
        self._definers: dict[Key, set[str]] = defaultdict(set)
        self._referrers: dict[Key, set[str]] = defaultdict(set)
        self._referrers_by_kind: dict[str, set[str]] = defaultdict(set)
        self._definition_count: dict[str, int] = defaultdict(int)
        self._cross: dict[str, list[Diagnostic]] = {}

    # -- updates -----------------------------------------------------------------------

    def update(self, report: FileReport) -> set[str]:
        """Add or replace one file; returns every path whose diagnostics may have changed."""
        path = report.path
        affected = self._replace(path, report.facts)
        self._reports[path] = report
        self._recheck(affected)
        return affected

    def remove(self, path: str) -> set[str]:
        """Forget a deleted (or no longer associated) file; returns the affected paths."""
        if path not in self._reports:
            return set()
        affected = self._replace(path, None)
        del self._reports[path]
        self._cross.pop(path, None)
        affected.discard(path)
        self._recheck(affected)
        return affected | {path}

    def _replace(self, path: str, new: FileFacts | None) -> set[str]:
        old = self._facts.pop(path, None)
        old_defs = _global_definitions(old)
        new_defs = _global_definitions(new)
        kinds_before = {kind for kind, _ in old_defs}
        for key in old_defs:
            self._definers[key].discard(path)
            self._definition_count[key[0]] -= 1
        for key in _global_references(old):
            self._referrers[key].discard(path)
        if old is not None:
            for reference in old.references:
                self._referrers_by_kind[reference.kind].discard(path)
        flipped: set[str] = set()
        for kind in kinds_before:
            if self._definition_count[kind] == 0:
                flipped.add(kind)
        if new is not None:
            self._facts[path] = new
            for key in new_defs:
                if self._definition_count[key[0]] == 0:
                    flipped.add(key[0])
                self._definers[key].add(path)
                self._definition_count[key[0]] += 1
            for key in _global_references(new):
                self._referrers[key].add(path)
            for reference in new.references:
                self._referrers_by_kind[reference.kind].add(path)
        affected = {path}
        for key in old_defs ^ new_defs:
            affected |= self._referrers.get(key, set())
            affected |= self._definers.get(key, set())
        for key in old_defs & new_defs:
            if len(self._definers.get(key, ())) > 1:
                affected |= self._definers[key]
        for kind in flipped:
            affected |= self._referrers_by_kind.get(kind, set())
        return {item for item in affected if item in self._facts or item == path}

    def _recheck(self, paths: Iterable[str]) -> None:
        for path in paths:
            facts = self._facts.get(path)
            if facts is not None:
                self._cross[path] = self._cross_diagnostics(facts)

    # -- queries -----------------------------------------------------------------------

    def paths(self) -> list[str]:
        """Every indexed path, sorted."""
        return sorted(self._reports)

    def report(self, path: str) -> FileReport | None:
        """The last report of ``path``."""
        return self._reports.get(path)

    def facts(self, path: str) -> FileFacts | None:
        """The symbols and references of ``path``."""
        return self._facts.get(path)

    def diagnostics(self, path: str) -> list[Diagnostic]:
        """Per-file, single-file cross and workspace cross diagnostics of ``path``."""
        report = self._reports.get(path)
        if report is None:
            return []
        facts = self._facts.get(path)
        items = list(report.diagnostics)
        if facts is not None:
            items.extend(facts.local_diagnostics)
        items.extend(self._cross.get(path, ()))
        items.sort(key=lambda item: (item.span.start, item.code))
        return items

    def definitions(self, kind: str, identifier: str, scope: str = "") -> list[Located]:
        """Where ``identifier`` is defined (tasks: within the workstream ``scope``)."""
        if kind == TASK:
            return [
                Located(path, symbol)
                for path, facts in self._facts.items()
                for symbol in facts.symbols
                if symbol.kind == TASK and symbol.id == identifier and symbol.scope == scope
            ]
        return [
            Located(path, symbol)
            for path in sorted(self._definers.get((kind, identifier), ()))
            for symbol in self._facts[path].symbols
            if symbol.kind == kind and symbol.id == identifier
        ]

    def references(self, kind: str, identifier: str, scope: str = "") -> list[Located]:
        """Every use of ``identifier`` (tasks: within the workstream ``scope``)."""
        paths = self._facts.keys() if kind == TASK else self._referrers.get((kind, identifier), ())
        found: list[Located] = []
        for path in sorted(paths):
            for reference in self._facts[path].references:
                if reference.kind != kind or reference.id != identifier:
                    continue
                if kind == TASK and reference.scope != scope:
                    continue
                found.append(Located(path, reference))
        return found

    def ids(self, kind: str, scope: str | None = None) -> list[str]:
        """Known ids of ``kind`` (profiles include the built-in ones), for completion."""
        found: set[str] = set()
        for facts in self._facts.values():
            for symbol in facts.symbols:
                if symbol.kind == kind and (scope is None or symbol.scope == scope):
                    found.add(symbol.id)
        if kind == PROFILE:
            found |= self._builtin_profiles
        return sorted(found)

    def at(self, path: str, offset: int) -> Symbol | Reference | None:
        """The symbol or reference under ``offset`` in ``path`` (for definition/rename)."""
        facts = self._facts.get(path)
        if facts is None:
            return None
        for reference in facts.references:
            if reference.span.contains(offset):
                return reference
        for symbol in facts.symbols:
            if symbol.span.contains(offset):
                return symbol
        return None

    # -- cross-file checks ---------------------------------------------------------------

    def _cross_diagnostics(self, facts: FileFacts) -> list[Diagnostic]:
        diagnostics: list[Diagnostic] = []
        for symbol in facts.symbols:
            if symbol.kind in _UNIQUE_KINDS:
                diagnostics.extend(self._duplicates(facts.path, symbol))
        for reference in facts.references:
            diagnostic = self._unknown(reference)
            if diagnostic is not None:
                diagnostics.append(diagnostic)
        return diagnostics

    def _duplicates(self, path: str, symbol: Symbol) -> list[Diagnostic]:
        others = [
            located
            for located in self.definitions(symbol.kind, symbol.id)
            if located.path != path or located.item.span != symbol.span
        ]
        if not others:
            return []
        related = tuple(
            Related(located.path, located.item.span, "also defined here") for located in others
        )
        return [
            Diagnostic(
                symbol.span,
                Severity.ERROR,
                "UET301",
                f"duplicate {symbol.kind} id '{symbol.id}' (defined {len(others) + 1} times)",
                data={"id": symbol.id, "kind": symbol.kind},
                related=related,
            )
        ]

    def _unknown(self, reference: Reference) -> Diagnostic | None:
        kind, identifier = reference.kind, reference.id
        if kind == PHASE:
            if self._definition_count[PHASE] == 0 or self._definers.get((PHASE, identifier)):
                return None
            return self._unknown_diagnostic(reference, "UET304", "phase", self.ids(PHASE))
        if kind == APP and reference.property == "tool":
            if self._definition_count[APP] == 0 or self._definers.get((APP, identifier)):
                return None
            return self._unknown_diagnostic(reference, "UET305", "app", self.ids(APP))
        if kind == PROFILE:
            known = self.ids(PROFILE)
            if identifier in known:
                return None
            return self._unknown_diagnostic(reference, "UET306", "profile", known)
        return None

    @staticmethod
    def _unknown_diagnostic(
        reference: Reference, code: str, noun: str, known: list[str]
    ) -> Diagnostic:
        guess = suggest(reference.id, known)
        hint = f"; did you mean '{guess}'?" if guess else ""
        shown = ", ".join(known[:10]) + (", ..." if len(known) > 10 else "")
        return Diagnostic(
            reference.span,
            Severity.ERROR,
            code,
            f"{reference.property} names unknown {noun} '{reference.id}'{hint} (known: {shown})",
            data={"id": reference.id, "suggestion": guess, "known": known},
        )


def _global_definitions(facts: FileFacts | None) -> set[Key]:
    if facts is None:
        return set()
    return {(symbol.kind, symbol.id) for symbol in facts.symbols if symbol.kind in _GLOBAL_KINDS}


def _global_references(facts: FileFacts | None) -> set[Key]:
    if facts is None:
        return set()
    return {
        (reference.kind, reference.id)
        for reference in facts.references
        if reference.kind in _GLOBAL_KINDS
    }
