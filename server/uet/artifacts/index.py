"""The workspace index: every artifact's report and facts, and the cross-file diagnostics.

Incremental by construction: ``update`` re-extracts the facts of one file and returns the
files whose cross-file diagnostics may have changed — the file itself, files that refer to
an id it started or stopped defining, and files that define the same id. Only those are
re-checked, lazily: their cross-file diagnostics are computed when next asked for, so
indexing 10,000 files checks each once, not once per file added. Task ids are scoped to
their workstream, so editing tasks never fans out.

Workspaces are separate: every file belongs to one workspace (``apply``'s ``scopes``: the
nearest folder with a project profile or ``.uet/`` owns its files, see
``uet.artifacts.workspace``), and ids are unique and looked up only inside their
workspace, so two projects in one repository never see each other's ids.

Bounded for big workspaces: what several diagnostics share (the known ids of a kind and
their did-you-mean suggester, the first definitions of a duplicate id) is computed once
per change of the index, and each diagnostic carries at most ``MAX_RELATED`` locations
and ``MAX_SHOWN_IDS`` ids, however many files define or miss an id.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from uet.artifacts.checking import FileReport
from uet.artifacts.diagnostics import Diagnostic, Related, Severity
from uet.artifacts.facts import (
    APP,
    MAX_RELATED,
    PHASE,
    PROFILE,
    TASK,
    WORKSTREAM,
    FileFacts,
    Reference,
    Symbol,
    listing,
    shorten,
)
from uet.artifacts.positions import Span
from uet.artifacts.suggestions import Suggester

__all__ = ["Located", "WorkspaceIndex"]

_GLOBAL_KINDS = (WORKSTREAM, PHASE, APP, PROFILE)
_UNIQUE_KINDS = (WORKSTREAM, PHASE, PROFILE)

Key = tuple[str, str, str]  # (workspace, kind, id)
KindKey = tuple[str, str]  # (workspace, kind)


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
        self._referrers_by_kind: dict[KindKey, set[str]] = defaultdict(set)
        self._definition_count: dict[KindKey, int] = defaultdict(int)
        self._workspaces: dict[str, str] = {}  # path → its workspace ("" when not told)
        self._cross: dict[str, list[Diagnostic]] = {}  # computed on demand, see _recheck
        self._sites: dict[str, dict[Key, list[Span]]] = {}  # global definitions per file
        # Shared by the cross-file diagnostics of one state of the index; cleared on change.
        self._known_memo: dict[KindKey, tuple[list[str], Suggester]] = {}
        self._sites_memo: dict[Key, tuple[int, list[tuple[str, Span]]]] = {}

    # -- updates -----------------------------------------------------------------------

    def update(self, report: FileReport) -> set[str]:
        """Add or replace one file; returns every path whose diagnostics may have changed."""
        return self.apply([report])

    def remove(self, path: str) -> set[str]:
        """Forget a deleted (or no longer associated) file; returns the affected paths."""
        return self.apply((), [path])

    def apply(
        self,
        reports: Iterable[FileReport],
        removed: Iterable[str] = (),
        scopes: Mapping[str, str] | None = None,
    ) -> set[str]:
        """Add or replace ``reports`` and forget ``removed`` as one change; returns every
        path whose diagnostics may have changed (the removed ones included).

        ``scopes`` maps paths (indexed or not yet) to their workspace, an opaque name
        (the owning folder); a path keeps its workspace until told another, and one never
        told is in the workspace ``""``. Ids are unique, and found, only inside their
        workspace.

        The files affected are looked up once per id the change touches, not once per
        file: indexing N files that share an id costs N, where N updates cost N²."""
        change = _Change()
        for path, workspace in (scopes or {}).items():
            if self._workspaces.get(path, "") == workspace:
                continue
            facts = self._facts.get(path)
            if facts is not None:
                self._replace(path, None, change)
            self._workspaces[path] = workspace
            if facts is not None:
                self._replace(path, facts, change)
        for report in reports:
            self._replace(report.path, report.facts, change)
            self._reports[report.path] = report
        for path in removed:
            if path in self._reports:
                self._replace(path, None, change)
                del self._reports[path]
            self._workspaces.pop(path, None)
        affected = self._affected(change)
        self._recheck(affected)
        return affected

    def _affected(self, change: _Change) -> set[str]:
        affected = set(change.paths)
        for key in change.defined:
            affected |= self._referrers.get(key, set())
            affected |= self._definers.get(key, set())
        for key in change.redefined - change.defined:
            if len(self._definers.get(key, ())) > 1:
                affected |= self._definers[key]
        for kind_key in change.flipped:
            affected |= self._referrers_by_kind.get(kind_key, set())
        return {item for item in affected if item in self._facts or item in change.paths}

    def _replace(self, path: str, new: FileFacts | None, change: _Change) -> None:
        self._known_memo.clear()
        self._sites_memo.clear()
        workspace = self._workspaces.get(path, "")
        self._sites.pop(path, None)
        if new is not None:
            self._sites[path] = _global_sites(new, workspace)
        old = self._facts.pop(path, None)
        old_defs = _global_definitions(old, workspace)
        new_defs = _global_definitions(new, workspace)
        kinds_before = {key[:2] for key in old_defs}
        for key in old_defs:
            self._definers[key].discard(path)
            self._definition_count[key[:2]] -= 1
        for key in _global_references(old, workspace):
            self._referrers[key].discard(path)
        if old is not None:
            for reference in old.references:
                self._referrers_by_kind[(workspace, reference.kind)].discard(path)
        flipped: set[KindKey] = set()
        for kind_key in kinds_before:
            if self._definition_count[kind_key] == 0:
                flipped.add(kind_key)
        if new is not None:
            self._facts[path] = new
            for key in new_defs:
                if self._definition_count[key[:2]] == 0:
                    flipped.add(key[:2])
                self._definers[key].add(path)
                self._definition_count[key[:2]] += 1
            for key in _global_references(new, workspace):
                self._referrers[key].add(path)
            for reference in new.references:
                self._referrers_by_kind[(workspace, reference.kind)].add(path)
        change.paths.add(path)
        change.defined |= old_defs ^ new_defs
        change.redefined |= old_defs & new_defs
        change.flipped |= flipped

    def _recheck(self, paths: Iterable[str]) -> None:
        """Forget the cross-file diagnostics of ``paths``; ``diagnostics`` recomputes them."""
        for path in paths:
            self._cross.pop(path, None)

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

    def workspace_of(self, path: str) -> str:
        """The workspace ``path`` belongs to (``apply``'s ``scopes``)."""
        return self._workspaces.get(path, "")

    def _in_workspaces(self, workspace: str | None) -> Iterable[str]:
        if workspace is not None:
            return (workspace,)
        return sorted({"", *self._workspaces.values()})

    def diagnostics(self, path: str) -> list[Diagnostic]:
        """Per-file, single-file cross and workspace cross diagnostics of ``path``."""
        report = self._reports.get(path)
        if report is None:
            return []
        facts = self._facts.get(path)
        items = list(report.diagnostics)
        if facts is not None:
            items.extend(facts.local_diagnostics)
            cross = self._cross.get(path)
            if cross is None:
                cross = self._cross[path] = self._cross_diagnostics(facts)
            items.extend(cross)
        items.sort(key=lambda item: (item.span.start, item.code))
        return items

    def definitions(
        self, kind: str, identifier: str, scope: str = "", workspace: str | None = None
    ) -> list[Located]:
        """Where ``identifier`` is defined. Task ids are scoped to their workstream file:
        for tasks ``scope`` is that file's path (two files sharing a ``workstream_id`` are
        still two workstreams, UET301). Other ids are looked up in ``workspace`` (``None``:
        in every workspace)."""
        if kind == TASK:
            facts = self._facts.get(scope)
            if facts is None:
                return []
            return [
                Located(scope, symbol)
                for symbol in facts.symbols
                if symbol.kind == TASK and symbol.id == identifier
            ]
        definers: set[str] = set()
        for name in self._in_workspaces(workspace):
            definers |= self._definers.get((name, kind, identifier), set())
        return [
            Located(path, symbol)
            for path in sorted(definers)
            for symbol in self._facts[path].symbols
            if symbol.kind == kind and symbol.id == identifier
        ]

    def references(
        self, kind: str, identifier: str, scope: str = "", workspace: str | None = None
    ) -> list[Located]:
        """Every use of ``identifier`` (tasks: within the workstream file ``scope``; other
        ids: within ``workspace``, ``None`` for every workspace)."""
        if kind == TASK:
            paths: Iterable[str] = [scope] if scope in self._facts else []
        else:
            referrers: set[str] = set()
            for name in self._in_workspaces(workspace):
                referrers |= self._referrers.get((name, kind, identifier), set())
            paths = sorted(referrers)
        return [
            Located(path, reference)
            for path in paths
            for reference in self._facts[path].references
            if reference.kind == kind and reference.id == identifier
        ]

    def ids(self, kind: str, scope: str | None = None, workspace: str | None = None) -> list[str]:
        """Known ids of ``kind`` (profiles include the built-in ones), for completion;
        tasks: those of the workstream file ``scope``; others: those of ``workspace``
        (``None``: of every workspace)."""
        if kind == TASK and scope is not None:
            facts = self._facts.get(scope)
            symbols = facts.symbols if facts is not None else []
            return sorted({symbol.id for symbol in symbols if symbol.kind == TASK})
        found: set[str] = set()
        for path, facts in self._facts.items():
            if workspace is not None and self._workspaces.get(path, "") != workspace:
                continue
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
        workspace = self._workspaces.get(facts.path, "")
        for symbol in facts.symbols:
            if symbol.kind in _UNIQUE_KINDS:
                diagnostics.extend(self._duplicates(facts.path, workspace, symbol))
        for reference in facts.references:
            diagnostic = self._unknown(workspace, reference)
            if diagnostic is not None:
                diagnostics.append(diagnostic)
        return diagnostics

    def _duplicates(self, path: str, workspace: str, symbol: Symbol) -> list[Diagnostic]:
        count, sites = self._definition_sites((workspace, symbol.kind, symbol.id))
        if count < 2:
            return []
        others = [site for site in sites if site != (path, symbol.span)][:MAX_RELATED]
        related = tuple(Related(where, span, "also defined here") for where, span in others)
        return [
            Diagnostic(
                symbol.span,
                Severity.ERROR,
                "UET301",
                f"duplicate {symbol.kind} id '{shorten(symbol.id)}' (defined {count} times)",
                data={"id": symbol.id, "kind": symbol.kind},
                related=related,
            )
        ]

    def _definition_sites(self, key: Key) -> tuple[int, list[tuple[str, Span]]]:
        """How often ``key`` is defined, and its first ``MAX_RELATED + 1`` definitions
        (by path): enough for every definer's related list, whichever one it is."""
        found = self._sites_memo.get(key)
        if found is None:
            definers = self._definers.get(key, set())
            count = sum(len(self._sites[path][key]) for path in definers)
            sites: list[tuple[str, Span]] = []
            for path in heapq.nsmallest(MAX_RELATED + 1, definers):
                sites.extend((path, span) for span in self._sites[path][key])
            found = self._sites_memo[key] = (count, sites[: MAX_RELATED + 1])
        return found

    def _unknown(self, workspace: str, reference: Reference) -> Diagnostic | None:
        kind, identifier = reference.kind, reference.id
        defined = self._definers.get((workspace, kind, identifier))
        if kind == PHASE:
            if self._definition_count[(workspace, PHASE)] == 0 or defined:
                return None
            return self._unknown_diagnostic(workspace, reference, "UET304", "phase")
        if kind == APP and reference.property == "tool":
            if self._definition_count[(workspace, APP)] == 0 or defined:
                return None
            return self._unknown_diagnostic(workspace, reference, "UET305", "app")
        if kind == PROFILE:
            if identifier in self._builtin_profiles or defined:
                return None
            return self._unknown_diagnostic(workspace, reference, "UET306", "profile")
        return None

    def _known(self, workspace: str, kind: str) -> tuple[list[str], Suggester]:
        """The ids of a global ``kind`` defined in ``workspace``, sorted, and their
        did-you-mean."""
        found = self._known_memo.get((workspace, kind))
        if found is None:
            known = {
                identifier
                for (owner, defined, identifier), paths in self._definers.items()
                if owner == workspace and defined == kind and paths
            }
            if kind == PROFILE:
                known |= self._builtin_profiles
            ordered = sorted(known)
            found = self._known_memo[(workspace, kind)] = (ordered, Suggester(ordered))
        return found

    def _unknown_diagnostic(
        self, workspace: str, reference: Reference, code: str, noun: str
    ) -> Diagnostic:
        known, suggester = self._known(workspace, reference.kind)
        guess = suggester(reference.id)
        hint = f"; did you mean '{guess}'?" if guess else ""
        return Diagnostic(
            reference.span,
            Severity.ERROR,
            code,
            f"{reference.property} names unknown {noun} '{shorten(reference.id)}'{hint} "
            f"(known: {listing(known)})",
            data={"id": reference.id, "suggestion": guess},
        )


def _global_sites(facts: FileFacts, workspace: str) -> dict[Key, list[Span]]:
    """Where ``facts`` defines each workspace-wide id."""
    sites: dict[Key, list[Span]] = defaultdict(list)
    for symbol in facts.symbols:
        if symbol.kind in _GLOBAL_KINDS:
            sites[(workspace, symbol.kind, symbol.id)].append(symbol.span)
    return dict(sites)


@dataclass(slots=True)
class _Change:
    """What one ``apply`` touched: its files, the ids they started or stopped defining,
    the ids they define still, and the kinds that gained their first or lost their last
    definition."""

    paths: set[str] = field(default_factory=set)
    defined: set[Key] = field(default_factory=set)
    redefined: set[Key] = field(default_factory=set)
    flipped: set[KindKey] = field(default_factory=set)


def _global_definitions(facts: FileFacts | None, workspace: str) -> set[Key]:
    if facts is None:
        return set()
    return {
        (workspace, symbol.kind, symbol.id)
        for symbol in facts.symbols
        if symbol.kind in _GLOBAL_KINDS
    }


def _global_references(facts: FileFacts | None, workspace: str) -> set[Key]:
    if facts is None:
        return set()
    return {
        (workspace, reference.kind, reference.id)
        for reference in facts.references
        if reference.kind in _GLOBAL_KINDS
    }
